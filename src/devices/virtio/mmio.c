/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/virtio/mmio.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define R_MAGIC        0x000
#define R_VERSION      0x004
#define R_DEVICE_ID    0x008
#define R_VENDOR_ID    0x00c
#define R_DEV_FEAT     0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEAT     0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL    0x030
#define R_QUEUE_MAX    0x034
#define R_QUEUE_NUM    0x038
#define R_QUEUE_READY  0x044
#define R_QUEUE_NOTIFY 0x050
#define R_ISR          0x060
#define R_ISR_ACK      0x064
#define R_STATUS       0x070
#define R_DESC_LO      0x080
#define R_DESC_HI      0x084
#define R_AVAIL_LO     0x090
#define R_AVAIL_HI     0x094
#define R_USED_LO      0x0a0
#define R_USED_HI      0x0a4
#define R_SHM_SEL      0x0ac
#define R_SHM_LEN_LO   0x0b0
#define R_SHM_LEN_HI   0x0b4
#define R_CONFIG_GEN   0x0fc
#define R_CONFIG       0x100

#define MAGIC 0x74726976 /* "virt" */

static uint64_t device_features(const struct virtio_mmio *t)
{
	return (t->ops->features & ~t->features_withheld) | (1ULL << VIRTIO_F_VERSION_1) |
	       (1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << VIRTIO_F_INDIRECT_DESC);
}

static void raise_irq(struct virtio_mmio *t, unsigned bits)
{
	atomic_fetch_or(&t->isr, bits);
	t->interrupts++;
	if (t->irq.raise)
		t->irq.raise(t->irq.ctx);
}

void virtio_mmio_fail(struct virtio_mmio *t, const char *why)
{
	if (atomic_exchange(&t->broken, 1))
		return;
	snprintf(t->why, sizeof(t->why), "%s", why);
	raise_irq(t, VIRTIO_INT_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	atomic_fetch_add(&t->config_gen, 1);
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(t, VIRTIO_INT_CONFIG);
}

/* Caller holds t->lock. */
static void do_reset(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->qlock);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vq_reset(&t->q[i]);
		t->q[i].s.size = t->ops->queue_max;
	}
	if (t->ops->reset)
		t->ops->reset(t->dev);
	t->status = 0;
	t->driver_features = 0;
	t->queue_sel = t->dev_feat_sel = t->drv_feat_sel = 0;
	atomic_store(&t->isr, 0);
	atomic_store(&t->broken, 0);
	t->why[0] = '\0';
	memset(t->retry_at, 0, sizeof(t->retry_at));
	pthread_mutex_unlock(&t->qlock);
}

int virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device_ops *ops, void *dev,
                     const struct guest_mem *mem, struct err *e)
{
	memset(t, 0, sizeof(*t));
	if (ops->nqueues == 0 || ops->nqueues > VIRTIO_MAX_QUEUES || ops->queue_max == 0 ||
	    ops->queue_max > VQ_MAX_SIZE || (ops->queue_max & (ops->queue_max - 1)))
		return err_set(e, ERR_INTERNAL, "virtio %s: bad queue layout", ops->name);
	t->ops = ops;
	t->dev = dev;
	t->mem = mem;
	t->stop_fd = -1;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		t->kick_fd[i] = -1;
		vq_init(&t->q[i], mem);
		t->q[i].s.size = ops->queue_max;
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->qlock, NULL);
	for (unsigned i = 0; i < ops->nqueues; i++) {
		t->kick_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->kick_fd[i] < 0)
			return err_sys(e, "virtio %s: eventfd", ops->name);
	}
	t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->stop_fd < 0)
		return err_sys(e, "virtio %s: eventfd", ops->name);
	return 0;
}

void virtio_mmio_set_irq(struct virtio_mmio *t, struct virtio_irq irq)
{
	t->irq = irq;
}

