/* SPDX-License-Identifier: Apache-2.0 */
/* A test driver for virtio-vsock without KVM: the device runs on its own I/O
 * thread over fake guest memory, the test plays the guest through the
 * registers and rings, and host programs are real Unix sockets. */
#ifndef CAPSA_TESTS_VSOCKDRV_H
#define CAPSA_TESTS_VSOCKDRV_H

#include "vqtest.h"

#include "devices/virtio/mmio.h"
#include "devices/virtio/vsock_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define QSIZE    16
#define RXBUF    0x10000 /* 16 receive buffers of RXLEN */
#define RXLEN    (44 + 4096)
#define RXSTRIDE 0x2000
#define TXHDR    0x40000
#define TXDATA   0x41000 /* up to 64 KiB */
#define EVBUF    0x60000
#define GUEST    5 /* guest CID */

struct drv {
	struct fake f;
	struct virtio_mmio t;
	struct virtio_vsock *v;
	uint16_t avail[3], used[3];
	char *dir;
	char uds[256];
};

static inline uint64_t qbase(unsigned q)
{
	return 0x1000 + 0x1000ULL * q; /* desc, avail at +0x400, used at +0x800 */
}

static inline uint32_t d_rd(struct drv *d, uint64_t off)
{
	uint8_t b[4];
	pthread_mutex_lock(&d->t.lock);
	virtio_mmio_ops.read(&d->t, off, b, 4);
	pthread_mutex_unlock(&d->t.lock);
	uint32_t v;
	memcpy(&v, b, 4);
	return v;
}

static inline void d_wr(struct drv *d, uint64_t off, uint32_t v)
{
	pthread_mutex_lock(&d->t.lock);
	virtio_mmio_ops.write(&d->t, off, (uint8_t *)&v, 4);
	pthread_mutex_unlock(&d->t.lock);
}

static inline void q_desc(struct drv *d, unsigned q, unsigned i, uint64_t addr, uint32_t len,
                          uint16_t flags, uint16_t next)
{
	set_desc(&d->f, qbase(q), i, addr, len, flags, next);
}

static inline void q_offer(struct drv *d, unsigned q, uint16_t head)
{
	uint8_t *av = d->f.ram + qbase(q) + 0x400;
	memcpy(av + 4 + 2 * (d->avail[q] % QSIZE), &head, 2);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	d->avail[q]++;
	memcpy(av + 2, &d->avail[q], 2);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	d_wr(d, 0x50, q);
}

static inline uint16_t q_used_idx(struct drv *d, unsigned q)
{
	uint16_t v;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(&v, d->f.ram + qbase(q) + 0x800 + 2, 2);
	return v;
}

/* Wait for the next used element of q: 1 with id/len, 0 on timeout or NEEDS_RESET. */
static inline int q_wait(struct drv *d, unsigned q, int ms, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < ms; i++) {
		if (q_used_idx(d, q) != d->used[q]) {
			uint8_t *e = d->f.ram + qbase(q) + 0x800 + 4 + 8 * (d->used[q] % QSIZE);
			memcpy(id, e, 4);
			memcpy(len, e + 4, 4);
			d->used[q]++;
			return 1;
		}
		if (d_rd(d, 0x70) & 0x40)
			return 0;
		usleep(1000);
	}
	return 0;
}

static inline void drv_setup(struct drv *d)
{
	memset(d->avail, 0, sizeof(d->avail));
	memset(d->used, 0, sizeof(d->used));
	memset(d->f.ram + 0x1000, 0, 0x3000);
	d_wr(d, 0x70, 0);
	d_wr(d, 0x70, 1);
	d_wr(d, 0x70, 3);
	d_wr(d, 0x24, 1);
	d_wr(d, 0x20, 1); /* VERSION_1 */
	d_wr(d, 0x70, 0xb);
	assert_true(d_rd(d, 0x70) & 8);
	for (unsigned q = 0; q < 3; q++) {
		d_wr(d, 0x30, q);
		d_wr(d, 0x38, QSIZE);
		d_wr(d, 0x80, (uint32_t)qbase(q));
		d_wr(d, 0x90, (uint32_t)qbase(q) + 0x400);
		d_wr(d, 0xa0, (uint32_t)qbase(q) + 0x800);
		d_wr(d, 0x44, 1);
	}
	d_wr(d, 0x70, 0xf);
	assert_int_equal(d_rd(d, 0x70), 0xf);
	for (uint16_t i = 0; i < QSIZE; i++) {
		q_desc(d, Q_RX, i, RXBUF + (uint64_t)i * RXSTRIDE, RXLEN, VRING_DESC_F_WRITE, 0);
		q_offer(d, Q_RX, i);
	}
	q_desc(d, Q_EVT, 0, EVBUF, 8, VRING_DESC_F_WRITE, 0);
	q_offer(d, Q_EVT, 0);
}

