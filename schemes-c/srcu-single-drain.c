/* unplug:
 * name = "srcu-single-drain"
 * summary = "broken SRCU that drains only the old index; two devices share the domain, both removed"
 * probe = "cxl_mem_probe"
 * remove = "cxl_mem_remove"
 *
 * [expect]
 * sc = "use-after-removal"
 * c11 = "use-after-removal"
 * object = "cxlm"
 *
 * [workload]
 * devices = 2
 */

/*
 * srcu-pointer.c's driver, correct as written, on a broken sleepable-RCU
 * domain whose grace period drains only the previously active index. Two
 * memdevs share the domain and both are removed.
 *
 * The domain is written out here, in the shape of the SRCU algorithm of
 * kernel/rcu/srcutree.c (a grace-period counter whose low bit is the
 * current index, a reader count per index, the four full barriers), with
 * the single-drain bug: synchronize flips the index and waits for the old
 * index's readers only. The Rust twin gets the same algorithm from the
 * model's SrcuStruct::new_single_drain(); kernel C has no way to ask for a
 * broken srcu_struct, so the C file carries its own.
 *
 * Verdict: use-after-removal of cxlm, deep. An ioctl on the second device
 * loads the index, stalls across the first device's entire grace period,
 * increments the count of what is now the inactive index, and dereferences
 * the still-published pointer. The second removal's grace period flips and
 * drains the other index, returns at once, and devres frees the driver
 * data under the reader. The real algorithm's first drain (of the inactive
 * index) waits for it.
 *
 * The twin of scenarios/src/schemes/srcu_single_drain.rs.
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

/*
 * The domain: the grace-period counter, whose low bit is the index new
 * readers count under, and one reader count per index
 * (kernel/rcu/srcutree.c keeps the same three things per domain).
 */
static DEFINE_MUTEX(cxl_memdev_srcu_gp_mutex);
static unsigned long cxl_memdev_srcu_completed;
static atomic_t cxl_memdev_srcu_count[2];

static int cxl_memdev_srcu_read_lock(void)
{
	int idx = READ_ONCE(cxl_memdev_srcu_completed) & 0x1;

	/* A reader can stall here, across a whole grace period. */
	atomic_inc(&cxl_memdev_srcu_count[idx]);
	smp_mb();	/* B: pairs with A */
	return idx;
}

static void cxl_memdev_srcu_read_unlock(int idx)
{
	smp_mb();	/* C: pairs with D */
	atomic_dec(&cxl_memdev_srcu_count[idx]);
}

static void cxl_memdev_srcu_drain(int idx)
{
	smp_mb();	/* A: pairs with B */
	while (atomic_read(&cxl_memdev_srcu_count[idx]))
		cpu_relax();
	smp_mb();	/* D: pairs with C */
}

static void cxl_memdev_synchronize_srcu(void)
{
	int idx;

	mutex_lock(&cxl_memdev_srcu_gp_mutex);
	idx = READ_ONCE(cxl_memdev_srcu_completed) & 0x1;
	/*
	 * The bug: srcu_advance_state() first waits for the readers of the
	 * inactive index, idx ^ 1, to drain, because a reader that loaded the
	 * index before the previous flip may only now have counted itself
	 * there. This domain skips that drain.
	 */
	smp_mb();	/* D: the flip comes after the unpublish */
	WRITE_ONCE(cxl_memdev_srcu_completed, cxl_memdev_srcu_completed + 1);
	cxl_memdev_srcu_drain(idx);
	mutex_unlock(&cxl_memdev_srcu_gp_mutex);
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

	idx = cxl_memdev_srcu_read_lock();
	cxlm = rcu_dereference_raw(cxlmd->cxlm);
	if (cxlm)
		rc = cxl_send_cmd(cxlm, arg);
	cxl_memdev_srcu_read_unlock(idx);
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
	rcu_assign_pointer(cxlmd->cxlm, NULL);
	cxl_memdev_synchronize_srcu();
	put_device(&cxlmd->dev);
	/* devres_release_all(parent) then frees cxlm. */
}