static struct vq *selected(struct virtio_mmio *t)
{
	return t->queue_sel < t->ops->nqueues ? &t->q[t->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct vq *q = selected(t);
	switch (off) {
	case R_MAGIC:
		return MAGIC;
	case R_VERSION:
		return 2;
	case R_DEVICE_ID:
		return t->ops->device_id;
	case R_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case R_DEV_FEAT:
		return t->dev_feat_sel < 2
		           ? (uint32_t)(device_features(t) >> (32 * t->dev_feat_sel))
		           : 0;
	case R_QUEUE_MAX:
		return q ? t->ops->queue_max : 0;
	case R_QUEUE_NUM:
		return q ? q->s.size : 0;
	case R_QUEUE_READY:
		return q ? q->s.ready : 0;
	case R_ISR:
		return atomic_load(&t->isr);
	case R_STATUS:
		return t->status | (atomic_load(&t->broken) ? VIRTIO_STATUS_NEEDS_RESET : 0);
	case R_DESC_LO:
		return q ? (uint32_t)q->s.desc : 0;
	case R_DESC_HI:
		return q ? (uint32_t)(q->s.desc >> 32) : 0;
	case R_AVAIL_LO:
		return q ? (uint32_t)q->s.avail : 0;
	case R_AVAIL_HI:
		return q ? (uint32_t)(q->s.avail >> 32) : 0;
	case R_USED_LO:
		return q ? (uint32_t)q->s.used : 0;
	case R_USED_HI:
		return q ? (uint32_t)(q->s.used >> 32) : 0;
	case R_SHM_LEN_LO:
	case R_SHM_LEN_HI:
		return 0xffffffff; /* no shared memory regions */
	case R_CONFIG_GEN:
		return atomic_load(&t->config_gen);
	default:
		return 0;
	}
}

static void set_addr(uint64_t *a, int hi, uint32_t v)
{
	if (hi)
		*a = (*a & 0xffffffffULL) | ((uint64_t)v << 32);
	else
		*a = (*a & ~0xffffffffULL) | v;
}

static void queue_ready(struct virtio_mmio *t, struct vq *q, uint32_t v)
{
	pthread_mutex_lock(&t->qlock);
	if (!v) {
		q->s.ready = 0;
	} else if (!q->s.ready) {
		q->s.event_idx = !!(t->driver_features & (1ULL << VIRTIO_F_EVENT_IDX));
		q->s.indirect = !!(t->driver_features & (1ULL << VIRTIO_F_INDIRECT_DESC));
		q->s.last_avail = q->s.used_idx = 0;
		q->s.signalled_valid = 0;
		if (vq_activate(q)) {
			pthread_mutex_unlock(&t->qlock);
			virtio_mmio_fail(t, vq_error_name(q->last_error));
			return;
		}
	}
	pthread_mutex_unlock(&t->qlock);
}

static void set_status(struct virtio_mmio *t, uint32_t v)
{
	if (v == 0) {
		do_reset(t);
		return;
	}
	v &= 0xff & ~VIRTIO_STATUS_NEEDS_RESET;
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(t->status & VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t f = t->driver_features;
		/* refuse FEATURES_OK (the driver reads it back) for bits we never offered */
		if ((f & ~device_features(t)) || !(f & (1ULL << VIRTIO_F_VERSION_1)))
			v &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
	}
	t->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && t->started) {
		/* process anything queued before DRIVER_OK */
		uint64_t one = 1;
		for (unsigned i = 0; i < t->ops->nqueues; i++) {
			ssize_t w = write(t->kick_fd[i], &one, sizeof(one));
			(void)w;
		}
	}
}

