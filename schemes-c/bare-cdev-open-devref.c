/* unplug:
 * name = "bare-cdev-open-devref"
 * summary = "the merged fix with a bare cdev_add(): __fput()'s cdev_put() outlives open()'s device reference"
 * probe = "cxl_mem_probe"
 * remove = "cxl_mem_remove"
 *
 * [expect]
 * sc = "use-after-removal"
 * c11 = "use-after-removal"
 * object = "cxlmd"
 */

/*
 * The merged fix (flag-under-write-lock.c: the pointer cleared under
 * down_write(), the open file pinning the memdev with get_device() in the
 * driver's open()), but with the cdev added by a bare cdev_add() with no
 * parent, as drivers did before cdev_device_add(). Removal deletes the
 * cdev and the device separately.
 *
 * Verdict: use-after-removal of the memdev (cxlmd). The driver's device
 * reference is taken and dropped inside the file's lifetime, but the
 * cdev's own reference outlives it: __fput() (fs/file_table.c) calls the
 * driver's release and only then cdev_put(inode->i_cdev). With no parent,
 * nothing ties the cdev's kobject to the device, so when the last file
 * closes after removal its release (put_device()) runs
 * cxl_memdev_release() and frees cxlmd, and __fput()'s cdev_put() then
 * decrements a kobject inside freed memory. cdev_device_add() closes this:
 * the cdev holds its parent from cdev_add() until cdev_default_release().
 *
 * The twin of scenarios/src/schemes/bare_cdev_open_devref.rs.
 */

struct cxl_mem {
	int payload_size;
};

struct cxl_memdev {
	struct device dev;
	struct cdev cdev;
	struct cxl_mem *cxlm;
	int id;
};

static DECLARE_RWSEM(cxl_memdev_rwsem);

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

	down_read(&cxl_memdev_rwsem);
	cxlm = cxlmd->cxlm;
	if (cxlm)
		rc = cxl_send_cmd(cxlm, arg);
	up_read(&cxl_memdev_rwsem);
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
	cxlmd->cxlm = cxlm;

	cdev_init(&cxlmd->cdev, &cxl_memdev_fops);
	/* The older pattern: no cdev_set_parent(), so the cdev pins nothing. */
	rc = cdev_add(&cxlmd->cdev, dev->devt, 1);
	if (rc)
		goto err;
	rc = device_add(dev);
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

	cdev_del(&cxlmd->cdev);
	device_del(&cxlmd->dev);
	down_write(&cxl_memdev_rwsem);
	cxlmd->cxlm = NULL;
	up_write(&cxl_memdev_rwsem);
	put_device(&cxlmd->dev);
	/* devres_release_all(parent) then frees cxlm. */
}
