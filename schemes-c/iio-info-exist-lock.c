/* unplug:
 * name = "iio-info-exist-lock"
 * summary = "iio_ioctl(): mutex_lock(info_exist_lock), test indio_dev->info, walk the ioctl handlers; iio_device_unregister(): info = NULL under the mutex"
 * probe = "adc_probe"
 * remove = "adc_remove"
 *
 * [expect]
 * sc = "clean"
 * c11 = "clean"
 *
 * # Each user asks for the buffer's fd, the ioctl the buffer's handler
 * # takes (IIO_BUFFER_GET_FD_IOCTL).
 * [workload]
 * [[workload.user]]
 * ops = [{ op = "open" }, { op = "ioctl", cmd = 0xc0046991 }, { op = "close" }]
 * [[workload.user]]
 * ops = [{ op = "open" }, { op = "ioctl", cmd = 0xc0046991 }, { op = "close" }]
 */

/*
 * The IIO character device (/dev/iio:deviceN) of Linux 5.11, read from
 * torvalds/linux 0207483b22d0: drivers/iio/industrialio-core.c
 * iio_device_alloc(), iio_dev_release(), iio_chrdev_open(),
 * iio_chrdev_release(), iio_device_ioctl_handler_register()/_unregister(),
 * iio_ioctl(), __iio_device_register(), iio_device_unregister(), with
 * 901f84de0e16 ("iio: core: fix ioctl handlers removal") applied: the
 * handlers are unlinked by the code that registered them, not by
 * iio_device_unregister(). The buffer's ioctl handler is registered and
 * freed as drivers/iio/industrialio-buffer.c
 * iio_buffers_alloc_sysfs_and_mask()/iio_buffers_free_sysfs_and_mask()
 * do. The IIO driver is an ADC in the usual non-devm shape: probe
 * allocates and registers the iio_dev, remove unregisters and frees it.
 *
 * Cut: sysfs attributes and channels, debugfs, the event interface,
 * triggers, the buffer's data path (read/poll, the kfifo) and
 * iio_device_buffer_getfd(), the ida of device numbers, the private area
 * at the end of the iio_dev allocation. Kept: every lock, reference and
 * pointer on the path from ioctl() to the buffer's ioctl handler, and
 * removal's order.
 *
 * iio_init() allocates one char-device region for every IIO device;
 * here each device allocates its own number.
 *
 * Verdict: clean. iio_ioctl() walks the handler list and calls the
 * handler with info_exist_lock held and only if indio_dev->info is set;
 * iio_device_unregister() clears info under the same mutex before
 * iio_buffers_free_sysfs_and_mask() unlinks and frees the handler. An
 * ioctl that took the mutex first finished with the handler before
 * unregister got it; one that takes it after finds info NULL. The
 * iio_dev itself is pinned by the cdev and by iio_chrdev_open()'s
 * iio_device_get().
 *
 * iio_ioctl()'s list_for_each_entry() is include/linux/list.h's: the
 * head's next link, then each entry's `entry.next`, until back at
 * &iio_dev_opaque->ioctl_handlers. The workload's ioctl is the buffer's
 * (IIO_BUFFER_GET_FD_IOCTL), as in iio-no-info-exist-lock.c.
 */

#define IIO_BUSY_BIT_POS	1
#define IIO_IOCTL_UNHANDLED	1
#define IIO_BUFFER_GET_FD_IOCTL	0xc0046991

struct iio_dev;

struct iio_ioctl_handler {
	struct list_head entry;
	long (*ioctl)(struct iio_dev *indio_dev, struct file *filp,
		      unsigned int cmd, unsigned long arg);
};

struct iio_info {
	int (*read_raw)(struct iio_dev *indio_dev, int *val, int *val2,
			long mask);
};

struct iio_dev {
	int id;
	unsigned long flags;
	struct device dev;
	struct mutex mlock;
	const struct iio_info *info;
	struct mutex info_exist_lock;
	struct cdev chrdev;
};

struct iio_dev_opaque {
	struct iio_dev indio_dev;
	struct list_head ioctl_handlers;
	struct iio_ioctl_handler *buffer_ioctl_handler;
};

struct iio_dev_buffer_pair {
	struct iio_dev *indio_dev;
};

static int iio_nr_devices;

