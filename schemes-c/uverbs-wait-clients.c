/* unplug:
 * name = "uverbs-wait-clients"
 * summary = "uverbs over a driver without disassociate_ucontext: ib_uverbs_remove_one() waits on uverbs_dev->comp until every file is closed"
 * probe = "hw_ib_probe"
 * remove = "hw_ib_remove"
 *
 * [expect]
 * sc = "clean"
 * c11 = "clean"
 */

/*
 * uverbs-disassociate-srcu.c (the RDMA verbs character device of
 * drivers/infiniband/core/, v5.x on) over a hardware driver that does not
 * implement ops.disassociate_ucontext, as many RDMA drivers do not:
 * ib_uverbs_remove_one() then takes its other branch, wait_clients, and
 * removal blocks in wait_for_completion(&uverbs_dev->comp) until the
 * device's refcount -- one for the device, one per open file, taken by
 * atomic_inc_not_zero() in ib_uverbs_open() and dropped in
 * ib_uverbs_release_file() -- reaches zero. This was the only way before
 * disassociation existed, and it is the "wait for the last user" design:
 * removal cannot finish while a file is open.
 *
 * Verdict: clean. ib_dealloc_device() runs only after the last file's
 * release, so no ioctl can reach the driver's state after it is freed; the
 * SRCU domain is still taken by every file operation but never needed.
 * (The price is not a bug the model reports: removal waits for user space
 * to close its files.)
 */

struct ib_device;

struct ib_device_attr {
	int max_qp;
};

struct ib_ucontext;

struct ib_device_ops {
	struct module *owner;
	int (*query_device)(struct ib_device *device,
			    struct ib_device_attr *device_attr);
	void (*disassociate_ucontext)(struct ib_ucontext *ibcontext);
};

struct ib_device {
	struct device dev;
	struct ib_device_ops ops;
	void *uverbs_client_data;
};

struct ib_uverbs_device {
	atomic_t refcount;
	struct completion comp;
	struct device dev;
	struct ib_device __rcu *ib_dev;
	int devnum;
	struct cdev cdev;
	struct srcu_struct disassociate_srcu;
	struct mutex lists_mutex; /* protect lists */
	struct list_head uverbs_file_list;
};

struct ib_uverbs_file {
	struct kref ref;
	struct ib_uverbs_device *device;
	struct list_head list;
};

/* The hardware driver's device, with the ib_device first, as
 * ib_alloc_device() requires. */
struct hw_ib_dev {
	struct ib_device ib_dev;
	int max_qp;
};

static int uverbs_nr_devices;

/* ---- drivers/infiniband/core/device.c ---- */

static void ib_device_release(struct device *device)
{
	struct ib_device *dev = container_of(device, struct ib_device, dev);

	kfree(dev);
}

struct ib_device *_ib_alloc_device(size_t size)
{
	struct ib_device *device;

	device = kzalloc(size, GFP_KERNEL);
	if (!device)
		return NULL;

	device_initialize(&device->dev);
	device->dev.release = ib_device_release;
	return device;
}

/* ib_alloc_device(drv_struct, member) is written out where it is used:
 * container_of(_ib_alloc_device(sizeof(struct drv_struct)), ...). */

void ib_dealloc_device(struct ib_device *device)
{
	put_device(&device->dev);
}

/* ---- drivers/infiniband/core/uverbs_main.c ---- */

static void ib_uverbs_release_dev(struct device *device)
{
	struct ib_uverbs_device *dev =
			container_of(device, struct ib_uverbs_device, dev);

	cleanup_srcu_struct(&dev->disassociate_srcu);
	kfree(dev);
}

static void ib_uverbs_comp_dev(struct ib_uverbs_device *dev)
{
	complete(&dev->comp);
}

void ib_uverbs_release_file(struct kref *ref)
{
	struct ib_uverbs_file *file =
		container_of(ref, struct ib_uverbs_file, ref);
	struct ib_device *ib_dev;
	int srcu_key;

	srcu_key = srcu_read_lock(&file->device->disassociate_srcu);
	ib_dev = srcu_dereference(file->device->ib_dev,
				  &file->device->disassociate_srcu);
	if (ib_dev && !ib_dev->ops.disassociate_ucontext)
		module_put(ib_dev->ops.owner);
	srcu_read_unlock(&file->device->disassociate_srcu, srcu_key);

	if (atomic_dec_and_test(&file->device->refcount))
		ib_uverbs_comp_dev(file->device);

	put_device(&file->device->dev);
	kfree(file);
}

