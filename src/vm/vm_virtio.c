/* SPDX-License-Identifier: Apache-2.0 */
/* The VM's virtio devices: the registry of device kinds (the `kinds`
 * table below: placement, creation, snapshot state), and the glue between
 * the device models and the accelerator: interrupts through irqfd where
 * the accelerator has it, else by setting the line; queue notifications
 * through ioeventfd where it has it, else by the register write reaching
 * the transport. */
#include "vm/vm_virtio.h"

#include "devices/virtio/balloon.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/vsock.h"
#include "lib/size.h"
#include "vm/sandbox.h"
#include "vm/vm_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static const unsigned irqs[VM_VIRTIO_MAX] = {5, 6, 7, 9, 10, 11, 13, 14, 15};

struct vdev {
	struct virtio_mmio t;
	struct vm *vm;
	struct vm_dev_place at;
	const struct kind *k;
	unsigned irq;
	int irqfd;
	struct disk *disk;
	struct virtio_blk blk;
	struct virtio_rng rng;
	struct virtio_balloon balloon;
	struct virtio_net *net;
	struct rate_limiter rl;
	unsigned sandbox_extra; /* SANDBOX_* beyond the common set */
	struct virtio_vsock *vsock;
};

struct vm_virtio {
	struct vdev *d[VM_VIRTIO_MAX];
	unsigned n;
	int quiesced;
	struct vm_virtio_config cfg; /* as attached */
};

/* One entry per device type, in attachment order: how many the
 * configuration asks for, how one is created, and what a snapshot keeps of
 * its model (the transport's state is kept for every device). */
struct kind {
	enum vm_dev_kind kind;
	unsigned (*count)(const struct vm_virtio_config *c);
	int (*create)(struct vm *vm, struct vdev *d, const struct vm_virtio_config *c,
	              struct err *e);
	size_t state_size;
	void (*save)(struct vdev *d, void *st);
	int (*restore)(struct vdev *d, const void *st, struct err *e);
};

static const struct kind *kind_table(size_t *n);

unsigned vm_virtio_plan(const struct vm_virtio_config *c, struct vm_dev_place *out)
{
	size_t nkinds;
	const struct kind *kinds = kind_table(&nkinds);
	unsigned n = 0;
	for (size_t k = 0; k < nkinds; k++)
		for (unsigned i = 0; i < kinds[k].count(c); i++, n++)
			if (n < VM_VIRTIO_MAX)
				out[n] = (struct vm_dev_place){kinds[k].kind, i, vm_virtio_base(n),
				                               vm_virtio_irq(n)};
	return n;
}

unsigned vm_virtio_count(const struct vm_virtio_config *c)
{
	struct vm_dev_place p[VM_VIRTIO_MAX];
	return vm_virtio_plan(c, p);
}

unsigned vm_virtio_devices(const struct vm *vm)
{
	return vm->virtio ? vm->virtio->n : 0;
}

uint64_t vm_virtio_base(unsigned index)
{
	return VM_VIRTIO_MMIO_BASE + (uint64_t)index * VIRTIO_MMIO_SIZE;
}

unsigned vm_virtio_irq(unsigned index)
{
	return index < VM_VIRTIO_MAX ? irqs[index] : 0;
}

/* Where the devices go: before " -- " (what follows it is init's), else at
 * the end. */
static size_t params_end(const char *cmdline)
{
	if (!strncmp(cmdline, "-- ", 3) || !strcmp(cmdline, "--"))
		return 0;
	const char *dd = strstr(cmdline, " -- ");
	if (dd)
		return (size_t)(dd - cmdline);
	size_t n = strlen(cmdline);
	return n >= 3 && !strcmp(cmdline + n - 3, " --") ? n - 3 : n;
}