static struct iio_dev_opaque *to_iio_dev_opaque(struct iio_dev *indio_dev)
{
	return container_of(indio_dev, struct iio_dev_opaque, indio_dev);
}

static struct iio_dev *dev_to_iio_dev(struct device *dev)
{
	return container_of(dev, struct iio_dev, dev);
}

static struct iio_dev *iio_device_get(struct iio_dev *indio_dev)
{
	return indio_dev ? dev_to_iio_dev(get_device(&indio_dev->dev)) : NULL;
}

static void iio_device_put(struct iio_dev *indio_dev)
{
	if (indio_dev)
		put_device(&indio_dev->dev);
}

/* ---- drivers/iio/industrialio-core.c ---- */

static void iio_dev_release(struct device *device)
{
	struct iio_dev *indio_dev = dev_to_iio_dev(device);
	struct iio_dev_opaque *iio_dev_opaque = to_iio_dev_opaque(indio_dev);

	kfree(iio_dev_opaque);
}

/*
 * The kernel's iio_device_type (.name = "iio_device", .release =
 * iio_dev_release) is set as indio_dev->dev.type; device_release() in
 * drivers/base/core.c calls dev->type->release when dev->release is unset.
 * The dialect has no struct device_type: iio_device_alloc() sets
 * dev.release to the same function, which device_release() then calls at
 * the same point, the last put_device().
 */

struct iio_dev *iio_device_alloc(struct device *parent, int sizeof_priv)
{
	struct iio_dev_opaque *iio_dev_opaque;
	struct iio_dev *indio_dev;

	iio_dev_opaque = kzalloc(sizeof(struct iio_dev_opaque), GFP_KERNEL);
	if (!iio_dev_opaque)
		return NULL;

	indio_dev = &iio_dev_opaque->indio_dev;

	indio_dev->dev.parent = parent;
	indio_dev->dev.release = iio_dev_release;	/* dev.type = &iio_device_type */
	device_initialize(&indio_dev->dev);
	mutex_init(&indio_dev->mlock);
	mutex_init(&indio_dev->info_exist_lock);

	indio_dev->id = iio_nr_devices++;
	dev_set_name(&indio_dev->dev, "iio:device%d", indio_dev->id);
	INIT_LIST_HEAD(&iio_dev_opaque->ioctl_handlers);

	return indio_dev;
}

void iio_device_free(struct iio_dev *dev)
{
	if (dev)
		put_device(&dev->dev);
}

static int iio_chrdev_open(struct inode *inode, struct file *filp)
{
	struct iio_dev *indio_dev = container_of(inode->i_cdev,
						struct iio_dev, chrdev);
	struct iio_dev_buffer_pair *ib;

	if (test_and_set_bit(IIO_BUSY_BIT_POS, &indio_dev->flags))
		return -EBUSY;

	iio_device_get(indio_dev);

	ib = kmalloc(sizeof(*ib), GFP_KERNEL);
	if (!ib) {
		iio_device_put(indio_dev);
		clear_bit(IIO_BUSY_BIT_POS, &indio_dev->flags);
		return -ENOMEM;
	}

	ib->indio_dev = indio_dev;

	filp->private_data = ib;

	return 0;
}

static int iio_chrdev_release(struct inode *inode, struct file *filp)
{
	struct iio_dev_buffer_pair *ib = filp->private_data;
	struct iio_dev *indio_dev = container_of(inode->i_cdev,
						struct iio_dev, chrdev);
	kfree(ib);
	clear_bit(IIO_BUSY_BIT_POS, &indio_dev->flags);
	iio_device_put(indio_dev);

	return 0;
}

void iio_device_ioctl_handler_register(struct iio_dev *indio_dev,
				       struct iio_ioctl_handler *h)
{
	struct iio_dev_opaque *iio_dev_opaque = to_iio_dev_opaque(indio_dev);

	list_add_tail(&h->entry, &iio_dev_opaque->ioctl_handlers);
}

void iio_device_ioctl_handler_unregister(struct iio_ioctl_handler *h)
{
	list_del(&h->entry);
}

