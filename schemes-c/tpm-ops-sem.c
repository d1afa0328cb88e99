/* unplug:
 * name = "tpm-ops-sem"
 * summary = "tpm_try_get_ops(): down_read(ops_sem), test chip->ops; tpm_del_char_device(): chip->ops = NULL under down_write()"
 * probe = "ftpm_tee_probe"
 * remove = "ftpm_tee_remove"
 *
 * [expect]
 * sc = "clean"
 * c11 = "clean"
 *
 * # /dev/tpm0 has no ioctl: each user writes a command (tpm_common_write()).
 * [workload]
 * [[workload.user]]
 * ops = [{ op = "open" }, { op = "write", count = 10 }, { op = "close" }]
 * [[workload.user]]
 * ops = [{ op = "open" }, { op = "write", count = 10 }, { op = "close" }]
 */

/*
 * The TPM character device (/dev/tpmN) on the firmware TPM driver, as the
 * kernel has them today:
 *
 *   drivers/char/tpm/tpm-chip.c       tpm_try_get_ops(), tpm_put_ops(),
 *                                     tpm_chip_alloc(), tpm_add_char_device(),
 *                                     tpm_del_char_device(), tpm_chip_unregister()
 *                                     (torvalds/linux 020a0d8feac0)
 *   drivers/char/tpm/tpm-dev.c        tpm_open(), tpm_release()
 *   drivers/char/tpm/tpm-dev-common.c tpm_common_write() (torvalds/linux 0010b838db9f)
 *   drivers/char/tpm/tpm_ftpm_tee.c   ftpm_tee_probe(), ftpm_tee_remove(),
 *                                     ftpm_tee_tpm_op_send()/_recv()
 *                                     (torvalds/linux 07d8004d6fb9)
 *
 * Cut: the TEE session and shared memory, the idr of chip numbers, sysfs,
 * the event log, hwrng, TPM2 spaces and the shutdown command, locality
 * and clock handling in tpm_chip_start(), copy_from_user() and the
 * command's bytes, the read timer. Kept: every lock, reference and
 * pointer on the path from write() to the hardware driver's private data,
 * and removal's order.
 *
 * tpm_init() allocates one char-device region for every chip at module
 * load; here each chip allocates its own number in tpm_chip_alloc().
 *
 * Verdict: clean. Every command goes through tpm_try_get_ops(), which
 * takes chip->ops_sem for reading and fails once chip->ops is NULL;
 * tpm_del_char_device() clears chip->ops under down_write() after
 * cdev_device_del(). When tpm_chip_unregister() returns, no call into
 * ftpm_tee_tpm_ops is running and none can start, so devres may free
 * pvt_data. The chip itself outlives every open file: cdev_device_add()
 * makes the cdev hold chip->dev until the last __fput(), and
 * tpm_try_get_ops() pins it once more for the command.
 */

#define TPM_BUFSIZE		4096
#define MAX_RESPONSE_SIZE	4096

struct tpm_chip;

struct tpm_class_ops {
	int (*recv)(struct tpm_chip *chip, u8 *buf, size_t len);
	int (*send)(struct tpm_chip *chip, u8 *buf, size_t bufsiz, size_t len);
};

struct tpm_chip {
	struct device dev;
	struct cdev cdev;

	/* A driver callback under ops cannot be run unless ops_sem is held
	 * (sometimes implicitly, eg for the sysfs code). ops becomes null
	 * when the driver is unregistered, see tpm_try_get_ops.
	 */
	struct rw_semaphore ops_sem;
	const struct tpm_class_ops *ops;

	struct mutex tpm_mutex;	/* tpm is processing */
	unsigned long is_open;	/* only one allowed */
	int dev_num;		/* /dev/tpm# */
};

/* drivers/char/tpm/tpm-dev.h */
struct file_priv {
	struct tpm_chip *chip;
	struct mutex buffer_mutex;
	ssize_t response_length;
	bool response_read;
	u8 data_buffer[TPM_BUFSIZE];
};

