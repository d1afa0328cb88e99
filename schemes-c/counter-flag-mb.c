/* unplug:
 * name = "counter-flag-mb"
 * summary = "the same counter/flag gate with smp_mb() on both sides"
 * probe = "cxl_mem_probe"
 * remove = "cxl_mem_remove"
 *
 * [expect]
 * sc = "clean"
 * c11 = "clean"
 */

/*
 * counter-flag-no-barrier.c with smp_mb() between each side's store and
 * load. The two barriers forbid store buffering
 * (tools/memory-model/litmus-tests/SB+fencembonceonces.litmus): if
 * removal's count load misses the increment, the ioctl's flag load must
 * see the cleared flag.
 *
 * Verdict: clean under every memory model.
 *
 * The twin of scenarios/src/schemes/counter_flag_mb.rs.
 */

struct cxl_mem {
	int payload_size;
};

struct cxl_memdev {
	struct device dev;
	struct cdev cdev;
	struct cxl_mem *cxlm;
	atomic_t users;
	bool alive;
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
	long rc = -ENXIO;

	atomic_inc(&cxlmd->users);
	smp_mb();	/* pairs with the barrier after removal's flag store */
	if (READ_ONCE(cxlmd->alive))
		rc = cxl_send_cmd(cxlmd->cxlm, arg);
	/*
	 * atomic_dec() orders nothing: without this, the read of *cxlm races
	 * with the free even under sequential consistency.
	 */
	smp_mb__before_atomic();
	atomic_dec(&cxlmd->users);
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
	atomic_set(&cxlmd->users, 0);
	cxlmd->alive = true;

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
	WRITE_ONCE(cxlmd->alive, false);
	smp_mb();	/* orders the flag store before the count load */
	while (atomic_read(&cxlmd->users))
		cpu_relax();
	/* Orders the ioctls' accesses, seen through the poll, before the free. */
	smp_mb();
	put_device(&cxlmd->dev);
	/* devres_release_all(parent) then frees cxlm. */
}
