/* unplug:
 * name = "gpio-cdev-unlocked"
 * summary = "before bdbbae241a04: gpio_ioctl() tests gdev->chip with no lock; gpiochip_remove() sets it NULL and the driver frees the chip"
 * probe = "gpio_exp_probe"
 * remove = "gpio_exp_remove"
 *
 * [expect]
 * sc = "use-after-removal"
 * c11 = "use-after-removal"
 * object = "priv"
 * also = "assertion"
 */

/*
 * gpio-cdev-srcu.c as the kernel had it before commit bdbbae241a04
 * ("gpiolib: protect the GPIO device against being dropped while in use
 * by user-space", Linux 6.2; Fixes: d7c51b47ac11 "gpio: userspace ABI for
 * reading/writing GPIO lines" and the v2 ABI commits): Linux 6.1's
 * drivers/gpio/gpiolib-cdev.c gpio_ioctl(), gpio_desc_to_lineinfo(),
 * gpio_chrdev_open() and drivers/gpio/gpiolib.c gpiochip_remove(). The
 * chip pointer is a plain field: the ioctl tests it with no lock and
 * gpio_desc_to_lineinfo() reads it again to reach the driver's chip;
 * gpiochip_remove() sets it NULL ("Numb the device") and returns to the
 * driver without waiting for anyone.
 *
 * Cut as in gpio-cdev-srcu.c; the hardware driver is the same.
 *
 * Verdict: use-after-removal of the driver's state (priv, with the
 * gpio_chip embedded), the worst of three findings of one race. The ioctl
 * tests gdev->chip in gpio_ioctl() and loads it again, with no lock, in
 * lineinfo_get() (passed to gpiochip_get_desc()) and in
 * gpio_desc_to_lineinfo():
 *
 *   - the loads race with gpiochip_remove()'s plain NULL store: a data
 *     race on gdev->chip, found first on every seed;
 *   - an ioctl that passed the test and loads gdev->chip after the NULL
 *     store follows the NULL in gpiochip_get_desc() (gc->gpiodev): an
 *     oops, the model's assertion finding. It is the crash d83cee3d2bb1
 *     ("gpio: protect the pointer to gpio_chip in gpio_device with SRCU")
 *     names: "the GPIO device gets unregistered (and the chip pointer set
 *     to NULL) during any of the API calls";
 *   - an ioctl that loaded the chip before the store reads gc->gpiodev or
 *     gc->base after remove returned and devres freed priv: the
 *     use-after-removal.
 *
 * Measured (`unplug fuzz schemes-c/gpio-cdev-unlocked.c --iterations 20000
 * --no-save --seed S`, S = 0..9): all three on every seed, the
 * use-after-removal within 4 to 136 executions. With --stop-at-first the
 * run ends at the first fatal one, the oops on 9 of the 10 seeds (within
 * 1 to 12 executions) and the use-after-removal on seed 5 (12). Under C11
 * (`unplug verify`) loom reaches the use-after-removal of priv at bound 1.
 * Both crashes are this race's verdict: `also = "assertion"` in the
 * header accepts the oops where it comes first, so `fuzz --stop-at-first`
 * and `compare` match on every seed.
 * bdbbae241a04 made every file operation take gdev->sem for reading and
 * gpiochip_remove() take it for writing; 6.9 replaced the rwsem with
 * gdev->srcu (gpio-cdev-srcu.c).
 */

#define GPIO_V2_GET_LINEINFO_IOCTL	0xc100b405
#define GPIO_V2_LINE_FLAG_USED		(1UL << 0)
#define FLAG_REQUESTED			0

struct gpio_device;

struct gpio_chip {
	const char *label;
	struct gpio_device *gpiodev;
	struct device *parent;
	int base;
	u16 ngpio;
	unsigned long *valid_mask;
	int (*init_valid_mask)(struct gpio_chip *gc, unsigned long *valid_mask,
			       unsigned int ngpios);
};

struct gpio_desc {
	struct gpio_device *gdev;
	unsigned long flags;
	const char *name;
};

/* drivers/gpio/gpiolib.h */
struct gpio_device {
	struct device dev;
	struct cdev chrdev;
	int id;
	struct gpio_chip *chip;
	struct gpio_desc *descs;
	void *data;
	u16 ngpio;
};

struct gpio_v2_line_info {
	u32 offset;
	u64 flags;
};

struct gpio_chardev_data {
	struct gpio_device *gdev;
	unsigned long *watched_lines;
};

/* The hardware driver's state. */
static DEFINE_SPINLOCK(gpio_lock);

struct gpio_exp {
	struct gpio_chip gc;
	int reg_base;
};

static int gpio_nr_devices;

/* ---- drivers/gpio/gpiolib.c ---- */

