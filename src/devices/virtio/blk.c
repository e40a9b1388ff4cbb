/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/virtio/blk.h"

#include "disk/aio.h"
#include "lib/iov.h"

#include <stdlib.h>

#include <errno.h>
#include <string.h>

#define F_SEG_MAX      2
#define F_RO           5
#define F_BLK_SIZE     6
#define F_FLUSH        9
#define F_DISCARD      13
#define F_WRITE_ZEROES 14

#define T_IN           0
#define T_OUT          1
#define T_FLUSH        4
#define T_GET_ID       8
#define T_DISCARD      11
#define T_WRITE_ZEROES 13

#define S_OK     0
#define S_IOERR  1
#define S_UNSUPP 2

#define SECTOR       512ULL
#define QUEUE_MAX    256
#define MAX_DZ_SEGS  64
#define MAX_DZ_SECTS 0x3fffffu

struct req_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

struct dz_seg {
	uint64_t sector;
	uint32_t num_sectors, flags;
};

/* Is [sector, sector + bytes/512) inside the disk, bytes a sector multiple? */
static int in_range(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	if (bytes % SECTOR)
		return 0;
	uint64_t off;
	if (__builtin_mul_overflow(sector, SECTOR, &off))
		return 0;
	return off <= b->disk->size && bytes <= b->disk->size - off;
}

static uint8_t discard_or_zero(struct virtio_blk *b, struct vq_chain *c, uint32_t type)
{
	uint32_t payload = c->out_len - sizeof(struct req_hdr);
	if (payload == 0 || payload % sizeof(struct dz_seg) ||
	    payload / sizeof(struct dz_seg) > MAX_DZ_SEGS)
		return S_UNSUPP;
	if (b->disk->readonly)
		return S_IOERR;
	for (uint32_t i = 0; i < payload / sizeof(struct dz_seg); i++) {
		struct dz_seg s;
		vq_copy_from(c, sizeof(struct req_hdr) + i * sizeof(s), &s, sizeof(s));
		uint64_t bytes = (uint64_t)s.num_sectors * SECTOR;
		if (s.num_sectors > MAX_DZ_SECTS || !in_range(b, s.sector, bytes))
			return S_IOERR;
		if (type == T_DISCARD ? (s.flags != 0) : (s.flags & ~1u))
			return S_UNSUPP;
		int rc = type == T_DISCARD
		             ? b->disk->ops->discard(b->disk, s.sector * SECTOR, bytes)
		             : b->disk->ops->write_zeroes(b->disk, s.sector * SECTOR, bytes);
		if (rc)
			return S_IOERR;
	}
	if (type == T_DISCARD)
		b->stats.discards++;
	else
		b->stats.zeroes++;
	return S_OK;
}

/* A request handed to the asynchronous engine: what its completion needs. */
struct blk_req {
	uint16_t head;
	uint32_t type;
	uint32_t len; /* data bytes */
	uint64_t off;
	uint8_t *status; /* the chain's status byte, inside guest RAM (checked by vq_pop) */
	int n;
	struct iovec iov[VQ_MAX_SIZE];
};

struct blk_async {
	struct disk_aio *aio;
	struct blk_req req[QUEUE_MAX];
	uint16_t free[QUEUE_MAX];
	unsigned nfree;
};

/* Start a read, write or flush on the engine; 0 if it could not be queued. */
static int start_async(struct virtio_blk *b, struct vq_chain *c, uint32_t type, uint64_t off,
                       const struct iovec *iov, int n, uint32_t len)
{
	struct blk_async *as = b->async;
	if (!as->nfree)
		return 0;
	uint16_t slot = as->free[as->nfree - 1];
	struct blk_req *r = &as->req[slot];
	const struct iovec *last = &c->iov[c->nout + c->nin - 1];
	*r = (struct blk_req){.head = c->head, .type = type, .len = len, .off = off, .n = n};
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	if (n)
		memcpy(r->iov, iov, sizeof(*iov) * (size_t)n);
	enum disk_aio_op op = type == T_IN    ? DISK_AIO_READ
	                      : type == T_OUT ? DISK_AIO_WRITE
	                                      : DISK_AIO_FLUSH;
	if (disk_aio_queue(as->aio, op, r->iov, n, off, slot))
		return 0;
	as->nfree--;
	return 1;
}