char *vm_virtio_cmdline(const struct vm_virtio_config *c, const char *cmdline)
{
	struct vm_dev_place p[VM_VIRTIO_MAX];
	unsigned n = vm_virtio_plan(c, p);
	size_t cap = strlen(cmdline) + 2 + (size_t)n * 48;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	size_t cut = params_end(cmdline);
	size_t len = (size_t)snprintf(s, cap, "%.*s", (int)cut, cmdline);
	for (unsigned i = 0; i < n && i < VM_VIRTIO_MAX; i++)
		len += (size_t)snprintf(s + len, cap - len, "%svirtio_mmio.device=4K@0x%llx:%u",
		                        len ? " " : "", (unsigned long long)p[i].base, p[i].irq);
	snprintf(s + len, cap - len, "%s%s", cut == 0 && len && cmdline[0] ? " " : "",
	         cmdline + cut);
	return s;
}

static int disk_key(struct vm_virtio_disk *d, const char *k, size_t kl, const char *v, size_t vl,
                    struct err *e)
{
#define KEY(s) (kl == sizeof(s) - 1 && !memcmp(k, s, kl))
#define VAL(s) (v && vl == sizeof(s) - 1 && !memcmp(v, s, vl))
	if (KEY("path") && v && vl > 0 && vl < sizeof(d->path)) {
		memcpy(d->path, v, vl);
		d->path[vl] = '\0';
	} else if (KEY("format") && (VAL("raw") || VAL("qcow2"))) {
		d->format = VAL("raw") ? DISK_FMT_RAW : DISK_FMT_QCOW2;
	} else if (KEY("readonly") && (!v || VAL("on") || VAL("true"))) {
		d->readonly = 1;
	} else if (KEY("cache") && (VAL("none") || VAL("writeback"))) {
		d->cache = VAL("none") ? DISK_CACHE_NONE : DISK_CACHE_WRITEBACK;
	} else if ((KEY("bps") || KEY("bps_burst") || KEY("iops") || KEY("iops_burst")) && v &&
	           vl > 0 && vl < 32) {
		char num[32];
		memcpy(num, v, vl);
		num[vl] = '\0';
		uint64_t *dst = KEY("bps")         ? &d->bps
		                : KEY("bps_burst") ? &d->bps_burst
		                : KEY("iops")      ? &d->iops
		                                   : &d->iops_burst;
		if (parse_size(num, "--disk rate limit", dst, e))
			return -1;
	} else if (KEY("poll_us") && v && vl > 0 && vl < 8) {
		char num[8];
		memcpy(num, v, vl);
		num[vl] = '\0';
		if (parse_uint(num, "--disk poll_us", 0, 1000000, &d->poll_us, e))
			return -1;
	} else if (KEY("aio") && (VAL("io_uring") || VAL("sync"))) {
		d->sync_io = VAL("sync");
	} else if (KEY("id") && v && vl > 0 && vl <= 20) {
		memcpy(d->id, v, vl);
		d->id[vl] = '\0';
	} else {
		return err_set(e, ERR_INPUT, "--disk: bad option '%.*s'",
		               (int)(kl + (v ? vl + 1 : 0)), k);
	}
	return 0;
#undef KEY
#undef VAL
}

int vm_virtio_add_disk(struct vm_virtio_config *c, const char *spec, struct err *e)
{
	if (vm_virtio_count(c) >= VM_VIRTIO_MAX)
		return err_set(e, ERR_INPUT, "--disk %s: too many virtio devices (at most %d)",
		               spec, VM_VIRTIO_MAX);
	struct vm_virtio_disk *d = &c->disks[c->ndisks];
	memset(d, 0, sizeof(*d));
	d->poll_us = VM_VIRTIO_POLL_US;
	const char *p = spec;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *eq = memchr(p, '=', n);
		const char *v = eq ? eq + 1 : NULL;
		size_t kl = eq ? (size_t)(eq - p) : n;
		if (p == spec && !eq && strncmp(p, "readonly", n)) {
			if (disk_key(d, "path", 4, p, n, e)) /* bare FILE */
				return -1;
		} else if (disk_key(d, p, kl, v, v ? n - kl - 1 : 0, e)) {
			return -1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!d->path[0])
		return err_set(e, ERR_INPUT, "--disk %s: path=FILE is required", spec);
	c->ndisks++;
	return 0;
}