/* drivers/char/tpm/tpm_ftpm_tee.h */
struct ftpm_tee_private {
	struct tpm_chip *chip;
	size_t resp_len;
	u8 resp_buf[MAX_RESPONSE_SIZE];
};

static int tpm_nr_chips;

/* ---- drivers/char/tpm/tpm_ftpm_tee.c: the hardware driver's callbacks ---- */

static int ftpm_tee_tpm_op_recv(struct tpm_chip *chip, u8 *buf, size_t count)
{
	struct ftpm_tee_private *pvt_data = dev_get_drvdata(chip->dev.parent);
	size_t len;

	len = pvt_data->resp_len;
	if (count < len)
		return -EIO;
	pvt_data->resp_len = 0;
	return len;
}

static int ftpm_tee_tpm_op_send(struct tpm_chip *chip, u8 *buf, size_t bufsiz,
				size_t len)
{
	struct ftpm_tee_private *pvt_data = dev_get_drvdata(chip->dev.parent);

	pvt_data->resp_len = 0;
	/* tee_client_invoke_func() runs the command in the TEE. */
	pvt_data->resp_len = len;
	return 0;
}

static const struct tpm_class_ops ftpm_tee_tpm_ops = {
	.recv = ftpm_tee_tpm_op_recv,
	.send = ftpm_tee_tpm_op_send,
};

/* ---- drivers/char/tpm/tpm-chip.c ---- */

int tpm_try_get_ops(struct tpm_chip *chip)
{
	int rc = -EIO;

	get_device(&chip->dev);

	down_read(&chip->ops_sem);
	if (!chip->ops)
		goto out_ops;

	mutex_lock(&chip->tpm_mutex);
	return 0;

out_ops:
	up_read(&chip->ops_sem);
	put_device(&chip->dev);
	return rc;
}

void tpm_put_ops(struct tpm_chip *chip)
{
	mutex_unlock(&chip->tpm_mutex);
	up_read(&chip->ops_sem);
	put_device(&chip->dev);
}

/* drivers/char/tpm/tpm-interface.c tpm_try_transmit(), reduced. */
static ssize_t tpm_transmit(struct tpm_chip *chip, u8 *buf, size_t bufsiz)
{
	int rc;

	rc = chip->ops->send(chip, buf, bufsiz, bufsiz);
	if (rc < 0)
		return rc;
	return chip->ops->recv(chip, buf, bufsiz);
}

static void tpm_dev_release(struct device *dev)
{
	struct tpm_chip *chip = container_of(dev, struct tpm_chip, dev);

	kfree(chip);
}

/* ---- drivers/char/tpm/tpm-dev.c and tpm-dev-common.c ---- */

static int tpm_open(struct inode *inode, struct file *file)
{
	struct tpm_chip *chip;
	struct file_priv *priv;

	chip = container_of(inode->i_cdev, struct tpm_chip, cdev);

	/* It's assured that the chip will be opened just once,
	 * by the check of is_open variable, which is protected
	 * by driver_lock. */
	if (test_and_set_bit(0, &chip->is_open))
		return -EBUSY;

	priv = kzalloc(sizeof(*priv), GFP_KERNEL);
	if (priv == NULL)
		goto out;

	/* tpm_common_open() */
	priv->chip = chip;
	priv->response_read = true;
	mutex_init(&priv->buffer_mutex);
	file->private_data = priv;
	return 0;

out:
	clear_bit(0, &chip->is_open);
	return -ENOMEM;
}

static ssize_t tpm_common_write(struct file *file, const char __user *buf,
				size_t size, loff_t *off)
{
	struct file_priv *priv = file->private_data;
	int ret = 0;

	if (size > TPM_BUFSIZE)
		return -E2BIG;

	mutex_lock(&priv->buffer_mutex);

	if (!priv->response_read && priv->response_length) {
		ret = -EBUSY;
		goto out;
	}

	priv->response_length = 0;
	priv->response_read = false;

	/* atomic tpm command send and result receive. We only hold the ops
	 * lock during this period so that the tpm can be unregistered even if
	 * the char dev is held open.
	 */
	if (tpm_try_get_ops(priv->chip)) {
		ret = -EPIPE;
		goto out;
	}

	ret = tpm_transmit(priv->chip, priv->data_buffer,
			   sizeof(priv->data_buffer));
	tpm_put_ops(priv->chip);

	if (ret > 0) {
		priv->response_length = ret;
		ret = size;
	}
out:
	mutex_unlock(&priv->buffer_mutex);
	return ret;
}