static int handle(void *dev, struct vq_chain *c)
{
	struct virtio_blk *b = dev;
	struct req_hdr h;
	if (c->out_len < sizeof(h) || c->in_len < 1)
		return -1; /* no header or nowhere to put the status: the driver is broken */
	vq_copy_from(c, 0, &h, sizeof(h));
	uint8_t st = S_OK;
	uint32_t written = 0;
	struct iovec iov[VQ_MAX_SIZE];
	int n;
	switch (h.type) {
	case T_IN: {
		uint32_t len = c->in_len - 1;
		n = iov_slice(c->iov + c->nout, c->nin, 0, len, iov);
		if (!in_range(b, h.sector, len)) {
			st = S_IOERR;
			break;
		}
		if (b->async && start_async(b, c, T_IN, h.sector * SECTOR, iov, n, len))
			return VIRTIO_HANDLER_ASYNC;
		if (b->disk->ops->preadv(b->disk, iov, n, h.sector * SECTOR)) {
			st = S_IOERR;
			break;
		}
		written = len;
		b->stats.reads++;
		b->stats.bytes_read += len;
		break;
	}
	case T_OUT: {
		uint32_t len = c->out_len - (uint32_t)sizeof(h);
		n = iov_slice(c->iov, c->nout, sizeof(h), len, iov);
		if (b->disk->readonly || !in_range(b, h.sector, len)) {
			st = S_IOERR;
			break;
		}
		if (b->async && start_async(b, c, T_OUT, h.sector * SECTOR, iov, n, len))
			return VIRTIO_HANDLER_ASYNC;
		if (b->disk->ops->pwritev(b->disk, iov, n, h.sector * SECTOR)) {
			st = S_IOERR;
			break;
		}
		b->stats.writes++;
		b->stats.bytes_written += len;
		break;
	}
	case T_FLUSH:
		/* asynchronous: after every write started before it has completed */
		if (b->async && start_async(b, c, T_FLUSH, 0, NULL, 0, 0))
			return VIRTIO_HANDLER_ASYNC;
		if (b->disk->ops->flush(b->disk))
			st = S_IOERR;
		b->stats.flushes++;
		break;
	case T_GET_ID: {
		uint32_t len = c->in_len - 1;
		if (len > VIRTIO_BLK_ID_BYTES)
			len = VIRTIO_BLK_ID_BYTES;
		written = (uint32_t)vq_copy_to(c, 0, b->id, len);
		break;
	}
	case T_DISCARD:
	case T_WRITE_ZEROES:
		st = discard_or_zero(b, c, h.type);
		break;
	default:
		st = S_UNSUPP;
		break;
	}
	if (st == S_IOERR)
		b->stats.errors++;
	vq_copy_to(c, c->in_len - 1, &st, 1);
	return (int)(written + 1);
}

struct completion_ctx {
	struct virtio_blk *b;
	struct virtio_mmio *t;
};

/* A request finished on the engine: set its status and return its chain. A
 * short transfer, or O_DIRECT refusing the guest's buffers (EINVAL), is done
 * again through the disk's synchronous path, which handles both. */
static void complete(void *ctx, uint64_t tag, int res)
{
	struct completion_ctx *cc = ctx;
	struct virtio_blk *b = cc->b;
	struct blk_async *as = b->async;
	struct blk_req *r = &as->req[tag];
	int ok = res >= 0 && (uint32_t)res == r->len;
	if (!ok && r->type != T_FLUSH && (res >= 0 || res == -EINVAL || res == -EAGAIN))
		ok = (r->type == T_IN ? b->disk->ops->preadv(b->disk, r->iov, r->n, r->off)
		                      : b->disk->ops->pwritev(b->disk, r->iov, r->n, r->off)) == 0;
	uint32_t written = 1;
	if (r->type == T_IN) {
		b->stats.reads++;
		b->stats.bytes_read += ok ? r->len : 0;
		written += ok ? r->len : 0;
	} else if (r->type == T_OUT) {
		b->stats.writes++;
		b->stats.bytes_written += ok ? r->len : 0;
	} else {
		b->stats.flushes++;
	}
	if (!ok)
		b->stats.errors++;
	*r->status = ok ? S_OK : S_IOERR;
	if (cc->t)
		virtio_queue_complete(cc->t, 0, r->head, written);
	as->free[as->nfree++] = (uint16_t)tag;
}

static void reap(struct virtio_blk *b, struct virtio_mmio *t, int wait)
{
	struct completion_ctx cc = {b, t};
	if (disk_aio_reap(b->async->aio, wait, complete, &cc) && t)
		virtio_queue_notify(t, 0);
}

static void process(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct virtio_blk *b = dev;
	virtio_queue_run(t, q, handle, dev);
	if (b->async) {
		if (disk_aio_submit(b->async->aio))
			reap(b, t, 1); /* cannot start them: let them all finish */
		reap(b, t, 0);         /* those that completed inline (page cache hits) */
	}
}