/* Interrupts: an irqfd pulse when KVM has irqfd, else KVM_IRQ_LINE up and down. */
static void raise_irqfd(void *ctx)
{
	struct vdev *d = ctx;
	uint64_t one = 1;
	ssize_t w = write(d->irqfd, &one, sizeof(one));
	(void)w;
}

static void raise_line(void *ctx)
{
	struct vdev *d = ctx;
	struct accel_vm *a = d->vm->accel;
	if (!a) /* the guest is not running yet */
		return;
	a->ops->irq_line(a, d->irq, 1);
	a->ops->irq_line(a, d->irq, 0);
}

/* Every device's I/O thread runs under the VMM's seccomp policy; devices with
 * sockets on the host side get socket calls too. */
static int io_thread_sandbox(void *ctx, struct err *e)
{
	struct vdev *d = ctx;
	return sandbox_enter_thread(d->sandbox_extra, e);
}

static int wire(struct vm *vm, struct vdev *d, uint64_t base, struct err *e)
{
	d->t.thread_setup = io_thread_sandbox;
	d->t.thread_ctx = d;
	/* Until vm_virtio_connect, interrupts go through the line. */
	virtio_mmio_set_irq(&d->t, (struct virtio_irq){raise_line, d});
	if (iobus_register(&vm->mmio, base, VIRTIO_MMIO_SIZE, &virtio_mmio_ops, &d->t, &d->t.lock,
	                   e))
		return -1;
	return virtio_mmio_start(&d->t, e);
}

/* Faster paths the accelerator may offer; without them the devices work
 * through irq_line and the bus. */
static int connect(struct vm *vm, struct vdev *d, uint64_t base, struct err *e)
{
	struct accel_vm *a = vm->accel;
	d->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->irqfd < 0)
		return err_sys(e, "virtio: eventfd");
	if (a->ops->irqfd(a, d->irq, d->irqfd) == 0) {
		virtio_mmio_set_irq(&d->t, (struct virtio_irq){raise_irqfd, d});
	} else {
		close(d->irqfd);
		d->irqfd = -1;
	}
	for (unsigned q = 0; q < d->t.ops->nqueues; q++)
		(void)a->ops->ioeventfd(a, base + VIRTIO_MMIO_NOTIFY, q, d->t.kick_fd[q]);
	return 0;
}

int vm_virtio_connect(struct vm *vm, struct err *e)
{
	struct vm_virtio *v = vm->virtio;
	for (unsigned i = 0; v && i < v->n; i++)
		if (connect(vm, v->d[i], v->d[i]->at.base, e))
			return -1;
	return 0;
}

static void vdev_free(struct vdev *d)
{
	virtio_mmio_destroy(&d->t);
	virtio_blk_destroy(&d->blk);
	if (d->irqfd >= 0)
		close(d->irqfd);
	disk_close(d->disk);
	vm_net_free(d->net);
	virtio_vsock_free(d->vsock);
	free(d);
}

static unsigned count_disks(const struct vm_virtio_config *c)
{
	return c->ndisks;
}
static unsigned count_rng(const struct vm_virtio_config *c)
{
	return c->rng ? 1 : 0;
}
static unsigned count_balloon(const struct vm_virtio_config *c)
{
	return c->balloon.enabled ? 1 : 0;
}
static unsigned count_net(const struct vm_virtio_config *c)
{
	return c->net.n;
}
static unsigned count_vsock(const struct vm_virtio_config *c)
{
	return c->vsock.enabled ? 1 : 0;
}

static int create_blk(struct vm *vm, struct vdev *d, const struct vm_virtio_config *c,
                      struct err *e)
{
	const struct vm_virtio_disk *cd = &c->disks[d->at.sub];
	struct disk_options o = {cd->path, cd->format, cd->readonly, cd->cache};
	if (disk_open(&d->disk, &o, e))
		return err_prefix(e, "--disk %s", cd->path);
	virtio_blk_init(&d->blk, d->disk, cd->id[0] ? cd->id : NULL);
	const char *why = NULL; /* without io_uring, requests are synchronous */
	if (!cd->sync_io && virtio_blk_enable_async(&d->blk, &why, e) < 0)
		return err_prefix(e, "--disk %s", cd->path);
	if (virtio_mmio_init(&d->t, &d->blk.ops, &d->blk, &vm->mem, e))
		return -1;
	uint64_t now = rl_now_ns();
	tb_init(&d->rl.bytes, cd->bps, cd->bps_burst, now);
	tb_init(&d->rl.ops, cd->iops, cd->iops_burst, now);
	if (rl_enabled(&d->rl))
		d->t.rl = &d->rl;
	d->t.poll_ns = cd->poll_us * 1000;
	return 0;
}