static void gpiodev_release(struct device *dev)
{
	struct gpio_device *gdev = container_of(dev, struct gpio_device, dev);

	kfree(gdev->descs);
	kfree(gdev);
}

static void gpio_device_put(struct gpio_device *gdev)
{
	put_device(&gdev->dev);
}

static struct gpio_desc *gpiochip_get_desc(struct gpio_chip *gc,
					   unsigned int hwnum)
{
	struct gpio_device *gdev = gc->gpiodev;

	if (hwnum >= gdev->ngpio)
		return ERR_PTR(-EINVAL);

	return &gdev->descs[hwnum];
}

static int gpio_chip_hwgpio(const struct gpio_desc *desc)
{
	return desc - &desc->gdev->descs[0];
}

bool gpiochip_line_is_valid(const struct gpio_chip *gc, unsigned int offset)
{
	/* No mask means all valid */
	if (likely(!gc->valid_mask))
		return true;
	return test_bit(offset, gc->valid_mask);
}

static int gpiochip_alloc_valid_mask(struct gpio_chip *gc)
{
	if (!gc->init_valid_mask)
		return 0;

	gc->valid_mask = bitmap_zalloc(gc->ngpio, GFP_KERNEL);
	if (!gc->valid_mask)
		return -ENOMEM;

	return gc->init_valid_mask(gc, gc->valid_mask, gc->ngpio);
}

static void gpiochip_free_valid_mask(struct gpio_chip *gc)
{
	bitmap_free(gc->valid_mask);
	gc->valid_mask = NULL;
}

/* drivers/pinctrl/core.c: no pin controller covers the line. */
static bool pinctrl_gpio_can_use_line(unsigned int gpio)
{
	return true;
}

/* ---- drivers/gpio/gpiolib-cdev.c ---- */

static void gpio_desc_to_lineinfo(struct gpio_desc *desc,
				  struct gpio_v2_line_info *info)
{
	struct gpio_chip *gc = desc->gdev->chip;
	bool ok_for_pinctrl;
	unsigned long flags;

	memset(info, 0, sizeof(*info));
	info->offset = gpio_chip_hwgpio(desc);

	/*
	 * This function takes a mutex so we must check this before taking
	 * the spinlock.
	 *
	 * FIXME: find a non-racy way to retrieve this information. Maybe a
	 * lock common to both frameworks?
	 */
	ok_for_pinctrl =
		pinctrl_gpio_can_use_line(gc->base + info->offset);

	spin_lock_irqsave(&gpio_lock, flags);

	if (test_bit(FLAG_REQUESTED, &desc->flags) ||
	    !ok_for_pinctrl)
		info->flags |= GPIO_V2_LINE_FLAG_USED;

	spin_unlock_irqrestore(&gpio_lock, flags);
}

static int lineinfo_get(struct gpio_chardev_data *cdev, void __user *ip,
			bool watch)
{
	struct gpio_desc *desc;
	struct gpio_v2_line_info lineinfo;

	/* copy_from_user(&lineinfo, ip, sizeof(lineinfo)): line 0 */
	lineinfo.offset = 0;

	desc = gpiochip_get_desc(cdev->gdev->chip, lineinfo.offset);
	if (IS_ERR(desc))
		return PTR_ERR(desc);

	gpio_desc_to_lineinfo(desc, &lineinfo);
	return 0;
}

/*
 * gpio_ioctl() - ioctl handler for the GPIO chardev
 */
static long gpio_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct gpio_chardev_data *cdev = file->private_data;
	struct gpio_device *gdev = cdev->gdev;
	void __user *ip = (void __user *)arg;

	/* We fail any subsequent ioctl():s when the chip is gone */
	if (!gdev->chip)
		return -ENODEV;

	/* Fill in the struct and pass to userspace */
	switch (cmd) {
	case GPIO_V2_GET_LINEINFO_IOCTL:
	default:
		/* The workload's ioctl: GPIO_V2_GET_LINEINFO_IOCTL. */
		return lineinfo_get(cdev, ip, false);
	}
}

static int gpio_chrdev_open(struct inode *inode, struct file *file)
{
	struct gpio_device *gdev = container_of(inode->i_cdev,
						struct gpio_device, chrdev);
	struct gpio_chardev_data *cdev;

	/* Fail on open if the backing gpiochip is gone */
	if (!gdev->chip)
		return -ENODEV;

	cdev = kzalloc(sizeof(*cdev), GFP_KERNEL);
	if (!cdev)
		return -ENODEV;

	cdev->watched_lines = bitmap_zalloc(gdev->chip->ngpio, GFP_KERNEL);
	if (!cdev->watched_lines)
		goto out_free_cdev;

	cdev->gdev = gdev;

	get_device(&gdev->dev);
	file->private_data = cdev;
	return 0;

out_free_cdev:
	kfree(cdev);
	return -ENOMEM;
}