static unsigned backend_fds(void *dev, struct pollfd *p, unsigned max, int *timeout_ms)
{
	struct virtio_blk *b = dev;
	(void)timeout_ms;
	if (!max || !disk_aio_inflight(b->async->aio))
		return 0;
	p[0] = (struct pollfd){disk_aio_event_fd(b->async->aio), POLLIN, 0};
	return 1;
}

static void backend_event(void *dev, struct virtio_mmio *t, const struct pollfd *p, unsigned n)
{
	struct virtio_blk *b = dev;
	if (n && p[0].revents) {
		disk_aio_clear_event(b->async->aio);
		reap(b, virtio_mmio_running(t) ? t : NULL, 0);
	}
}

static void drain(void *dev, struct virtio_mmio *t)
{
	reap(dev, t, 1);
}

static void config_read(void *dev, uint32_t off, uint8_t *data, unsigned size)
{
	struct virtio_blk *b = dev;
	uint8_t cfg[60];
	memset(cfg, 0, sizeof(cfg));
	uint64_t cap = b->disk->size / SECTOR;
	uint32_t seg_max = QUEUE_MAX - 2, blk_size = 512, max_dz = MAX_DZ_SECTS, dz_segs = 1;
	uint32_t align = 1;
	memcpy(cfg + 0, &cap, 8);
	memcpy(cfg + 12, &seg_max, 4);
	memcpy(cfg + 20, &blk_size, 4);
	memcpy(cfg + 36, &max_dz, 4);  /* max_discard_sectors */
	memcpy(cfg + 40, &dz_segs, 4); /* max_discard_seg */
	memcpy(cfg + 44, &align, 4);   /* discard_sector_alignment */
	memcpy(cfg + 48, &max_dz, 4);  /* max_write_zeroes_sectors */
	memcpy(cfg + 52, &dz_segs, 4); /* max_write_zeroes_seg */
	cfg[56] = 1;                   /* write_zeroes_may_unmap */
	if (off < sizeof(cfg) && size <= sizeof(cfg) - off)
		memcpy(data, cfg + off, size);
}

static void reset(void *dev)
{
	struct virtio_blk *b = dev;
	if (b->async)
		reap(b, NULL, 1); /* wait for requests in flight and forget them */
}

void virtio_blk_init(struct virtio_blk *b, struct disk *disk, const char *id)
{
	memset(b, 0, sizeof(*b));
	b->disk = disk;
	if (id) /* not NUL-terminated when it fills all 20 bytes, as the spec allows */
		memcpy(b->id, id, strnlen(id, sizeof(b->id)));
	uint64_t f = (1ULL << F_SEG_MAX) | (1ULL << F_BLK_SIZE) | (1ULL << F_FLUSH);
	if (disk->readonly)
		f |= 1ULL << F_RO;
	else
		f |= (1ULL << F_DISCARD) | (1ULL << F_WRITE_ZEROES);
	b->ops = (struct virtio_device_ops){
	    .name = "blk",
	    .device_id = VIRTIO_ID_BLOCK,
	    .nqueues = 1,
	    .queue_max = QUEUE_MAX,
	    .features = f,
	    .config_read = config_read,
	    .process = process,
	    .reset = reset,
	};
}

int virtio_blk_enable_async(struct virtio_blk *b, const char **why, struct err *e)
{
	struct blk_async *as = calloc(1, sizeof(*as));
	if (!as)
		return err_sys(e, "allocating virtio-blk requests");
	int rc = disk_aio_open(&as->aio, b->disk, QUEUE_MAX, why, e);
	if (rc <= 0) {
		free(as);
		return rc;
	}
	for (unsigned i = 0; i < QUEUE_MAX; i++)
		as->free[i] = (uint16_t)(QUEUE_MAX - 1 - i);
	as->nfree = QUEUE_MAX;
	b->async = as;
	b->ops.backend_fds = backend_fds;
	b->ops.backend_event = backend_event;
	b->ops.drain = drain;
	return 1;
}

int virtio_blk_swap(struct virtio_blk *b, struct disk *disk, struct err *e)
{
	if (disk->readonly != b->disk->readonly)
		return err_set(e, ERR_INPUT, "the new disk must be %s like the old one",
		               b->disk->readonly ? "read-only" : "writable");
	if (b->async) {
		struct disk_aio *aio = NULL;
		const char *why = NULL;
		int rc = disk_aio_open(&aio, disk, QUEUE_MAX, &why, e);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return err_set(e, ERR_INPUT, "the new disk cannot serve io_uring: %s", why);
		disk_aio_close(b->async->aio);
		b->async->aio = aio;
	}
	b->disk = disk;
	return 0;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (!b->async)
		return;
	disk_aio_close(b->async->aio);
	free(b->async);
	b->async = NULL;
}
