/* unplug:
 * name = "tpm-no-ops-sem"
 * summary = "before \"tpm: Provide strong locking for device removal\": write() calls chip->ops with no lock, removal frees the driver"
 * probe = "ftpm_tee_probe"
 * remove = "ftpm_tee_remove"
 *
 * [expect]
 * sc = "use-after-removal"
 * # Under C11, loom ends at its first finding: the op's plain access to
 * # pvt_data unordered with devres's kfree() of it, the same window
 * # reached one step earlier than the access after the free.
 * c11 = "data-race"
 * object = "ftpm_tee_private"
 *
 * # /dev/tpm0 has no ioctl: each user writes a command (tpm_common_write()).
 * [workload]
 * [[workload.user]]
 * ops = [{ op = "open" }, { op = "write", count = 10 }, { op = "close" }]
 * [[workload.user]]
 * ops = [{ op = "open" }, { op = "write", count = 10 }, { op = "close" }]
 */

/*
 * tpm-ops-sem.c (the TPM character device on the firmware TPM driver, read
 * from torvalds/linux: drivers/char/tpm/tpm-chip.c 020a0d8feac0,
 * tpm-dev-common.c 0010b838db9f, tpm_ftpm_tee.c 07d8004d6fb9) with the
 * write path as it was before "tpm: Provide strong locking for device
 * removal" (Linux 4.6), the commit that added chip->ops_sem,
 * tpm_try_get_ops() and the clearing of chip->ops: tpm_write() sent the
 * command with tpm_transmit() straight through chip->ops, and removal
 * never made the driver uncallable.
 *
 * Verdict: use-after-removal of the hardware driver's private data
 * (pvt_data). A write that started before removal, or on a file opened
 * before it, calls ftpm_tee_tpm_op_send(), which follows
 * dev_get_drvdata(chip->dev.parent) to pvt_data; ftpm_tee_remove()
 * returns without waiting for it and devres frees pvt_data under the
 * call. The chip itself stays valid (the cdev pins chip->dev): it is the
 * driver behind chip->ops that is gone, which is what ops_sem fixed.
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

	/* atomic tpm command send and result receive */
	ret = tpm_transmit(priv->chip, priv->data_buffer,
			   sizeof(priv->data_buffer));

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