/* A query method, as every method that needs the hardware starts. */
static long uverbs_query_device(struct ib_uverbs_file *ufile)
{
	struct ib_device_attr attr = {};
	struct ib_device *ib_dev;

	ib_dev = srcu_dereference(ufile->device->ib_dev,
				  &ufile->device->disassociate_srcu);
	if (!ib_dev)
		return -EIO;

	return ib_dev->ops.query_device(ib_dev, &attr);
}

/* drivers/infiniband/core/uverbs_ioctl.c */
long ib_uverbs_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct ib_uverbs_file *file = filp->private_data;
	int srcu_key;
	long err;

	srcu_key = srcu_read_lock(&file->device->disassociate_srcu);
	err = uverbs_query_device(file);	/* ib_uverbs_cmd_verbs() */
	srcu_read_unlock(&file->device->disassociate_srcu, srcu_key);
	return err;
}

static int ib_uverbs_open(struct inode *inode, struct file *filp)
{
	struct ib_uverbs_device *dev;
	struct ib_uverbs_file *file;
	struct ib_device *ib_dev;
	int ret;
	int srcu_key;

	dev = container_of(inode->i_cdev, struct ib_uverbs_device, cdev);
	if (!atomic_inc_not_zero(&dev->refcount))
		return -ENXIO;

	get_device(&dev->dev);
	srcu_key = srcu_read_lock(&dev->disassociate_srcu);
	mutex_lock(&dev->lists_mutex);
	ib_dev = srcu_dereference(dev->ib_dev,
				  &dev->disassociate_srcu);
	if (!ib_dev) {
		ret = -EIO;
		goto err;
	}

	file = kzalloc(sizeof(*file), GFP_KERNEL);
	if (!file) {
		ret = -ENOMEM;
		goto err;
	}

	file->device	 = dev;
	kref_init(&file->ref);

	filp->private_data = file;
	list_add_tail(&file->list, &dev->uverbs_file_list);
	mutex_unlock(&dev->lists_mutex);
	srcu_read_unlock(&dev->disassociate_srcu, srcu_key);

	return 0;

err:
	mutex_unlock(&dev->lists_mutex);
	srcu_read_unlock(&dev->disassociate_srcu, srcu_key);
	if (atomic_dec_and_test(&dev->refcount))
		ib_uverbs_comp_dev(dev);

	put_device(&dev->dev);
	return ret;
}

static int ib_uverbs_close(struct inode *inode, struct file *filp)
{
	struct ib_uverbs_file *file = filp->private_data;

	mutex_lock(&file->device->lists_mutex);
	list_del_init(&file->list);
	mutex_unlock(&file->device->lists_mutex);

	kref_put(&file->ref, ib_uverbs_release_file);

	return 0;
}

static const struct file_operations uverbs_fops = {
	.open	 = ib_uverbs_open,
	.release = ib_uverbs_close,
	.unlocked_ioctl = ib_uverbs_ioctl,
};

static int ib_uverbs_add_one(struct ib_device *device)
{
	struct ib_uverbs_device *uverbs_dev;
	int ret;

	uverbs_dev = kzalloc(sizeof(*uverbs_dev), GFP_KERNEL);
	if (!uverbs_dev)
		return -ENOMEM;

	ret = init_srcu_struct(&uverbs_dev->disassociate_srcu);
	if (ret) {
		kfree(uverbs_dev);
		return -ENOMEM;
	}

	device_initialize(&uverbs_dev->dev);
	uverbs_dev->dev.parent = device->dev.parent;
	uverbs_dev->dev.release = ib_uverbs_release_dev;
	atomic_set(&uverbs_dev->refcount, 1);
	init_completion(&uverbs_dev->comp);
	mutex_init(&uverbs_dev->lists_mutex);
	INIT_LIST_HEAD(&uverbs_dev->uverbs_file_list);
	rcu_assign_pointer(uverbs_dev->ib_dev, device);

	uverbs_dev->devnum = uverbs_nr_devices++;
	ret = alloc_chrdev_region(&uverbs_dev->dev.devt, 0, 1,
				  "infiniband_verbs");
	if (ret)
		goto err;
	dev_set_name(&uverbs_dev->dev, "uverbs%d", uverbs_dev->devnum);

	cdev_init(&uverbs_dev->cdev, &uverbs_fops);

	ret = cdev_device_add(&uverbs_dev->cdev, &uverbs_dev->dev);
	if (ret)
		goto err;

	device->uverbs_client_data = uverbs_dev;	/* ib_set_client_data() */
	return 0;

err:
	if (atomic_dec_and_test(&uverbs_dev->refcount))
		ib_uverbs_comp_dev(uverbs_dev);
	wait_for_completion(&uverbs_dev->comp);
	put_device(&uverbs_dev->dev);
	return ret;
}