static long iio_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct iio_dev_buffer_pair *ib = filp->private_data;
	struct iio_dev *indio_dev = ib->indio_dev;
	struct iio_dev_opaque *iio_dev_opaque = to_iio_dev_opaque(indio_dev);
	struct iio_ioctl_handler *h;
	int ret = -ENODEV;

	mutex_lock(&indio_dev->info_exist_lock);

	/**
	 * The NULL check here is required to prevent crashing when a device
	 * is being removed while userspace would still have open file handles
	 * to try to access this device.
	 */
	if (!indio_dev->info)
		goto out_unlock;

	ret = -EINVAL;
	list_for_each_entry(h, &iio_dev_opaque->ioctl_handlers, entry) {
		ret = h->ioctl(indio_dev, filp, cmd, arg);
		if (ret != IIO_IOCTL_UNHANDLED)
			break;
	}

	if (ret == IIO_IOCTL_UNHANDLED)
		ret = -EINVAL;

out_unlock:
	mutex_unlock(&indio_dev->info_exist_lock);

	return ret;
}

static const struct file_operations iio_buffer_fileops = {
	.unlocked_ioctl = iio_ioctl,
	.open = iio_chrdev_open,
	.release = iio_chrdev_release,
};

/* ---- drivers/iio/industrialio-buffer.c ---- */

static long iio_device_buffer_ioctl(struct iio_dev *indio_dev, struct file *filp,
				    unsigned int cmd, unsigned long arg)
{
	if (cmd != IIO_BUFFER_GET_FD_IOCTL)
		return IIO_IOCTL_UNHANDLED;

	/* iio_device_buffer_getfd(indio_dev, arg) */
	return 0;
}

int iio_buffers_alloc_sysfs_and_mask(struct iio_dev *indio_dev)
{
	struct iio_dev_opaque *iio_dev_opaque = to_iio_dev_opaque(indio_dev);
	struct iio_ioctl_handler *h;

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;

	iio_dev_opaque->buffer_ioctl_handler = h;
	h->ioctl = iio_device_buffer_ioctl;
	iio_device_ioctl_handler_register(indio_dev, h);

	return 0;
}

void iio_buffers_free_sysfs_and_mask(struct iio_dev *indio_dev)
{
	struct iio_dev_opaque *iio_dev_opaque = to_iio_dev_opaque(indio_dev);

	iio_device_ioctl_handler_unregister(iio_dev_opaque->buffer_ioctl_handler);
	kfree(iio_dev_opaque->buffer_ioctl_handler);
}

/* ---- drivers/iio/industrialio-core.c: registration and removal ---- */

int iio_device_register(struct iio_dev *indio_dev)
{
	int ret;

	if (!indio_dev->info)
		return -EINVAL;

	ret = iio_buffers_alloc_sysfs_and_mask(indio_dev);
	if (ret)
		return ret;

	cdev_init(&indio_dev->chrdev, &iio_buffer_fileops);

	ret = alloc_chrdev_region(&indio_dev->dev.devt, 0, 1, "iio");
	if (ret < 0)
		goto error_buffer_free_sysfs;

	ret = cdev_device_add(&indio_dev->chrdev, &indio_dev->dev);
	if (ret < 0)
		goto error_buffer_free_sysfs;

	return 0;

error_buffer_free_sysfs:
	iio_buffers_free_sysfs_and_mask(indio_dev);
	return ret;
}

void iio_device_unregister(struct iio_dev *indio_dev)
{
	cdev_device_del(&indio_dev->chrdev, &indio_dev->dev);

	mutex_lock(&indio_dev->info_exist_lock);

	indio_dev->info = NULL;

	mutex_unlock(&indio_dev->info_exist_lock);

	iio_buffers_free_sysfs_and_mask(indio_dev);
}

/* ---- the ADC driver ---- */

static int adc_read_raw(struct iio_dev *indio_dev, int *val, int *val2,
			long mask)
{
	return -EINVAL;
}

static const struct iio_info adc_info = {
	.read_raw = adc_read_raw,
};

static int adc_probe(struct device *dev)
{
	struct iio_dev *indio_dev;
	int ret;

	indio_dev = iio_device_alloc(dev, 0);
	if (!indio_dev)
		return -ENOMEM;

	indio_dev->info = &adc_info;

	ret = iio_device_register(indio_dev);
	if (ret) {
		iio_device_free(indio_dev);
		return ret;
	}

	dev_set_drvdata(dev, indio_dev);
	return 0;
}

static void adc_remove(struct device *dev)
{
	struct iio_dev *indio_dev = dev_get_drvdata(dev);

	iio_device_unregister(indio_dev);
	iio_device_free(indio_dev);
}