static void reg_write(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	struct vq *q = selected(t);
	switch (off) {
	case R_DEV_FEAT_SEL:
		t->dev_feat_sel = v;
		break;
	case R_DRV_FEAT:
		if (t->status & VIRTIO_STATUS_FEATURES_OK)
			break; /* frozen after negotiation */
		if (t->drv_feat_sel == 0)
			t->driver_features = (t->driver_features & ~0xffffffffULL) | v;
		else if (t->drv_feat_sel == 1)
			t->driver_features =
			    (t->driver_features & 0xffffffffULL) | ((uint64_t)v << 32);
		break;
	case R_DRV_FEAT_SEL:
		t->drv_feat_sel = v;
		break;
	case R_QUEUE_SEL:
		t->queue_sel = v;
		break;
	case R_QUEUE_NUM:
		if (q && !q->s.ready) {
			if (v == 0 || v > t->ops->queue_max || (v & (v - 1)))
				virtio_mmio_fail(
				    t, "queue size not a power of two within the maximum");
			else
				q->s.size = (uint16_t)v;
		}
		break;
	case R_QUEUE_READY:
		if (q)
			queue_ready(t, q, v & 1);
		break;
	case R_QUEUE_NOTIFY:
		if (v < t->ops->nqueues) {
			uint64_t one = 1;
			ssize_t w = write(t->kick_fd[v], &one, sizeof(one));
			(void)w;
		}
		break;
	case R_ISR_ACK:
		atomic_fetch_and(&t->isr, ~v);
		break;
	case R_STATUS:
		set_status(t, v);
		break;
	case R_DESC_LO:
	case R_DESC_HI:
		if (q && !q->s.ready)
			set_addr(&q->s.desc, off == R_DESC_HI, v);
		break;
	case R_AVAIL_LO:
	case R_AVAIL_HI:
		if (q && !q->s.ready)
			set_addr(&q->s.avail, off == R_AVAIL_HI, v);
		break;
	case R_USED_LO:
	case R_USED_HI:
		if (q && !q->s.ready)
			set_addr(&q->s.used, off == R_USED_HI, v);
		break;
	default:
		break; /* read-only or unknown: ignored */
	}
}

static void mmio_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct virtio_mmio *t = dev;
	if (off >= R_CONFIG) {
		memset(data, 0, size);
		if (t->ops->config_read)
			t->ops->config_read(t->dev, (uint32_t)(off - R_CONFIG), data, size);
		return;
	}
	uint32_t v = (size == 4 && !(off & 3)) ? reg_read(t, off) : 0;
	memset(data, 0, size);
	memcpy(data, &v, size < 4 ? size : 4);
}

static void mmio_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct virtio_mmio *t = dev;
	if (off >= R_CONFIG) {
		if (t->ops->config_write)
			t->ops->config_write(t->dev, (uint32_t)(off - R_CONFIG), data, size);
		return;
	}
	if (size != 4 || (off & 3))
		return; /* registers are 32-bit only */
	uint32_t v;
	memcpy(&v, data, 4);
	reg_write(t, off, v);
}

const struct io_ops virtio_mmio_ops = {mmio_read, mmio_write};

void virtio_queue_run(struct virtio_mmio *t, unsigned qi, virtio_handler fn, void *dev)
{
	struct vq *q = &t->q[qi];
	struct vq_chain *c = &t->chain;
	int pushed = 0;
	for (;;) {
		int r;
		while ((r = vq_pop(q, c)) > 0) {
			uint64_t wait;
			if (t->rl && rl_enabled(t->rl) &&
			    !rl_admit(t->rl, (uint64_t)c->out_len + c->in_len, rl_now_ns(),
			              &wait)) {
				/* over the limit: leave it queued and look again later */
				vq_unpop(q);
				t->retry_at[qi] = rl_now_ns() + wait;
				t->throttled++;
				goto done;
			}
			int w = fn(dev, c);
			if (w == VIRTIO_HANDLER_AGAIN) {
				vq_unpop(q);
				goto done;
			}
			if (w == VIRTIO_HANDLER_ASYNC)
				continue;
			if (w < 0) {
				virtio_mmio_fail(t, "malformed request");
				return;
			}
			vq_push(q, c->head, (uint32_t)w);
			pushed = 1;
		}
		if (r < 0) {
			char why[160];
			snprintf(why, sizeof(why), "queue %u: %s", qi,
			         vq_error_name(q->last_error));
			virtio_mmio_fail(t, why);
			break;
		}
		if (!vq_enable_kick(q))
			break;
	}
done:
	if (pushed && vq_should_notify(q))
		raise_irq(t, VIRTIO_INT_USED);
}