static int gpio_chrdev_release(struct inode *inode, struct file *file)
{
	struct gpio_chardev_data *cdev = file->private_data;
	struct gpio_device *gdev = cdev->gdev;

	bitmap_free(cdev->watched_lines);
	put_device(&gdev->dev);
	kfree(cdev);

	return 0;
}

static const struct file_operations gpio_fileops = {
	.release = gpio_chrdev_release,
	.open = gpio_chrdev_open,
	.unlocked_ioctl = gpio_ioctl,
};

int gpiolib_cdev_register(struct gpio_device *gdev, dev_t devt)
{
	cdev_init(&gdev->chrdev, &gpio_fileops);
	/*
	 * gdev->dev.devt = MKDEV(MAJOR(devt), gdev->id): the number
	 * gpiochip_add_data() allocated, into gdev->dev.devt itself.
	 */

	return cdev_device_add(&gdev->chrdev, &gdev->dev);
}

void gpiolib_cdev_unregister(struct gpio_device *gdev)
{
	cdev_device_del(&gdev->chrdev, &gdev->dev);
}

/* ---- drivers/gpio/gpiolib.c: registration and removal ---- */

int gpiochip_add_data(struct gpio_chip *gc, void *data)
{
	struct gpio_device *gdev;
	int ret;

	gdev = kzalloc(sizeof(*gdev), GFP_KERNEL);
	if (!gdev)
		return -ENOMEM;

	gdev->dev.parent = gc->parent;
	gdev->chip = gc;

	gc->gpiodev = gdev;
	gdev->data = data;

	device_initialize(&gdev->dev);
	gdev->dev.release = gpiodev_release;

	gdev->id = gpio_nr_devices++;

	ret = dev_set_name(&gdev->dev, "gpiochip%d", gdev->id);
	if (ret)
		goto err_put_device;

	gdev->descs = kcalloc(gc->ngpio, sizeof(*gdev->descs), GFP_KERNEL);
	if (!gdev->descs) {
		ret = -ENOMEM;
		goto err_put_device;
	}
	gdev->ngpio = gc->ngpio;
	gdev->descs[0].gdev = gdev;

	ret = gpiochip_alloc_valid_mask(gc);
	if (ret)
		goto err_put_device;

	ret = alloc_chrdev_region(&gdev->dev.devt, 0, 1, "gpiochip");
	if (ret)
		goto err_put_device;

	/* gpiochip_setup_dev() -> gcdev_register() */
	ret = gpiolib_cdev_register(gdev, gdev->dev.devt);
	if (ret)
		goto err_put_device;

	return 0;

err_put_device:
	gpio_device_put(gdev);
	return ret;
}

void gpiochip_remove(struct gpio_chip *gc)
{
	struct gpio_device *gdev = gc->gpiodev;

	/* Numb the device, cancelling all outstanding operations */
	gdev->chip = NULL;
	gpiochip_free_valid_mask(gc);
	/*
	 * We accept no more calls into the driver from this point, so
	 * NULL the driver data pointer.
	 */
	gdev->data = NULL;

	/*
	 * The gpiochip side puts its use of the device to rest here:
	 * if there are no userspace clients, the chardev and device will
	 * be removed, else it will be dangling until the last user is
	 * gone.
	 */
	gpiolib_cdev_unregister(gdev);
	put_device(&gdev->dev);
}

/* ---- the hardware driver ---- */

/* Only line 0, the one the workload asks about, is routed on this board. */
static int gpio_exp_init_valid_mask(struct gpio_chip *gc,
				    unsigned long *valid_mask,
				    unsigned int ngpios)
{
	set_bit(0, valid_mask);
	return 0;
}

static int gpio_exp_probe(struct device *dev)
{
	struct gpio_exp *priv;
	int ret;

	priv = devm_kzalloc(dev, sizeof(*priv), GFP_KERNEL);
	if (!priv)
		return -ENOMEM;

	/* priv->gc.label = "gpio-exp": the model's pointer cells hold objects, not strings. */
	priv->gc.parent = dev;
	priv->gc.base = -1;
	priv->gc.ngpio = 8;
	priv->gc.init_valid_mask = gpio_exp_init_valid_mask;

	ret = gpiochip_add_data(&priv->gc, priv);
	if (ret)
		return ret;

	dev_set_drvdata(dev, priv);
	return 0;
}

static void gpio_exp_remove(struct device *dev)
{
	struct gpio_exp *priv = dev_get_drvdata(dev);

	gpiochip_remove(&priv->gc);
	/* devres frees priv, and the gpio_chip in it. */
}