static int create_rng(struct vm *vm, struct vdev *d, const struct vm_virtio_config *c,
                      struct err *e)
{
	(void)c;
	return virtio_mmio_init(&d->t, &virtio_rng_ops, &d->rng, &vm->mem, e);
}

static int create_balloon(struct vm *vm, struct vdev *d, const struct vm_virtio_config *c,
                          struct err *e)
{
	virtio_balloon_init(&d->balloon, &vm->mem, c->balloon_target);
	virtio_balloon_set_stats_interval(&d->balloon, c->balloon.stats_s);
	if (virtio_mmio_init(&d->t, &virtio_balloon_ops, &d->balloon, &vm->mem, e))
		return -1;
	if (c->balloon.no_deflate_on_oom)
		d->t.features_withheld = 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	return 0;
}

static int create_net(struct vm *vm, struct vdev *d, const struct vm_virtio_config *c,
                      struct err *e)
{
	const struct vm_net_dev *nd = &c->net.d[d->at.sub];
	if (vm_net_create(&d->net, nd, e))
		return -1;
	d->sandbox_extra = vm_net_sandbox(nd);
	return virtio_mmio_init(&d->t, &d->net->ops, d->net, &vm->mem, e);
}

static int create_vsock(struct vm *vm, struct vdev *d, const struct vm_virtio_config *c,
                        struct err *e)
{
	d->vsock = vm_vsock_create(&c->vsock, e);
	d->sandbox_extra = SANDBOX_SOCKETS; /* accept, connect, epoll_ctl, close */
	return d->vsock ? virtio_mmio_init(&d->t, &virtio_vsock_ops, d->vsock, &vm->mem, e) : -1;
}

static void save_blk(struct vdev *d, void *st)
{
	memcpy(st, &d->blk.stats, sizeof(d->blk.stats));
}
static int restore_blk(struct vdev *d, const void *st, struct err *e)
{
	(void)e;
	memcpy(&d->blk.stats, st, sizeof(d->blk.stats));
	return 0;
}
static void save_rng(struct vdev *d, void *st)
{
	memcpy(st, &d->rng.bytes, sizeof(d->rng.bytes));
}
static int restore_rng(struct vdev *d, const void *st, struct err *e)
{
	(void)e;
	memcpy(&d->rng.bytes, st, sizeof(d->rng.bytes));
	return 0;
}
static void save_balloon(struct vdev *d, void *st)
{
	virtio_balloon_save(&d->balloon, st);
}
static int restore_balloon(struct vdev *d, const void *st, struct err *e)
{
	const struct vq_state *q = &d->t.q[2].s; /* the stats queue */
	return virtio_balloon_restore(&d->balloon, st, q->ready ? q->size : 0, e);
}
static void save_net(struct vdev *d, void *st)
{
	virtio_net_save(d->net, st);
}
static int restore_net(struct vdev *d, const void *st, struct err *e)
{
	return virtio_net_restore(d->net, st, e);
}
static void save_vsock(struct vdev *d, void *st)
{
	virtio_vsock_save(d->vsock, st);
}
static int restore_vsock(struct vdev *d, const void *st, struct err *e)
{
	return virtio_vsock_restore(d->vsock, &d->t, st, e);
}