static int tpm_release(struct inode *inode, struct file *file)
{
	struct file_priv *priv = file->private_data;

	/* tpm_common_release() */
	file->private_data = NULL;
	priv->response_length = 0;

	clear_bit(0, &priv->chip->is_open);
	kfree(priv);
	return 0;
}

static const struct file_operations tpm_fops = {
	.open = tpm_open,
	.write = tpm_common_write,
	.release = tpm_release,
};

/* ---- drivers/char/tpm/tpm-chip.c: registration and removal ---- */

struct tpm_chip *tpm_chip_alloc(struct device *pdev,
				const struct tpm_class_ops *ops)
{
	struct tpm_chip *chip;
	int rc;

	chip = kzalloc(sizeof(*chip), GFP_KERNEL);
	if (chip == NULL)
		return ERR_PTR(-ENOMEM);

	mutex_init(&chip->tpm_mutex);
	init_rwsem(&chip->ops_sem);

	chip->ops = ops;

	chip->dev_num = tpm_nr_chips++;

	device_initialize(&chip->dev);

	chip->dev.release = tpm_dev_release;
	chip->dev.parent = pdev;

	rc = alloc_chrdev_region(&chip->dev.devt, 0, 1, "tpm");
	if (rc)
		goto out;

	rc = dev_set_name(&chip->dev, "tpm%d", chip->dev_num);
	if (rc)
		goto out;

	cdev_init(&chip->cdev, &tpm_fops);
	return chip;

out:
	put_device(&chip->dev);
	return ERR_PTR(rc);
}

static int tpm_add_char_device(struct tpm_chip *chip)
{
	return cdev_device_add(&chip->cdev, &chip->dev);
}

static void tpm_del_char_device(struct tpm_chip *chip)
{
	cdev_device_del(&chip->cdev, &chip->dev);

	/* Make the driver uncallable. */
	down_write(&chip->ops_sem);

	/*
	 * Check if chip->ops is still valid: In case that the controller
	 * drivers shutdown handler unregisters the controller in its
	 * shutdown handler we are called twice and chip->ops to NULL.
	 */
	if (chip->ops)
		chip->ops = NULL;
	up_write(&chip->ops_sem);
}

int tpm_chip_register(struct tpm_chip *chip)
{
	return tpm_add_char_device(chip);
}

void tpm_chip_unregister(struct tpm_chip *chip)
{
	tpm_del_char_device(chip);
}

/* ---- drivers/char/tpm/tpm_ftpm_tee.c: probe and remove ---- */

static int ftpm_tee_probe(struct device *dev)
{
	int rc;
	struct tpm_chip *chip;
	struct ftpm_tee_private *pvt_data = NULL;

	pvt_data = devm_kzalloc(dev, sizeof(struct ftpm_tee_private),
				GFP_KERNEL);
	if (!pvt_data)
		return -ENOMEM;

	dev_set_drvdata(dev, pvt_data);

	/* Allocate new struct tpm_chip instance */
	chip = tpm_chip_alloc(dev, &ftpm_tee_tpm_ops);
	if (IS_ERR(chip))
		return PTR_ERR(chip);

	pvt_data->chip = chip;

	/* Create a character device for the fTPM */
	rc = tpm_chip_register(pvt_data->chip);
	if (rc)
		goto out_chip;

	return 0;

out_chip:
	put_device(&pvt_data->chip->dev);
	return rc;
}

static void ftpm_tee_remove(struct device *dev)
{
	struct ftpm_tee_private *pvt_data = dev_get_drvdata(dev);

	/* Release the chip */
	tpm_chip_unregister(pvt_data->chip);

	/* frees chip */
	put_device(&pvt_data->chip->dev);

	/* memory allocated with devm_kzalloc() is freed automatically */
}