void virtio_queue_complete(struct virtio_mmio *t, unsigned qi, uint16_t head, uint32_t written)
{
	vq_push(&t->q[qi], head, written);
}

void virtio_queue_notify(struct virtio_mmio *t, unsigned qi)
{
	if (vq_should_notify(&t->q[qi]))
		raise_irq(t, VIRTIO_INT_USED);
}

/* Busy-poll the ring for a short while after serving it: a driver that sends
 * its next request right after a completion is served without a wakeup. */
static void poll_queue(struct virtio_mmio *t, unsigned i)
{
	if (!t->poll_ns)
		return;
	uint64_t until = rl_now_ns() + t->poll_ns;
	while (!atomic_load(&t->broken) && !t->retry_at[i]) {
		if (vq_has_avail(&t->q[i])) {
			t->polled++;
			t->ops->process(t->dev, t, i);
			until = rl_now_ns() + t->poll_ns;
			continue;
		}
		if (rl_now_ns() >= until)
			break;
		__builtin_ia32_pause();
	}
}

int virtio_mmio_running(struct virtio_mmio *t)
{
	return (t->status & VIRTIO_STATUS_DRIVER_OK) && !atomic_load(&t->broken);
}

static void serve_queue(struct virtio_mmio *t, unsigned i, int kicked, uint64_t now)
{
	int due = t->retry_at[i] && t->retry_at[i] <= now;
	if (!kicked && !due)
		return;
	if (due)
		t->retry_at[i] = 0;
	if (kicked) {
		uint64_t v;
		ssize_t rd = read(t->kick_fd[i], &v, sizeof(v));
		(void)rd;
		t->kicks++;
	}
	pthread_mutex_lock(&t->qlock);
	if (virtio_mmio_running(t) && t->q[i].s.ready) {
		t->ops->process(t->dev, t, i);
		poll_queue(t, i);
	}
	pthread_mutex_unlock(&t->qlock);
}

static void *io_thread(void *arg)
{
	struct virtio_mmio *t = arg;
	char name[16];
	snprintf(name, sizeof(name), "virtio-%s", t->ops->name);
	pthread_setname_np(pthread_self(), name); /* before any confinement: it writes to /proc */
	t->setup_rc = t->thread_setup ? t->thread_setup(t->thread_ctx, &t->setup_err) : 0;
	sem_post(&t->setup_done);
	if (t->setup_rc)
		return NULL;
	unsigned n = t->ops->nqueues;
	struct pollfd p[VIRTIO_MAX_QUEUES + 1 + VIRTIO_BACKEND_FDS_MAX];
	struct pollfd *b = p + n + 1; /* the backend's descriptors */
	for (unsigned i = 0; i < n; i++)
		p[i] = (struct pollfd){t->kick_fd[i], POLLIN, 0};
	p[n] = (struct pollfd){t->stop_fd, POLLIN, 0};
	for (;;) {
		/* throttled queues are looked at again when their tokens are there */
		uint64_t now = rl_now_ns(), next = 0;
		for (unsigned i = 0; i < n; i++)
			if (t->retry_at[i] && (!next || t->retry_at[i] < next))
				next = t->retry_at[i];
		int timeout = !next ? -1 : next <= now ? 0 : (int)((next - now + 999999) / 1000000);
		unsigned nb = 0;
		if (t->ops->backend_fds) {
			pthread_mutex_lock(&t->qlock);
			nb = t->ops->backend_fds(t->dev, b, VIRTIO_BACKEND_FDS_MAX, &timeout);
			pthread_mutex_unlock(&t->qlock);
			if (nb > VIRTIO_BACKEND_FDS_MAX)
				nb = VIRTIO_BACKEND_FDS_MAX;
		}
		int r = poll(p, n + 1 + nb, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || p[n].revents)
			return NULL;
		now = rl_now_ns();
		for (unsigned i = 0; i < n; i++)
			serve_queue(t, i, p[i].revents != 0, now);
		if (t->ops->backend_event) {
			pthread_mutex_lock(&t->qlock);
			t->ops->backend_event(t->dev, t, b, nb);
			pthread_mutex_unlock(&t->qlock);
		}
	}
}