static const struct kind kinds[] = {
    {VM_DEV_BLK, count_disks, create_blk, sizeof(struct virtio_blk_stats), save_blk, restore_blk},
    {VM_DEV_RNG, count_rng, create_rng, sizeof(uint64_t), save_rng, restore_rng},
    {VM_DEV_BALLOON, count_balloon, create_balloon, sizeof(struct virtio_balloon_state),
     save_balloon, restore_balloon},
    {VM_DEV_NET, count_net, create_net, sizeof(struct virtio_net_state), save_net, restore_net},
    {VM_DEV_VSOCK, count_vsock, create_vsock, sizeof(struct virtio_vsock_state), save_vsock,
     restore_vsock},
};

static const struct kind *kind_table(size_t *n)
{
	*n = sizeof(kinds) / sizeof(kinds[0]);
	return kinds;
}

static const struct kind *kind_of(enum vm_dev_kind k)
{
	size_t nkinds = sizeof(kinds) / sizeof(kinds[0]);
	for (size_t i = 0; i < nkinds; i++)
		if (kinds[i].kind == k)
			return &kinds[i];
	return NULL;
}

int vm_virtio_attach(struct vm *vm, const struct vm_virtio_config *c, struct err *e)
{
	struct vm_dev_place at[VM_VIRTIO_MAX];
	unsigned n = vm_virtio_plan(c, at);
	if (n == 0)
		return 0;
	if (n > VM_VIRTIO_MAX)
		return err_set(e, ERR_INPUT, "too many virtio devices (%u, at most %d)", n,
		               VM_VIRTIO_MAX);
	if (sandbox_init(e)) /* I/O threads are confined from their start */
		return -1;
	struct vm_virtio *v = calloc(1, sizeof(*v));
	if (!v)
		return err_sys(e, "allocating virtio devices");
	vm->virtio = v;
	v->cfg = *c;
	for (unsigned i = 0; i < n; i++) {
		struct vdev *d = calloc(1, sizeof(*d));
		if (!d)
			return err_sys(e, "allocating a virtio device");
		d->vm = vm;
		d->at = at[i];
		d->k = kind_of(at[i].kind);
		d->irq = at[i].irq;
		d->irqfd = -1;
		v->d[v->n++] = d; /* vdev_free undoes a partial creation */
		if (d->k->create(vm, d, c, e) || wire(vm, d, d->at.base, e))
			return -1;
	}
	return 0;
}

void vm_virtio_detach(struct vm *vm)
{
	struct vm_virtio *v = vm->virtio;
	if (!v)
		return;
	for (unsigned i = 0; i < v->n; i++)
		vdev_free(v->d[i]);
	free(v);
	vm->virtio = NULL;
}

const struct vm_virtio_config *vm_virtio_attached(const struct vm *vm)
{
	return vm->virtio ? &vm->virtio->cfg : NULL;
}

static struct vdev *dev_at(const struct vm *vm, unsigned i)
{
	return vm->virtio && i < vm->virtio->n ? vm->virtio->d[i] : NULL;
}

int vm_virtio_place(const struct vm *vm, unsigned i, struct vm_dev_place *out)
{
	struct vdev *d = dev_at(vm, i);
	if (!d)
		return -1;
	*out = d->at;
	return 0;
}

struct disk *vm_virtio_disk(const struct vm *vm, unsigned i)
{
	struct vdev *d = dev_at(vm, i);
	return d ? d->disk : NULL;
}

