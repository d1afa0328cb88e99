/* unplug:
 * name = "percpu-ref-no-devref"
 * summary = "pre-fix CXL: percpu_ref gate, no driver open(); cdev_device_add() pins the memdev"
 * probe = "cxl_mem_probe"
 * remove = "cxl_mem_remove"
 *
 * [expect]
 * sc = "clean"
 * c11 = "clean"
 */

/*
 * The original CXL design (drivers/cxl/mem.c as "cxl/mem: Register CXL
 * memX devices" merged it for v5.12-rc1), which "cxl/mem: Fix
 * synchronization mechanism for device removal vs ioctl operations"
 * replaced. The ioctl finds the memdev through the file's inode and is
 * gated by percpu_ref_tryget_live(&cxlmd->ops_active); the driver has no
 * open(), so the file takes no device reference of its own. Removal kills
 * the percpu_ref, deletes the cdev and device, waits for the ioctls in
 * flight, clears cxlmd->cxlm and drops the probe's device reference.
 *
 * Verdict: clean. The patch's message calls this design "missing a device
 * reference before accessing the percpu_ref", but the char-device core
 * already pins the memdev for every open file: cdev_device_add() calls
 * cdev_set_parent(&cxlmd->cdev, &cxlmd->dev.kobj) and cdev_add() takes a
 * reference on that parent (fs/char_dev.c); chrdev_open() takes one on the
 * cdev's kobject, which the open file holds until __fput()
 * (fs/file_table.c) calls cdev_put(); only the last cdev reference runs
 * cdev_default_release() and drops the parent. So removal's put_device()
 * is never the last put while a file is open, percpu_ref_tryget_live()
 * after the kill fails, every ioctl past it is waited for through
 * ops_dead, and the driver data is freed only after that. The missing
 * device reference is real only with a bare cdev_add(): see
 * percpu-ref-bare-cdev.c.
 *
 * The twin of scenarios/src/schemes/percpu_ref_no_devref.rs.
 */

struct cxl_mem {
	int payload_size;
};

struct cxl_memdev {
	struct device dev;
	struct cdev cdev;
	struct cxl_mem *cxlm;
	struct percpu_ref ops_active;
	struct completion ops_dead;
	int id;
};

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

/* cxlmdev_ops_active_release(): the last ioctl in flight after the kill. */
static void cxlmdev_ops_active_release(struct percpu_ref *ref)
{
	struct cxl_memdev *cxlmd =
		container_of(ref, struct cxl_memdev, ops_active);

	complete(&cxlmd->ops_dead);
}

/* No open() and no release(): the file takes no device reference. */
static long cxl_memdev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct cxl_memdev *cxlmd;
	struct cxl_mem *cxlm;
	struct inode *inode;
	long rc = -ENXIO;

	inode = file_inode(file);
	cxlmd = container_of(inode->i_cdev, struct cxl_memdev, cdev);

	if (!percpu_ref_tryget_live(&cxlmd->ops_active))
		return -ENXIO;
	cxlm = cxlmd->cxlm;
	if (cxlm)
		rc = cxl_send_cmd(cxlm, arg);
	percpu_ref_put(&cxlmd->ops_active);
	return rc;
}

static const struct file_operations cxl_memdev_fops = {
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
	init_completion(&cxlmd->ops_dead);
	rc = percpu_ref_init(&cxlmd->ops_active, cxlmdev_ops_active_release, 0,
			     GFP_KERNEL);
	if (rc)
		goto err;

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

	percpu_ref_kill(&cxlmd->ops_active);
	cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
	wait_for_completion(&cxlmd->ops_dead);
	cxlmd->cxlm = NULL;
	put_device(&cxlmd->dev);
	/* devres_release_all(parent) then frees cxlm. */
}
