/* unplug:
 * name = "percpu-ref-bare-cdev"
 * summary = "the pre-fix percpu_ref gate with a bare cdev_add(): nothing pins the memdev"
 * probe = "cxl_mem_probe"
 * remove = "cxl_mem_remove"
 *
 * [expect]
 * sc = "use-after-removal"
 * c11 = "use-after-removal"
 * object = "cxlmd"
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
 * Here the cdev is added the older way, a bare cdev_add() with no
 * cdev_set_parent(), and the device added separately.
 *
 * Verdict: use-after-removal of the memdev (cxlmd). An open file still
 * holds a reference on the cdev (chrdev_open() -> cdev_get()), but the
 * cdev's kobject has no parent, so cdev_add() took nothing and
 * cdev_default_release() has nothing to drop: the device's count is the
 * probe's alone. Removal's put_device() runs cxl_memdev_release(), which
 * frees cxlmd -- and with it the embedded cdev and ops_active -- while
 * files are open. The next ioctl on such a file calls
 * percpu_ref_tryget_live() on freed memory, and its __fput() calls
 * cdev_put() on a kobject inside freed memory: the "missing device
 * reference" of the fix's message, and the reason cdev_device_add()
 * exists.
 *
 * The twin of scenarios/src/schemes/percpu_ref_bare_cdev.rs.
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

	percpu_ref_kill(&cxlmd->ops_active);
	cdev_del(&cxlmd->cdev);
	device_del(&cxlmd->dev);
	wait_for_completion(&cxlmd->ops_dead);
	cxlmd->cxlm = NULL;
	put_device(&cxlmd->dev);
	/* devres_release_all(parent) then frees cxlm. */
}