static inline void drv_init(struct drv *d, unsigned max_conns)
{
	memset(d, 0, sizeof(*d));
	fake_init(&d->f, QSIZE);
	d->dir = test_tmpdir();
	snprintf(d->uds, sizeof(d->uds), "%s/v.sock", d->dir);
	struct err e = {0};
	d->v = virtio_vsock_new(GUEST, d->uds, max_conns, &e);
	assert_non_null(d->v);
	assert_int_equal(virtio_mmio_init(&d->t, &virtio_vsock_ops, d->v, &d->f.gm, &e), 0);
	assert_int_equal(virtio_mmio_start(&d->t, &e), 0);
	drv_setup(d);
}

static inline void drv_free(struct drv *d)
{
	virtio_mmio_destroy(&d->t);
	virtio_vsock_free(d->v);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	assert_int_equal(system(cmd), 0);
	free(d->dir);
	fake_free(&d->f);
}

/* Next packet from the device; data (if any) copied to buf (cap bytes). */
static inline int rx_pkt(struct drv *d, struct vsock_hdr *h, void *buf, size_t cap, int ms)
{
	uint32_t id, len;
	if (!q_wait(d, Q_RX, ms, &id, &len))
		return 0;
	assert_true(id < QSIZE);
	assert_true(len >= 44 && len <= RXLEN);
	uint8_t *p = d->f.ram + RXBUF + (uint64_t)id * RXSTRIDE;
	memcpy(h, p, 44);
	assert_int_equal(h->len, len - 44);
	if (buf)
		memcpy(buf, p + 44, h->len < cap ? h->len : cap);
	q_offer(d, Q_RX, (uint16_t)id);
	return 1;
}

/* Send raw bytes as one TX chain (header and payload in two descriptors when
 * both exist); waits until the device has consumed it. */
static inline int tx_raw(struct drv *d, const void *hdr, uint32_t hlen, const void *data,
                         uint32_t dlen)
{
	memcpy(d->f.ram + TXHDR, hdr, hlen);
	if (dlen) {
		memcpy(d->f.ram + TXDATA, data, dlen);
		q_desc(d, Q_TX, 0, TXHDR, hlen, VRING_DESC_F_NEXT, 1);
		q_desc(d, Q_TX, 1, TXDATA, dlen, 0, 0);
	} else {
		q_desc(d, Q_TX, 0, TXHDR, hlen, 0, 0);
	}
	q_offer(d, Q_TX, 0);
	uint32_t id, len;
	return q_wait(d, Q_TX, 2000, &id, &len);
}

static inline void tx_pkt(struct drv *d, uint32_t src_port, uint32_t dst_port, uint16_t op,
                          uint32_t flags, uint32_t buf_alloc, uint32_t fwd_cnt, const void *data,
                          uint32_t len)
{
	struct vsock_hdr h = {GUEST, 2,     src_port,  dst_port, len, VSOCK_TYPE_STREAM,
	                      op,    flags, buf_alloc, fwd_cnt};
	assert_true(tx_raw(d, &h, 44, data, len));
}

static inline int host_connect(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static inline int host_listen(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* Read up to len bytes within ms; returns bytes read (0 at EOF), -1 on an
 * error (a reset connection), -2 on timeout. */
static inline ssize_t host_read(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	if (poll(&p, 1, ms) <= 0)
		return -2;
	return read(fd, buf, len);
}

static inline ssize_t host_read_all(int fd, void *buf, size_t len, int ms)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = host_read(fd, (uint8_t *)buf + got, len - got, ms);
		if (r <= 0)
			return r < 0 && !got ? -1 : (ssize_t)got;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

#endif
