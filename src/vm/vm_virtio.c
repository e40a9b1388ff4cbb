/* SPDX-License-Identifier: Apache-2.0 */
/* Glue between the virtio device models and the accelerator: interrupts
 * through irqfd where the accelerator has it, else by setting the line;
 * queue notifications through ioeventfd where it has it, else by the
 * register write reaching the transport. */
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
};

unsigned vm_virtio_count(const struct vm_virtio_config *c)
{
	return c->ndisks + (c->rng ? 1 : 0) + (c->balloon ? 1 : 0) + c->net.n +
	       (c->vsock.enabled ? 1 : 0);
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
	unsigned n = vm_virtio_count(c);
	size_t cap = strlen(cmdline) + 2 + (size_t)n * 48;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	size_t cut = params_end(cmdline);
	size_t len = (size_t)snprintf(s, cap, "%.*s", (int)cut, cmdline);
	for (unsigned i = 0; i < n && i < VM_VIRTIO_MAX; i++)
		len += (size_t)snprintf(s + len, cap - len, "%svirtio_mmio.device=4K@0x%llx:%u",
		                        len ? " " : "", (unsigned long long)vm_virtio_base(i),
		                        vm_virtio_irq(i));
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
		if (connect(vm, v->d[i], vm_virtio_base(i), e))
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

int vm_virtio_attach(struct vm *vm, const struct vm_virtio_config *c, struct err *e)
{
	unsigned n = vm_virtio_count(c);
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
	unsigned first_net = c->ndisks + !!c->rng + !!c->balloon; /* network devices next */
	for (unsigned i = 0; i < n; i++) {
		struct vdev *d = calloc(1, sizeof(*d));
		if (!d)
			return err_sys(e, "allocating a virtio device");
		d->vm = vm;
		d->irq = vm_virtio_irq(i);
		d->irqfd = -1;
		int rc;
		if (i < c->ndisks) {
			const struct vm_virtio_disk *cd = &c->disks[i];
			struct disk_options o = {cd->path, cd->format, cd->readonly, cd->cache};
			if (disk_open(&d->disk, &o, e)) {
				free(d);
				return err_prefix(e, "--disk %s", cd->path);
			}
			virtio_blk_init(&d->blk, d->disk, cd->id[0] ? cd->id : NULL);
			const char *why = NULL; /* without io_uring, requests are synchronous */
			if (!cd->sync_io && virtio_blk_enable_async(&d->blk, &why, e) < 0) {
				disk_close(d->disk);
				free(d);
				return err_prefix(e, "--disk %s", cd->path);
			}
			rc = virtio_mmio_init(&d->t, &d->blk.ops, &d->blk, &vm->mem, e);
			uint64_t now = rl_now_ns();
			tb_init(&d->rl.bytes, cd->bps, cd->bps_burst, now);
			tb_init(&d->rl.ops, cd->iops, cd->iops_burst, now);
			if (rl_enabled(&d->rl))
				d->t.rl = &d->rl;
			d->t.poll_ns = cd->poll_us * 1000;
		} else if (c->rng && i == c->ndisks) {
			rc = virtio_mmio_init(&d->t, &virtio_rng_ops, &d->rng, &vm->mem, e);
		} else if (i >= first_net && i < first_net + c->net.n) {
			if (vm_net_create(&d->net, &c->net.d[i - first_net], e)) {
				free(d);
				return -1;
			}
			rc = virtio_mmio_init(&d->t, &d->net->ops, d->net, &vm->mem, e);
			d->sandbox_extra = vm_net_sandbox(&c->net.d[i - first_net]);
		} else if (c->vsock.enabled && i == n - 1) {
			d->vsock = vm_vsock_create(&c->vsock, e);
			d->sandbox_extra = SANDBOX_SOCKETS; /* accept, connect, epoll_ctl, close */
			rc = d->vsock
			         ? virtio_mmio_init(&d->t, &virtio_vsock_ops, d->vsock, &vm->mem, e)
			         : -1;
		} else {
			virtio_balloon_init(&d->balloon, &vm->mem, c->balloon_target);
			rc = virtio_mmio_init(&d->t, &virtio_balloon_ops, &d->balloon, &vm->mem, e);
		}
		v->d[v->n++] = d;
		if (rc || wire(vm, d, vm_virtio_base(i), e))
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
