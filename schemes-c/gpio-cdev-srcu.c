/* unplug:
 * name = "gpio-cdev-srcu"
 * summary = "gpio_ioctl() under guard(srcu)(&gdev->srcu), chip via srcu_dereference(); gpiochip_remove(): rcu_assign_pointer(gdev->chip, NULL), synchronize_srcu()"
 * probe = "gpio_exp_probe"
 * remove = "gpio_exp_remove"
 *
 * [expect]
 * sc = "clean"
 * c11 = "clean"
 */

/*
 * The GPIO character device (/dev/gpiochipN) as the kernel has it since
 * the SRCU conversion of gdev->chip (Linux 6.9), read from torvalds/linux:
 *
 *   drivers/gpio/gpiolib-cdev.c 02f6b0e1ec7e  gpio_ioctl(), lineinfo_get(),
 *                                            gpio_desc_to_lineinfo(),
 *                                            gpio_chrdev_open(),
 *                                            gpio_chrdev_release(),
 *                                            gpiolib_cdev_register(),
 *                                            gpiolib_cdev_unregister()
 *   drivers/gpio/gpiolib.c                   gpiochip_add_data_with_key(),
 *                                            gpiochip_remove(),
 *                                            gpiochip_line_is_valid()
 *   drivers/gpio/gpiolib.h                   struct gpio_device, struct gpio_desc,
 *                                            CLASS(gpio_chip_guard)
 *
 * on a hardware driver that registers its gpio_chip from probe and
 * removes it from remove, as hot-unpluggable expanders do (the case
 * bdbbae241a04's message names: "when a USB GPIO expander is
 * disconnected"). The driver's state, with the gpio_chip embedded, is
 * devm-allocated: devres frees it when remove returns.
 *
 * Cut: the line request, line event and line-info-watch machinery, the
 * notifier chains, sysfs, hogs, irqchip, ACPI/OF, pin ranges, the global
 * gpio_devices list and its SRCU, the ida of chip numbers, copy_to_user().
 * Kept: every lock, reference and pointer on the path from the chip
 * ioctl (GPIO_V2_GET_LINEINFO_IOCTL) to the driver's gpio_chip and its
 * valid_mask, and removal's order. CLASS(gpio_chip_guard, guard)(desc)
 * is written out as the srcu_read_lock()/srcu_dereference()/
 * srcu_read_unlock() its DEFINE_CLASS() in gpiolib.h expands to.
 *
 * gpiolib_dev_init() allocates one char-device region for every chip at
 * boot; here each chip allocates its own number.
 *
 * Verdict: clean. Every file operation runs inside gdev->srcu and
 * re-reads gdev->chip with srcu_dereference(); gpiochip_remove()
 * unpublishes the chip and waits for a grace period before it frees the
 * valid mask and returns to the driver, whose devres then frees the chip.
 * The gpio_device itself is refcounted: the cdev (cdev_device_add()) and
 * every open file (gpio_device_get()) pin gdev->dev.
 *
 * guard(srcu)(&gdev->srcu) in gpio_ioctl() and gpio_chrdev_open() is
 * include/linux/srcu.h's DEFINE_LOCK_GUARD_1(srcu, …): srcu_read_lock()
 * where it stands, srcu_read_unlock() when the function returns
 * (include/linux/cleanup.h), after lineinfo_get() has run.
 *
 * Measured: `unplug fuzz schemes-c/gpio-cdev-srcu.c --iterations 20000
 * --stop-at-first --no-save --seed S` finds nothing in 20,000 executions
 * on each of S = 0..9; `unplug verify` (loom, 100,000 executions) explores
 * bound 2 completely (10,875 executions) and 88,867 executions of bound 3
 * with no finding.
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
	struct gpio_chip __rcu *chip;
	struct gpio_desc *descs;
	void *data;
	u16 ngpio;
	struct srcu_struct srcu;
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
	cleanup_srcu_struct(&gdev->srcu);
	kfree(gdev);
}

static struct gpio_device *to_gpio_device(struct device *dev)
{
	return container_of(dev, struct gpio_device, dev);
}

static struct gpio_device *gpio_device_get(struct gpio_device *gdev)
{
	return to_gpio_device(get_device(&gdev->dev));
}

static void gpio_device_put(struct gpio_device *gdev)
{
	put_device(&gdev->dev);
}

static struct gpio_desc *gpio_device_get_desc(struct gpio_device *gdev,
					      unsigned int hwnum)
{
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
static bool pinctrl_gpio_can_use_line(struct gpio_chip *gc, unsigned int offset)
{
	return true;
}

/* ---- drivers/gpio/gpiolib-cdev.c ---- */

static void gpio_desc_to_lineinfo(struct gpio_desc *desc,
				  struct gpio_v2_line_info *info)
{
	unsigned long dflags;
	struct gpio_chip *gc;
	int idx;

	/* CLASS(gpio_chip_guard, guard)(desc); */
	idx = srcu_read_lock(&desc->gdev->srcu);
	gc = srcu_dereference(desc->gdev->chip, &desc->gdev->srcu);
	if (!gc)
		goto out;

	memset(info, 0, sizeof(*info));
	info->offset = gpio_chip_hwgpio(desc);

	dflags = READ_ONCE(desc->flags);

	if (test_bit(FLAG_REQUESTED, &dflags) ||
	    !gpiochip_line_is_valid(gc, info->offset) ||
	    !pinctrl_gpio_can_use_line(gc, info->offset))
		info->flags |= GPIO_V2_LINE_FLAG_USED;
out:
	srcu_read_unlock(&desc->gdev->srcu, idx);
}

static int lineinfo_get(struct gpio_chardev_data *cdev, void __user *ip,
			bool watch)
{
	struct gpio_desc *desc;
	struct gpio_v2_line_info lineinfo;

	/* copy_from_user(&lineinfo, ip, sizeof(lineinfo)): line 0 */
	lineinfo.offset = 0;

	desc = gpio_device_get_desc(cdev->gdev, lineinfo.offset);
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

	guard(srcu)(&gdev->srcu);

	/* We fail any subsequent ioctl():s when the chip is gone */
	if (!rcu_access_pointer(gdev->chip))
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

	guard(srcu)(&gdev->srcu);

	/* Fail on open if the backing gpiochip is gone */
	if (!rcu_access_pointer(gdev->chip))
		return -ENODEV;

	cdev = kzalloc(sizeof(*cdev), GFP_KERNEL);
	if (!cdev)
		return -ENODEV;

	cdev->watched_lines = bitmap_zalloc(gdev->ngpio, GFP_KERNEL);
	if (!cdev->watched_lines)
		goto out_free_cdev;

	cdev->gdev = gpio_device_get(gdev);

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
	gpio_device_put(gdev);
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
	rcu_assign_pointer(gdev->chip, gc);

	gc->gpiodev = gdev;
	gdev->data = data;

	device_initialize(&gdev->dev);
	gdev->dev.release = gpiodev_release;

	gdev->id = gpio_nr_devices++;

	ret = init_srcu_struct(&gdev->srcu);
	if (ret)
		goto err_put_device;

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
	rcu_assign_pointer(gdev->chip, NULL);
	synchronize_srcu(&gdev->srcu);
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
	gpio_device_put(gdev);
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