/* drivers/infiniband/core/uverbs_uapi.c */
void uverbs_disassociate_api_pre(struct ib_uverbs_device *uverbs_dev)
{
	rcu_assign_pointer(uverbs_dev->ib_dev, NULL);

	synchronize_srcu(&uverbs_dev->disassociate_srcu);
}

static void ib_uverbs_free_hw_resources(struct ib_uverbs_device *uverbs_dev,
					struct ib_device *ib_dev)
{
	/* Pending running commands to terminate */
	uverbs_disassociate_api_pre(uverbs_dev);
}

static void ib_uverbs_remove_one(struct ib_device *device, void *client_data)
{
	struct ib_uverbs_device *uverbs_dev = client_data;
	int wait_clients = 1;

	cdev_device_del(&uverbs_dev->cdev, &uverbs_dev->dev);

	if (device->ops.disassociate_ucontext) {
		/* We disassociate HW resources and immediately return.
		 * Userspace will see a EIO errno for all future access.
		 * Upon returning, ib_device may be freed internally and is not
		 * valid any more.
		 * uverbs_device is still available until all clients close
		 * their files, then the uverbs device ref count will be zero
		 * and its resources will be freed.
		 * Note: At this point no more files can be opened since the
		 * cdev was deleted, however active clients can still issue
		 * commands and close their open files.
		 */
		ib_uverbs_free_hw_resources(uverbs_dev, device);
		wait_clients = 0;
	}

	if (atomic_dec_and_test(&uverbs_dev->refcount))
		ib_uverbs_comp_dev(uverbs_dev);
	if (wait_clients)
		wait_for_completion(&uverbs_dev->comp);

	put_device(&uverbs_dev->dev);
}

/* ---- drivers/infiniband/core/device.c: the uverbs client ---- */

int ib_register_device(struct ib_device *device, const char *name,
		       struct device *dma_device)
{
	return ib_uverbs_add_one(device);
}

void ib_unregister_device(struct ib_device *ib_dev)
{
	ib_uverbs_remove_one(ib_dev, ib_dev->uverbs_client_data);
}

/* ---- the hardware driver ---- */

static int hw_ib_query_device(struct ib_device *ibdev,
			      struct ib_device_attr *props)
{
	struct hw_ib_dev *hw = container_of(ibdev, struct hw_ib_dev, ib_dev);

	props->max_qp = hw->max_qp;
	return 0;
}

static int hw_ib_probe(struct device *parent)
{
	struct hw_ib_dev *hw;
	int ret;

	/* ib_alloc_device(hw_ib_dev, ib_dev) */
	hw = container_of(_ib_alloc_device(sizeof(struct hw_ib_dev)),
			  struct hw_ib_dev, ib_dev);
	if (!hw)
		return -ENOMEM;

	hw->ib_dev.dev.parent = parent;
	hw->ib_dev.ops.query_device = hw_ib_query_device;
	hw->max_qp = 64;

	ret = ib_register_device(&hw->ib_dev, "hw_ib%d", parent);
	if (ret) {
		ib_dealloc_device(&hw->ib_dev);
		return ret;
	}

	dev_set_drvdata(parent, hw);
	return 0;
}

static void hw_ib_remove(struct device *parent)
{
	struct hw_ib_dev *hw = dev_get_drvdata(parent);

	ib_unregister_device(&hw->ib_dev);
	ib_dealloc_device(&hw->ib_dev);
}