int virtio_mmio_start(struct virtio_mmio *t, struct err *e)
{
	if (sem_init(&t->setup_done, 0, 0))
		return err_sys(e, "virtio %s: sem_init", t->ops->name);
	int rc = pthread_create(&t->thread, NULL, io_thread, t);
	if (rc) {
		sem_destroy(&t->setup_done);
		return err_errno(e, rc, "virtio %s: starting the I/O thread", t->ops->name);
	}
	while (sem_wait(&t->setup_done) && errno == EINTR)
		;
	sem_destroy(&t->setup_done);
	if (t->setup_rc) {
		pthread_join(t->thread, NULL);
		*e = t->setup_err;
		return err_prefix(e, "virtio %s: setting up the I/O thread", t->ops->name);
	}
	t->started = 1;
	return 0;
}

void virtio_mmio_stop(struct virtio_mmio *t)
{
	if (!t->started)
		return;
	uint64_t one = 1;
	ssize_t w = write(t->stop_fd, &one, sizeof(one));
	(void)w;
	pthread_join(t->thread, NULL);
	ssize_t r = read(t->stop_fd, &one, sizeof(one)); /* so a restart runs */
	(void)r;
	t->started = 0;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	if (!t->ops)
		return;
	virtio_mmio_stop(t);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		if (t->kick_fd[i] >= 0)
			close(t->kick_fd[i]);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->qlock);
	t->ops = NULL;
}

void virtio_mmio_save(struct virtio_mmio *t, struct virtio_mmio_state *st)
{
	pthread_mutex_lock(&t->lock);
	pthread_mutex_lock(&t->qlock);
	if (t->ops->drain)
		t->ops->drain(t->dev, t);
	memset(st, 0, sizeof(*st));
	st->status = t->status;
	st->isr = atomic_load(&t->isr);
	st->queue_sel = t->queue_sel;
	st->dev_feat_sel = t->dev_feat_sel;
	st->drv_feat_sel = t->drv_feat_sel;
	st->broken = (uint32_t)atomic_load(&t->broken);
	st->driver_features = t->driver_features;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		st->q[i] = t->q[i].s;
	pthread_mutex_unlock(&t->qlock);
	pthread_mutex_unlock(&t->lock);
}

int virtio_mmio_restore(struct virtio_mmio *t, const struct virtio_mmio_state *st, struct err *e)
{
	if (st->driver_features & ~device_features(t))
		return err_set(e, ERR_INPUT, "virtio %s: saved features %#llx not offered here",
		               t->ops->name, (unsigned long long)st->driver_features);
	pthread_mutex_lock(&t->lock);
	pthread_mutex_lock(&t->qlock);
	int rc = 0;
	t->status = st->status;
	atomic_store(&t->isr, st->isr);
	t->queue_sel = st->queue_sel;
	t->dev_feat_sel = st->dev_feat_sel;
	t->drv_feat_sel = st->drv_feat_sel;
	atomic_store(&t->broken, (int)st->broken);
	t->driver_features = st->driver_features;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES && !rc; i++) {
		t->q[i].s = st->q[i];
		if (st->q[i].ready && (i >= t->ops->nqueues || st->q[i].size > t->ops->queue_max ||
		                       vq_activate(&t->q[i])))
			rc = err_set(e, ERR_INPUT, "virtio %s: saved queue %u does not fit",
			             t->ops->name, i);
	}
	pthread_mutex_unlock(&t->qlock);
	pthread_mutex_unlock(&t->lock);
	return rc;
}
