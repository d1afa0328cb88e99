/*
 * Declarations of the kernel API the files in schemes-c/ use, so that a C
 * compiler can check their syntax and types:
 *
 *   gcc -fsyntax-only -Wall -Wno-unused-function \
 *       -include schemes-c/syntax-check.h schemes-c/NAME.c
 *
 * unplug does not read this file. The types are stand-ins with the
 * kernel's names and the fields the schemes touch; the functions have the
 * kernel's signatures (include/linux/device.h, cdev.h, rwsem.h, srcu.h,
 * percpu-refcount.h, atomic.h, list.h, cleanup.h, ...).
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define __rcu
#define __user
#define GFP_KERNEL 0
#define likely(x) (x)
#define unlikely(x) (x)
#define BIT(n) (1UL << (n))

#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOMEM 12
#define EBUSY 16
#define ENODEV 19
#define EINVAL 22
#define EPIPE 32

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* include/linux/compiler.h, rcupdate.h, srcu.h, asm/barrier.h */
#define READ_ONCE(x) (x)
#define WRITE_ONCE(x, v) ((x) = (v))
#define rcu_assign_pointer(p, v) ((p) = (v))
#define RCU_INIT_POINTER(p, v) ((p) = (v))
#define rcu_access_pointer(p) (p)
#define rcu_dereference_raw(p) (p)
#define srcu_dereference(p, ssp) ((void)(ssp), (p))
void smp_mb(void);
void smp_mb__before_atomic(void);
void cpu_relax(void);

/* Synchronisation primitives. */
typedef struct { int counter; } atomic_t;
typedef struct { int rlock; } spinlock_t;
struct mutex { long owner; };
struct rw_semaphore { long count; };
struct srcu_struct { unsigned long srcu_idx; };
struct completion { unsigned int done; };
struct percpu_ref { unsigned long percpu_count_ptr; };
typedef void (percpu_ref_func_t)(struct percpu_ref *);
struct kref { atomic_t refcount; };

#define DECLARE_RWSEM(name) struct rw_semaphore name
#define DEFINE_MUTEX(name) struct mutex name
#define DEFINE_SPINLOCK(name) spinlock_t name
#define DEFINE_STATIC_SRCU(name) static struct srcu_struct name

void atomic_inc(atomic_t *v);
void atomic_dec(atomic_t *v);
int atomic_read(const atomic_t *v);
void atomic_set(atomic_t *v, int i);
bool atomic_inc_not_zero(atomic_t *v);
bool atomic_dec_and_test(atomic_t *v);
bool test_and_set_bit(long nr, unsigned long *addr);
void clear_bit(long nr, unsigned long *addr);
void set_bit(long nr, unsigned long *addr);
bool test_bit(long nr, const unsigned long *addr);
void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);
#define spin_lock_irqsave(lock, flags) ((void)(flags), spin_lock(lock))
#define spin_unlock_irqrestore(lock, flags) ((void)(flags), spin_unlock(lock))
void mutex_init(struct mutex *lock);
void mutex_lock(struct mutex *lock);
void mutex_unlock(struct mutex *lock);
void init_rwsem(struct rw_semaphore *sem);
void down_read(struct rw_semaphore *sem);
void up_read(struct rw_semaphore *sem);
void down_write(struct rw_semaphore *sem);
void up_write(struct rw_semaphore *sem);
int init_srcu_struct(struct srcu_struct *ssp);
void cleanup_srcu_struct(struct srcu_struct *ssp);
int srcu_read_lock(struct srcu_struct *ssp);
void srcu_read_unlock(struct srcu_struct *ssp, int idx);
void synchronize_srcu(struct srcu_struct *ssp);
void init_completion(struct completion *x);
void complete(struct completion *x);
void wait_for_completion(struct completion *x);
int percpu_ref_init(struct percpu_ref *ref, percpu_ref_func_t *release,
		    unsigned int flags, int gfp);
bool percpu_ref_tryget_live(struct percpu_ref *ref);
void percpu_ref_put(struct percpu_ref *ref);
void percpu_ref_kill(struct percpu_ref *ref);
void kref_init(struct kref *kref);
int kref_put(struct kref *kref, void (*release)(struct kref *kref));

/* include/linux/cleanup.h: guard(srcu)(&ssp), the one guard used here. */
struct srcu_guard_t { struct srcu_struct *ssp; int idx; };
static inline struct srcu_guard_t srcu_guard_ctor(struct srcu_struct *ssp)
{
	struct srcu_guard_t g = { ssp, srcu_read_lock(ssp) };
	return g;
}
static inline void srcu_guard_dtor(struct srcu_guard_t *g)
{
	srcu_read_unlock(g->ssp, g->idx);
}
#define guard(name) \
	struct srcu_guard_t name##_guard \
	__attribute__((cleanup(srcu_guard_dtor))) = srcu_guard_ctor

/* include/linux/list.h */
struct list_head { struct list_head *next, *prev; };
void INIT_LIST_HEAD(struct list_head *list);
void list_add_tail(struct list_head *new, struct list_head *head);
void list_del(struct list_head *entry);
void list_del_init(struct list_head *entry);
#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_for_each_entry(pos, head, member) \
	for (pos = list_entry((head)->next, __typeof__(*pos), member); \
	     &pos->member != (head); \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

/* Modules. */
struct module;
void module_put(struct module *module);

/* Memory. */
void *kzalloc(size_t size, int flags);
void *kmalloc(size_t size, int flags);
void *kcalloc(size_t n, size_t size, int flags);
void kfree(const void *p);
void *memset(void *s, int c, size_t n);
unsigned long *bitmap_zalloc(unsigned int nbits, int flags);
void bitmap_free(const unsigned long *bitmap);
void *ERR_PTR(long error);
long PTR_ERR(const void *ptr);
bool IS_ERR(const void *ptr);

/* The device model and the character-device core. */
struct kobject { bool state_in_sysfs; };
struct device;
struct device_type {
	const char *name;
	void (*release)(struct device *dev);
};
struct device {
	struct kobject kobj;
	struct device *parent;
	const struct device_type *type;
	dev_t devt;
	void (*release)(struct device *dev);
};
struct file_operations;
struct cdev { const struct file_operations *ops; };
struct inode { struct cdev *i_cdev; };
struct file { void *private_data; };
struct file_operations {
	int (*open)(struct inode *, struct file *);
	int (*release)(struct inode *, struct file *);
	long (*unlocked_ioctl)(struct file *, unsigned int, unsigned long);
	ssize_t (*read)(struct file *, char __user *, size_t, loff_t *);
	ssize_t (*write)(struct file *, const char __user *, size_t, loff_t *);
};

void device_initialize(struct device *dev);
int dev_set_name(struct device *dev, const char *fmt, ...);
int device_add(struct device *dev);
void device_del(struct device *dev);
bool device_is_registered(struct device *dev);
struct device *get_device(struct device *dev);
void put_device(struct device *dev);
void *dev_get_drvdata(const struct device *dev);
void dev_set_drvdata(struct device *dev, void *data);
void *devm_kzalloc(struct device *dev, size_t size, int gfp);
int alloc_chrdev_region(dev_t *dev, unsigned int baseminor, unsigned int count,
			const char *name);
void cdev_init(struct cdev *cdev, const struct file_operations *fops);
int cdev_add(struct cdev *cdev, dev_t dev, unsigned int count);
void cdev_del(struct cdev *cdev);
int cdev_device_add(struct cdev *cdev, struct device *dev);
void cdev_device_del(struct cdev *cdev, struct device *dev);
struct inode *file_inode(const struct file *f);