/* Copy n counters that another thread may be adding to. */
static void load_counters(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

int vm_virtio_counters(const struct vm *vm, unsigned i, struct virtio_blk_stats *blk,
                       struct virtio_net_stats *net)
{
	struct vdev *d = dev_at(vm, i);
	if (!d)
		return -1;
	if (d->k->kind == VM_DEV_BLK) {
		load_counters((uint64_t *)blk, (const uint64_t *)&d->blk.stats,
		              sizeof(*blk) / sizeof(uint64_t));
		return VM_DEV_BLK;
	}
	if (d->k->kind == VM_DEV_NET && d->net) {
		load_counters((uint64_t *)net, (const uint64_t *)&d->net->stats,
		              sizeof(*net) / sizeof(uint64_t));
		return VM_DEV_NET;
	}
	return -1;
}

static struct vdev *balloon_dev(struct vm *vm, struct err *e)
{
	struct vm_virtio *v = vm->virtio;
	for (unsigned i = 0; v && i < v->n; i++)
		if (v->d[i]->k->kind == VM_DEV_BALLOON)
			return v->d[i];
	err_set(e, ERR_INPUT, "the VM has no balloon device");
	return NULL;
}

int vm_virtio_balloon_set_target(struct vm *vm, uint64_t bytes, struct err *e)
{
	struct vdev *d = balloon_dev(vm, e);
	if (!d)
		return -1;
	virtio_balloon_set_target(&d->balloon, &d->t, bytes);
	vm->virtio->cfg.balloon_target = bytes;
	return 0;
}

int vm_virtio_balloon_set_stats(struct vm *vm, uint16_t seconds, struct err *e)
{
	struct vdev *d = balloon_dev(vm, e);
	if (!d)
		return -1;
	pthread_mutex_lock(&d->t.qlock);
	virtio_balloon_set_stats_interval(&d->balloon, seconds);
	vm->virtio->cfg.balloon.stats_s = seconds;
	pthread_mutex_unlock(&d->t.qlock);
	return 0;
}

int vm_virtio_balloon_info(struct vm *vm, struct virtio_balloon_info *out, struct err *e)
{
	struct vdev *d = balloon_dev(vm, e);
	if (!d)
		return -1;
	pthread_mutex_lock(&d->t.qlock);
	virtio_balloon_info(&d->balloon, out);
	pthread_mutex_unlock(&d->t.qlock);
	return 0;
}

/* Device number `sub` of a kind while the devices are quiesced, else NULL
 * with e set. */
static struct vdev *quiesced(struct vm *vm, enum vm_dev_kind kind, unsigned sub, struct err *e)
{
	const char *what = kind == VM_DEV_BLK ? "disk" : "network device";
	struct vm_virtio *v = vm->virtio;
	if (!v || !v->quiesced) {
		err_set(e, ERR_INPUT, "the VM's devices must be paused to change a %s", what);
		return NULL;
	}
	for (unsigned i = 0; i < v->n; i++)
		if (v->d[i]->k->kind == kind && v->d[i]->at.sub == sub)
			return v->d[i];
	err_set(e, ERR_INPUT, "the VM has no %s %u", what, sub);
	return NULL;
}

static struct vdev *quiesced_disk(struct vm *vm, unsigned disk, struct err *e)
{
	return quiesced(vm, VM_DEV_BLK, disk, e);
}

int vm_virtio_set_net_limits(struct vm *vm, unsigned iface, const struct virtio_net_limits *lim,
                             struct err *e)
{
	struct vdev *d = quiesced(vm, VM_DEV_NET, iface, e);
	if (!d || !d->net)
		return d ? err_set(e, ERR_INPUT, "network device %u has no model", iface) : -1;
	virtio_net_set_limits(d->net, lim);
	vm->virtio->cfg.net.d[iface].lim = *lim;
	return 0;
}

int vm_virtio_set_disk_limits(struct vm *vm, unsigned disk, const struct vm_virtio_disk *lim,
                              struct err *e)
{
	struct vdev *d = quiesced_disk(vm, disk, e);
	if (!d)
		return -1;
	struct vm_virtio_disk *cd = &vm->virtio->cfg.disks[disk];
	uint64_t now = rl_now_ns();
	tb_init(&d->rl.bytes, lim->bps, lim->bps_burst, now);
	tb_init(&d->rl.ops, lim->iops, lim->iops_burst, now);
	d->t.rl = rl_enabled(&d->rl) ? &d->rl : NULL;
	cd->bps = lim->bps, cd->bps_burst = lim->bps_burst;
	cd->iops = lim->iops, cd->iops_burst = lim->iops_burst;
	return 0;
}

int vm_virtio_swap_disk(struct vm *vm, unsigned disk, const char *path, struct err *e)
{
	struct vdev *d = quiesced_disk(vm, disk, e);
	if (!d)
		return -1;
	struct vm_virtio_disk *cd = &vm->virtio->cfg.disks[disk];
	if (strlen(path) >= sizeof(cd->path))
		return err_set(e, ERR_INPUT, "%s: path too long", path);
	struct disk_options o = {path, cd->format, cd->readonly, cd->cache};
	struct disk *nd;
	if (disk_open(&nd, &o, e))
		return -1;
	if (virtio_blk_swap(&d->blk, nd, e)) {
		disk_close(nd);
		return -1;
	}
	disk_close(d->disk);
	d->disk = nd;
	memcpy(cd->path, path, strlen(path) + 1);
	virtio_mmio_config_changed(&d->t); /* the guest reads the new capacity */
	return 0;
}

int vm_virtio_quiesce(struct vm *vm, struct err *e)
{
	struct vm_virtio *v = vm->virtio;
	if (!v || v->quiesced)
		return 0;
	v->quiesced = 1;
	int rc = 0;
	for (unsigned i = 0; i < v->n; i++) {
		struct vdev *d = v->d[i];
		virtio_mmio_stop(&d->t); /* the thread ends between two requests */
		pthread_mutex_lock(&d->t.qlock);
		if (d->t.ops->drain)
			d->t.ops->drain(d->t.dev, &d->t);
		pthread_mutex_unlock(&d->t.qlock);
		if (d->disk && !d->disk->readonly && rc == 0) {
			int r = d->disk->ops->flush(d->disk);
			if (r)
				rc = err_errno(e, -r, "flushing disk %s",
				               v->cfg.disks[d->at.sub].path);
		}
	}
	return rc;
}

int vm_virtio_resume(struct vm *vm, struct err *e)
{
	struct vm_virtio *v = vm->virtio;
	if (!v || !v->quiesced)
		return 0;
	for (unsigned i = 0; i < v->n; i++) {
		struct vdev *d = v->d[i];
		if (d->t.started) /* a resume that failed part way before */
			continue;
		if (virtio_mmio_start(&d->t, e))
			return -1;
		uint64_t one = 1;
		for (unsigned q = 0; q < d->t.ops->nqueues; q++) {
			ssize_t w = write(d->t.kick_fd[q], &one, sizeof(one));
			(void)w;
		}
	}
	v->quiesced = 0;
	return 0;
}

size_t vm_virtio_state_size(const struct vm *vm, unsigned i)
{
	struct vdev *d = dev_at(vm, i);
	return d ? sizeof(struct virtio_mmio_state) + d->k->state_size : 0;
}

int vm_virtio_save(struct vm *vm, unsigned i, void *buf, size_t len, struct err *e)
{
	struct vdev *d = dev_at(vm, i);
	if (!d || len != vm_virtio_state_size(vm, i))
		return err_set(e, ERR_INTERNAL, "virtio device %u: bad state buffer", i);
	memset(buf, 0, len);
	struct virtio_mmio_state st;
	virtio_mmio_save(&d->t, &st);
	memcpy(buf, &st, sizeof(st));
	pthread_mutex_lock(&d->t.qlock);
	d->k->save(d, (uint8_t *)buf + sizeof(st));
	pthread_mutex_unlock(&d->t.qlock);
	return 0;
}

int vm_virtio_restore(struct vm *vm, unsigned i, const void *buf, size_t len, struct err *e)
{
	struct vdev *d = dev_at(vm, i);
	if (!d || len != vm_virtio_state_size(vm, i))
		return err_set(e, ERR_INPUT, "virtio device %u: saved state has the wrong size", i);
	struct virtio_mmio_state st;
	memcpy(&st, buf, sizeof(st));
	if (virtio_mmio_restore(&d->t, &st, e))
		return -1;
	pthread_mutex_lock(&d->t.qlock);
	int rc = d->k->restore(d, (const uint8_t *)buf + sizeof(st), e);
	pthread_mutex_unlock(&d->t.qlock);
	/* an interrupt the guest had not taken yet when saved: raise it again
	 * (the driver reads the interrupt status, an extra one is harmless) */
	if (rc == 0 && st.isr && d->t.irq.raise)
		d->t.irq.raise(d->t.irq.ctx);
	return rc;
}
