/* unplug:
 * name = "synchronize-under-mutex"
 * summary = "removal holds a mutex across synchronize_srcu(); ioctl takes it in its read section"
 * probe = "cxl_mem_probe"
 * remove = "cxl_mem_remove"
 *
 * [expect]
 * sc = "deadlock"
 * c11 = "deadlock"
 * object = "cxlm_mbox_mutex"
 */

/*
 * Removal holds a driver mutex across synchronize_srcu(), and the ioctl
 * takes the same mutex inside its read-side critical section. The grace
 * period waits for the reader, the reader waits for the mutex, the mutex
 * holder waits for the grace period.
 *
 * Verdict: deadlock (the ioctl blocked on cxlm_mbox_mutex, removal in
 * synchronize_srcu()).
 *
 * The twin of scenarios/src/schemes/synchronize_under_mutex.rs, on the memdev of
 * memdev.rs: cxl_memdev_alloc() and cdev_device_add() in probe, an open
 * file pinning the memdev with get_device(), removal's put_device() last.
 */

struct cxl_mem {
	int payload_size;
};

struct cxl_memdev {
	struct device dev;
	struct cdev cdev;
	struct cxl_mem __rcu *cxlm;
	int id;
};

DEFINE_STATIC_SRCU(cxl_memdev_srcu);
static DEFINE_MUTEX(cxlm_mbox_mutex);

static int cxl_mem_nr;

static void cxl_memdev_release(struct device *dev)
{
	struct cxl_memdev *cxlmd = container_of(dev, struct cxl_memdev, dev);

	kfree(cxlmd);
}

/* The ioctl's real work reads the driver data. */
static long cxl_send_cmd(struct cxl_mem *cxlm, unsigned long arg)
{
	if (cxlm->payload_size < 0)
		return -EINVAL;
	return 0;
}

static int cxl_memdev_open(struct inode *inode, struct file *file)
{
	struct cxl_memdev *cxlmd =
		container_of(inode->i_cdev, struct cxl_memdev, cdev);

	get_device(&cxlmd->dev);
	file->private_data = cxlmd;
	return 0;
}

static int cxl_memdev_release_file(struct inode *inode, struct file *file)
{
	struct cxl_memdev *cxlmd =
		container_of(inode->i_cdev, struct cxl_memdev, cdev);

	put_device(&cxlmd->dev);
	return 0;
}

static long cxl_memdev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct cxl_memdev *cxlmd = file->private_data;
	struct cxl_mem *cxlm;
	long rc = -ENXIO;
	int idx;

	idx = srcu_read_lock(&cxl_memdev_srcu);
	cxlm = srcu_dereference(cxlmd->cxlm, &cxl_memdev_srcu);
	if (cxlm) {
		mutex_lock(&cxlm_mbox_mutex);
		rc = cxl_send_cmd(cxlm, arg);
		mutex_unlock(&cxlm_mbox_mutex);
	}
	srcu_read_unlock(&cxl_memdev_srcu, idx);
	return rc;
}

static const struct file_operations cxl_memdev_fops = {
	.open = cxl_memdev_open,
	.release = cxl_memdev_release_file,
	.unlocked_ioctl = cxl_memdev_ioctl,
};

static int cxl_mem_probe(struct device *parent)
{
	struct cxl_memdev *cxlmd;
	struct cxl_mem *cxlm;
	struct device *dev;
	int rc;

	cxlmd = kzalloc(sizeof(*cxlmd), GFP_KERNEL);
	if (!cxlmd)
		return -ENOMEM;
	cxlmd->id = cxl_mem_nr++;

	dev = &cxlmd->dev;
	device_initialize(dev);
	dev->release = cxl_memdev_release;
	rc = alloc_chrdev_region(&dev->devt, 0, 1, "cxl_mem");
	if (rc)
		goto err;
	rc = dev_set_name(dev, "mem%d", cxlmd->id);
	if (rc)
		goto err;

	/* Driver data: freed by devres when the driver unbinds. */
	cxlm = devm_kzalloc(parent, sizeof(*cxlm), GFP_KERNEL);
	if (!cxlm) {
		rc = -ENOMEM;
		goto err;
	}
	RCU_INIT_POINTER(cxlmd->cxlm, cxlm);

	cdev_init(&cxlmd->cdev, &cxl_memdev_fops);
	rc = cdev_device_add(&cxlmd->cdev, dev);
	if (rc)
		goto err;

	dev_set_drvdata(parent, cxlmd);
	return 0;

err:
	put_device(dev);
	return rc;
}

static void cxl_mem_remove(struct device *parent)
{
	struct cxl_memdev *cxlmd = dev_get_drvdata(parent);

	cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
	mutex_lock(&cxlm_mbox_mutex);
	rcu_assign_pointer(cxlmd->cxlm, NULL);
	synchronize_srcu(&cxl_memdev_srcu);	/* waits for a reader that waits for us */
	mutex_unlock(&cxlm_mbox_mutex);
	put_device(&cxlmd->dev);
	/* devres_release_all(parent) then frees cxlm. */
}
