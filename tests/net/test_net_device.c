/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio-net model through the virtio-mmio transport, without KVM: the
 * queues live in a fake guest memory, a SOCK_SEQPACKET socketpair stands in
 * for the tap descriptor. Transmit and receive, hostile chains (short, long,
 * bad headers, wrong direction), rate limits, save/restore, configuration. */
#include "common/testutil.h"
#include "devices/virtio/mmio.h"
#include "devices/virtio/net.h"
#include "net/tap.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RAM   (1u << 20)
#define QSIZE 16

static const uint64_t ring_gpa[2][3] = {{0x1000, 0x2000, 0x2800}, {0x5000, 0x6000, 0x6800}};

struct rig {
	uint8_t *ram;
	struct guest_mem gm;
	struct virtio_mmio t;
	struct virtio_net *n;
	struct net_backend *be;
	int host; /* our end of the socketpair: the "tap" */
	uint16_t avail[2];
};

static int irqs;
static void count_irq(void *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&irqs, 1, __ATOMIC_SEQ_CST);
}

static uint32_t rd(struct rig *r, uint64_t off)
{
	uint8_t d[4];
	pthread_mutex_lock(&r->t.lock);
	virtio_mmio_ops.read(&r->t, off, d, 4);
	pthread_mutex_unlock(&r->t.lock);
	uint32_t v;
	memcpy(&v, d, 4);
	return v;
}

static void wr(struct rig *r, uint64_t off, uint32_t v)
{
	pthread_mutex_lock(&r->t.lock);
	virtio_mmio_ops.write(&r->t, off, (uint8_t *)&v, 4);
	pthread_mutex_unlock(&r->t.lock);
}

static uint32_t driver_up(struct rig *r, uint64_t features)
{
	wr(r, 0x70, 0);
	memset(r->ram, 0, 0x8000);
	r->avail[0] = r->avail[1] = 0;
	wr(r, 0x70, 3);
	wr(r, 0x24, 0);
	wr(r, 0x20, (uint32_t)features);
	wr(r, 0x24, 1);
	wr(r, 0x20, (uint32_t)(features >> 32));
	wr(r, 0x70, 0xb);
	if (!(rd(r, 0x70) & 8))
		return rd(r, 0x70);
	for (unsigned q = 0; q < 2; q++) {
		wr(r, 0x30, q);
		wr(r, 0x38, QSIZE);
		wr(r, 0x80, (uint32_t)ring_gpa[q][0]);
		wr(r, 0x90, (uint32_t)ring_gpa[q][1]);
		wr(r, 0xa0, (uint32_t)ring_gpa[q][2]);
		wr(r, 0x44, 1);
	}
	wr(r, 0x70, 0xf);
	return rd(r, 0x70);
}

#define BASE_FEATURES ((1ULL << 32) | (1ULL << VIRTIO_NET_F_MAC))

static void rig_up(struct rig *r, const struct virtio_net_limits *lim)
{
	memset(r, 0, sizeof(*r));
	r->ram = calloc(1, RAM);
	assert_non_null(r->ram);
	r->gm.r[0] = (struct guest_mem_region){0, RAM, r->ram};
	r->gm.n = 1;
	r->gm.total = RAM;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	int big = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	r->host = sv[1];
	struct err e = {0};
	assert_int_equal(net_tap_from_fd(&r->be, sv[0], &e), 0);
	r->n = malloc(sizeof(*r->n));
	assert_non_null(r->n);
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x42};
	virtio_net_init(r->n, r->be, mac, lim);
	assert_int_equal(virtio_mmio_init(&r->t, &r->n->ops, r->n, &r->gm, &e), 0);
	virtio_mmio_set_irq(&r->t, (struct virtio_irq){count_irq, NULL});
	assert_int_equal(virtio_mmio_start(&r->t, &e), 0);
}

static void rig_down(struct rig *r)
{
	virtio_mmio_destroy(&r->t);
	net_backend_free(r->be);
	free(r->n);
	close(r->host);
	free(r->ram);
}

static void set_desc(struct rig *r, unsigned q, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
	uint8_t *d = r->ram + ring_gpa[q][0] + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void offer(struct rig *r, unsigned q, uint16_t head)
{
	uint8_t *a = r->ram + ring_gpa[q][1];
	memcpy(a + 4 + 2 * (r->avail[q] % QSIZE), &head, 2);
	r->avail[q]++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(a + 2, &r->avail[q], 2);
	wr(r, 0x50, q);
}

static uint16_t used_idx(struct rig *r, unsigned q)
{
	uint16_t v;
	memcpy(&v, r->ram + ring_gpa[q][2] + 2, 2);
	return v;
}

static uint32_t used_len(struct rig *r, unsigned q, uint16_t idx)
{
	uint32_t v;
	memcpy(&v, r->ram + ring_gpa[q][2] + 4 + 8 * (idx % QSIZE) + 4, 4);
	return v;
}

static int wait_used(struct rig *r, unsigned q, uint16_t want, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (used_idx(r, q) == want)
			return 1;
		usleep(1000);
	}
	return used_idx(r, q) == want;
}

/* A transmit chain: header at 0x30000, frame at 0x30100 (len bytes). */
static void tx_chain(struct rig *r, unsigned head, const struct virtio_net_hdr *h,
                     const void *frame, uint32_t len)
{
	memcpy(r->ram + 0x30000 + 0x400 * head, h, NET_HDR_LEN);
	memcpy(r->ram + 0x40000 + 0x800 * head, frame, len);
	set_desc(r, 1, 2 * head, 0x30000 + 0x400 * head, NET_HDR_LEN, VRING_DESC_F_NEXT,
	         (uint16_t)(2 * head + 1));
	set_desc(r, 1, 2 * head + 1, 0x40000 + 0x800 * head, len, 0, 0);
}

static ssize_t host_recv(struct rig *r, void *buf, size_t cap, int ms)
{
	struct pollfd p = {r->host, POLLIN, 0};
	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(r->host, buf, cap, MSG_DONTWAIT);
}

static void frame_fill(uint8_t *f, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
}

static void transmit(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r, NULL);
	assert_int_equal(driver_up(&r, BASE_FEATURES | (1ULL << VIRTIO_NET_F_CSUM)), 0xf);
	uint8_t frame[100], got[200];
	frame_fill(frame, sizeof(frame), 1);
	struct virtio_net_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	                           .csum_start = 34,
	                           .csum_offset = 6,
	                           .num_buffers = 77};
	tx_chain(&r, 0, &h, frame, sizeof(frame));
	offer(&r, 1, 0);
	assert_true(wait_used(&r, 1, 1, 2000));
	assert_int_equal(used_len(&r, 1, 0), 0);
	ssize_t n = host_recv(&r, got, sizeof(got), 2000);
	assert_int_equal(n, NET_HDR_LEN + sizeof(frame));
	struct virtio_net_hdr gh;
	memcpy(&gh, got, NET_HDR_LEN);
	assert_int_equal(gh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(gh.csum_start, 34);
	assert_int_equal(gh.num_buffers, 0); /* not passed on from the guest */
	assert_memory_equal(got + NET_HDR_LEN, frame, sizeof(frame));
	assert_int_equal(r.n->stats.tx_packets, 1);
	assert_int_equal(r.n->stats.tx_bytes, sizeof(frame));
	rig_down(&r);
}

static void receive(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r, NULL);
	assert_int_equal(driver_up(&r, BASE_FEATURES), 0xf);
	/* two receive buffers of 1526 bytes, each split in two descriptors */
	for (unsigned i = 0; i < 2; i++) {
		set_desc(&r, 0, 2 * i, 0x10000 + 0x1000 * i, 100,
		         VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, (uint16_t)(2 * i + 1));
		set_desc(&r, 0, 2 * i + 1, 0x10000 + 0x1000 * i + 100, 1426, VRING_DESC_F_WRITE, 0);
		offer(&r, 0, (uint16_t)(2 * i));
	}
	int before = __atomic_load_n(&irqs, __ATOMIC_SEQ_CST);
	uint8_t pkt[NET_HDR_LEN + 300];
	memset(pkt, 0, NET_HDR_LEN);
	pkt[10] = 9; /* num_buffers from the host side is overwritten */
	frame_fill(pkt + NET_HDR_LEN, 300, 5);
	assert_int_equal(send(r.host, pkt, sizeof(pkt), 0), sizeof(pkt));
	assert_true(wait_used(&r, 0, 1, 2000));
	assert_int_equal(used_len(&r, 0, 0), sizeof(pkt));
	uint16_t nb;
	memcpy(&nb, r.ram + 0x10000 + 10, 2);
	assert_int_equal(nb, 1);
	assert_memory_equal(r.ram + 0x10000 + NET_HDR_LEN, pkt + NET_HDR_LEN, 300);
	assert_true(__atomic_load_n(&irqs, __ATOMIC_SEQ_CST) > before);

	/* too big for the next buffer: dropped; the one after it fits */
	uint8_t big[NET_HDR_LEN + 2000];
	memset(big, 0, sizeof(big));
	assert_int_equal(send(r.host, big, sizeof(big), 0), sizeof(big));
	assert_int_equal(send(r.host, pkt, NET_HDR_LEN + 60, 0), NET_HDR_LEN + 60);
	assert_true(wait_used(&r, 0, 2, 2000));
	assert_int_equal(used_len(&r, 0, 1), NET_HDR_LEN + 60);
	assert_int_equal(r.n->stats.rx_dropped, 1);
	assert_int_equal(r.n->stats.rx_packets, 2);

	/* no buffers left: frames wait until the driver gives one; the first two
	 * use offloads the driver did not accept (TSO, checksum) and are dropped */
	uint8_t gso[NET_HDR_LEN + 60] = {VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4};
	assert_int_equal(send(r.host, gso, sizeof(gso), 0), sizeof(gso));
	gso[1] = 0;
	assert_int_equal(send(r.host, gso, sizeof(gso), 0), sizeof(gso));
	assert_int_equal(send(r.host, pkt, NET_HDR_LEN + 80, 0), NET_HDR_LEN + 80);
	usleep(50000);
	assert_int_equal(used_idx(&r, 0), 2);
	set_desc(&r, 0, 4, 0x12000, 1526, VRING_DESC_F_WRITE, 0);
	offer(&r, 0, 4);
	assert_true(wait_used(&r, 0, 3, 2000));
	assert_int_equal(used_len(&r, 0, 2), NET_HDR_LEN + 80);
	assert_int_equal(r.n->stats.rx_dropped, 3);
	assert_false(rd(&r, 0x70) & 0x40);
	rig_down(&r);
}

/* MRG_RXBUF: a frame spread over as many receive buffers as it needs. */
static void post_small(struct rig *r, uint16_t d)
{
	set_desc(r, 0, d, 0x10000 + 0x200 * d, 100, VRING_DESC_F_WRITE, 0);
	offer(r, 0, d);
}

static void merged_receive(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r, NULL);
	assert_int_equal(driver_up(&r, BASE_FEATURES | (1ULL << VIRTIO_NET_F_MRG_RXBUF)), 0xf);
	for (uint16_t d = 0; d < 3; d++)
		post_small(&r, d);
	uint8_t pkt[NET_HDR_LEN + 2000];
	memset(pkt, 0, NET_HDR_LEN);
	frame_fill(pkt + NET_HDR_LEN, 2000, 11);
	assert_int_equal(send(r.host, pkt, NET_HDR_LEN + 250, 0), NET_HDR_LEN + 250);
	assert_true(wait_used(&r, 0, 3, 2000));
	assert_int_equal(used_len(&r, 0, 0), 100);
	assert_int_equal(used_len(&r, 0, 1), 100);
	assert_int_equal(used_len(&r, 0, 2), 62);
	uint16_t nb;
	memcpy(&nb, r.ram + 0x10000 + 10, 2);
	assert_int_equal(nb, 3);
	assert_memory_equal(r.ram + 0x10000 + NET_HDR_LEN, pkt + NET_HDR_LEN, 88);
	assert_memory_equal(r.ram + 0x10200, pkt + 100, 100);
	assert_memory_equal(r.ram + 0x10400, pkt + 200, 62);

	/* 312 bytes with two buffers there: it waits for more, then takes four */
	post_small(&r, 3);
	post_small(&r, 4);
	assert_int_equal(send(r.host, pkt, NET_HDR_LEN + 300, 0), NET_HDR_LEN + 300);
	usleep(50000);
	assert_int_equal(used_idx(&r, 0), 3);
	post_small(&r, 5);
	post_small(&r, 6);
	assert_true(wait_used(&r, 0, 7, 2000));
	assert_int_equal(used_len(&r, 0, 6), 12);
	memcpy(&nb, r.ram + 0x10000 + 0x200 * 3 + 10, 2);
	assert_int_equal(nb, 4);
	assert_memory_equal(r.ram + 0x10000 + 0x200 * 6, pkt + 300, 12);

	/* more than the whole ring holds (16 x 100 bytes): dropped, not waited for */
	assert_int_equal(send(r.host, pkt, sizeof(pkt), 0), sizeof(pkt));
	assert_int_equal(send(r.host, pkt, NET_HDR_LEN + 20, 0), NET_HDR_LEN + 20);
	for (uint16_t d = 0; d < 16; d++)
		post_small(&r, d);
	assert_true(wait_used(&r, 0, 8, 2000));
	assert_int_equal(used_len(&r, 0, 7), NET_HDR_LEN + 20);
	assert_int_equal(r.n->stats.rx_dropped, 1);
	assert_int_equal(r.n->stats.rx_packets, 3);

	/* a readable buffer among the ones a frame would need: NEEDS_RESET */
	assert_int_equal(send(r.host, pkt, NET_HDR_LEN + 1500, 0), NET_HDR_LEN + 1500);
	for (int i = 0; i < 2000 && !(rd(&r, 0x70) & 0x40); i++) {
		if (i == 50) {
			set_desc(&r, 0, 0, 0x10000, 100, 0, 0); /* not writable */
			offer(&r, 0, 0);
		}
		usleep(1000);
	}
	assert_true(rd(&r, 0x70) & 0x40);
	rig_down(&r);
}

static void hostile_transmit(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r, NULL);
	assert_int_equal(driver_up(&r, BASE_FEATURES), 0xf); /* no CSUM, no TSO */
	uint8_t frame[100];
	frame_fill(frame, sizeof(frame), 3);
	struct virtio_net_hdr plain = {0};
	/* 0: too short (header + 5 bytes) */
	tx_chain(&r, 0, &plain, frame, 5);
	/* 1: checksum offload that was not negotiated */
	struct virtio_net_hdr csum = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 14};
	tx_chain(&r, 1, &csum, frame, sizeof(frame));
	/* 2: TSO that was not negotiated */
	struct virtio_net_hdr tso = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	                             .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
	                             .gso_size = 1448};
	tx_chain(&r, 2, &tso, frame, sizeof(frame));
	/* 3: unknown flags */
	struct virtio_net_hdr flags = {.flags = 0x80};
	tx_chain(&r, 3, &flags, frame, sizeof(frame));
	/* 4 (descriptors 8, 9): longer than NET_MAX_PACKET */
	memset(r.ram + 0x80000, 0, NET_HDR_LEN);
	set_desc(&r, 1, 8, 0x80000, NET_HDR_LEN, VRING_DESC_F_NEXT, 9);
	set_desc(&r, 1, 9, 0x80000 + NET_HDR_LEN, NET_MAX_PACKET - NET_HDR_LEN + 1, 0, 0);
	for (uint16_t h = 0; h < 4; h++)
		offer(&r, 1, (uint16_t)(2 * h));
	offer(&r, 1, 8);
	assert_true(wait_used(&r, 1, 5, 2000));
	assert_int_equal(r.n->stats.tx_bad, 5);
	assert_int_equal(r.n->stats.tx_packets, 0);
	uint8_t got[200];
	assert_int_equal(host_recv(&r, got, sizeof(got), 50), -1); /* nothing reached the tap */
	assert_false(rd(&r, 0x70) & 0x40);

	/* exactly NET_MAX_PACKET is fine */
	set_desc(&r, 1, 9, 0x80000 + NET_HDR_LEN, NET_MAX_PACKET - NET_HDR_LEN, 0, 0);
	offer(&r, 1, 8);
	assert_true(wait_used(&r, 1, 6, 2000));
	static uint8_t huge[NET_MAX_PACKET + 10];
	assert_int_equal(host_recv(&r, huge, sizeof(huge), 2000), NET_MAX_PACKET);

	/* a writable buffer on the transmit queue: NEEDS_RESET */
	set_desc(&r, 1, 0, 0x30000, NET_HDR_LEN, VRING_DESC_F_NEXT, 1);
	set_desc(&r, 1, 1, 0x40000, 100, VRING_DESC_F_WRITE, 0);
	offer(&r, 1, 0);
	for (int i = 0; i < 2000 && !(rd(&r, 0x70) & 0x40); i++)
		usleep(1000);
	assert_true(rd(&r, 0x70) & 0x40);

	/* reset and renegotiate: works again */
	assert_int_equal(driver_up(&r, BASE_FEATURES), 0xf);
	tx_chain(&r, 0, &plain, frame, sizeof(frame));
	offer(&r, 1, 0);
	assert_true(wait_used(&r, 1, 1, 2000));
	assert_int_equal(host_recv(&r, got, sizeof(got), 2000), NET_HDR_LEN + sizeof(frame));
	rig_down(&r);
}

static void hostile_receive(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r, NULL);
	assert_int_equal(driver_up(&r, BASE_FEATURES), 0xf);
	/* a receive buffer the device could only read */
	set_desc(&r, 0, 0, 0x10000, 1526, 0, 0);
	offer(&r, 0, 0);
	uint8_t pkt[NET_HDR_LEN + 60] = {0};
	assert_int_equal(send(r.host, pkt, sizeof(pkt), 0), sizeof(pkt));
	for (int i = 0; i < 2000 && !(rd(&r, 0x70) & 0x40); i++)
		usleep(1000);
	assert_true(rd(&r, 0x70) & 0x40);
	/* too small for even the header */
	assert_int_equal(driver_up(&r, BASE_FEATURES), 0xf);
	set_desc(&r, 0, 0, 0x10000, 8, VRING_DESC_F_WRITE, 0);
	offer(&r, 0, 0);
	assert_int_equal(send(r.host, pkt, sizeof(pkt), 0), sizeof(pkt));
	for (int i = 0; i < 2000 && !(rd(&r, 0x70) & 0x40); i++)
		usleep(1000);
	assert_true(rd(&r, 0x70) & 0x40);
	rig_down(&r);
}

static void rate_limited(void **state)
{
	(void)state;
	/* 20 frames/s each way, bursts of one frame */
	struct virtio_net_limits lim = {
	    .tx_ops = 20, .tx_ops_burst = 1, .rx_ops = 20, .rx_ops_burst = 1};
	struct rig r;
	rig_up(&r, &lim);
	assert_int_equal(driver_up(&r, BASE_FEATURES), 0xf);
	uint8_t frame[60];
	frame_fill(frame, sizeof(frame), 9);
	struct virtio_net_hdr plain = {0};
	double t0 = now_secs();
	for (unsigned i = 0; i < 4; i++) {
		tx_chain(&r, i, &plain, frame, sizeof(frame));
		offer(&r, 1, (uint16_t)(2 * i));
	}
	assert_true(wait_used(&r, 1, 4, 3000));
	double tx = now_secs() - t0;
	uint8_t got[100];
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(host_recv(&r, got, sizeof(got), 1000),
		                 NET_HDR_LEN + sizeof(frame));
	/* first frame at once, the other three 50 ms apart */
	assert_true(tx >= 0.14);
	assert_true(r.n->stats.tx_throttled > 0);

	for (unsigned i = 0; i < 4; i++) {
		set_desc(&r, 0, i, 0x10000 + 0x800 * i, 1526, VRING_DESC_F_WRITE, 0);
		offer(&r, 0, (uint16_t)i);
	}
	uint8_t pkt[NET_HDR_LEN + 60] = {0};
	t0 = now_secs();
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(send(r.host, pkt, sizeof(pkt), 0), sizeof(pkt));
	assert_true(wait_used(&r, 0, 4, 3000));
	double rx = now_secs() - t0;
	assert_true(rx >= 0.14);
	assert_true(r.n->stats.rx_throttled > 0);
	test_measured("20 ops/s limit: 4 frames sent in %.3f s, received in %.3f s", tx, rx);
	rig_down(&r);
}

static void config_and_state(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r, NULL);
	assert_int_equal(rd(&r, 0x008), 1); /* network card */
	wr(&r, 0x14, 0);
	uint32_t f = rd(&r, 0x10);
	assert_true(f & (1u << VIRTIO_NET_F_MAC));
	assert_true(f & (1u << VIRTIO_NET_F_CSUM));
	assert_true(f & (1u << VIRTIO_NET_F_GUEST_TSO4));
	assert_true(f & (1u << VIRTIO_NET_F_MRG_RXBUF));
	uint8_t mac[8];
	for (unsigned i = 0; i < 8; i++) {
		pthread_mutex_lock(&r.t.lock);
		virtio_mmio_ops.read(&r.t, 0x100 + i, mac + i, 1);
		pthread_mutex_unlock(&r.t.lock);
	}
	static const uint8_t want[6] = {0x02, 0, 0, 0, 0, 0x42};
	assert_memory_equal(mac, want, 6);
	assert_int_equal(mac[6], 1); /* link up */
	/* an offset past the end reads zero */
	assert_int_equal(rd(&r, 0x100 + 64), 0);

	/* save/restore round trip of the model's state */
	assert_int_equal(driver_up(&r, BASE_FEATURES), 0xf);
	uint8_t frame[60] = {1};
	struct virtio_net_hdr plain = {0};
	tx_chain(&r, 0, &plain, frame, sizeof(frame));
	offer(&r, 1, 0);
	assert_true(wait_used(&r, 1, 1, 2000));
	struct virtio_net_state st;
	pthread_mutex_lock(&r.t.qlock);
	virtio_net_save(r.n, &st);
	pthread_mutex_unlock(&r.t.qlock);
	assert_int_equal(st.stats.tx_packets, 1);
	struct virtio_net other;
	static const uint8_t zero_mac[6] = {0x02, 9, 9, 9, 9, 9};
	virtio_net_init(&other, r.be, zero_mac, NULL);
	struct err e = {0};
	assert_int_equal(virtio_net_restore(&other, &st, &e), 0);
	assert_memory_equal(other.mac, want, 6);
	assert_int_equal(other.stats.tx_packets, 1);
	assert_int_equal(other.stats.tx_bytes, 60);
	st.mac[0] = 1; /* multicast: refused */
	assert_int_equal(virtio_net_restore(&other, &st, &e), -1);
	rig_down(&r);
}

static uint64_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* Random chains on both queues (lengths, directions, header bytes, frames
 * from the host of random sizes): the device never crashes or stalls; after
 * each burst it either still works or asks for a reset, and a reset always
 * brings it back. */
static void random_chains(void **state)
{
	(void)state;
	struct rig r;
	rig_up(&r, NULL);
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
#define RND() rnd(&seed)
	unsigned resets = 0, served = 0;
	static uint8_t junk[70000];
	for (int round = 0; round < 150; round++) {
		uint64_t f = BASE_FEATURES | (RND() & 1 ? 1ULL << VIRTIO_NET_F_CSUM : 0) |
		             (RND() & 1 ? 1ULL << VIRTIO_NET_F_HOST_TSO4 : 0) |
		             (RND() & 1 ? 1ULL << VIRTIO_NET_F_MRG_RXBUF : 0);
		if (round == 0 || (rd(&r, 0x70) & 0x40)) {
			resets += round != 0;
			assert_int_equal(driver_up(&r, f), 0xf);
		}
		unsigned q = RND() & 1, ndesc = 1 + RND() % 4;
		uint16_t base = (uint16_t)(RND() % 12);
		for (unsigned i = 0; i < ndesc; i++) {
			uint32_t len = (uint32_t)(RND() % 3 ? RND() % 2048 : RND() % 70000) + 1;
			uint64_t addr = 0x20000 + RND() % (RAM - 0x20000 - 70000);
			for (uint32_t k = 0; k < 64 && k < len; k++)
				r.ram[addr + k] = (uint8_t)RND();
			uint16_t flags = (uint16_t)((i + 1 < ndesc ? VRING_DESC_F_NEXT : 0) |
			                            (RND() % 4 == 0 ? VRING_DESC_F_WRITE : 0));
			if (q == 0 && RND() % 8)
				flags |= VRING_DESC_F_WRITE;
			set_desc(&r, q, base + i, addr, len, flags, (uint16_t)(base + i + 1));
		}
		uint16_t before = used_idx(&r, q);
		offer(&r, q, base);
		if (RND() % 2) {
			size_t n = RND() % sizeof(junk);
			send(r.host, junk, n, MSG_DONTWAIT);
		}
		/* used, or NEEDS_RESET, or (receive) waiting for a frame: never a hang */
		for (int i = 0; i < 200 && used_idx(&r, q) == before && !(rd(&r, 0x70) & 0x40); i++)
			usleep(200);
		served += used_idx(&r, q) != before;
	}
	/* drain what reached the "tap" and check the device still works */
	uint8_t got[200];
	while (host_recv(&r, got, sizeof(got), 0) > 0)
		;
	assert_int_equal(driver_up(&r, BASE_FEATURES), 0xf);
	uint8_t frame[100];
	frame_fill(frame, sizeof(frame), 77);
	struct virtio_net_hdr plain = {0};
	tx_chain(&r, 0, &plain, frame, sizeof(frame));
	offer(&r, 1, 0);
	assert_true(wait_used(&r, 1, 1, 2000));
	assert_int_equal(host_recv(&r, got, sizeof(got), 2000), NET_HDR_LEN + sizeof(frame));
	assert_memory_equal(got + NET_HDR_LEN, frame, sizeof(frame));
	test_measured("150 random chains: %u served, %u resets", served, resets);
	assert_true(served > 0 && resets > 0);
	rig_down(&r);
#undef RND
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(transmit),         cmocka_unit_test(receive),
	    cmocka_unit_test(hostile_transmit), cmocka_unit_test(hostile_receive),
	    cmocka_unit_test(rate_limited),     cmocka_unit_test(config_and_state),
	    cmocka_unit_test(random_chains),    cmocka_unit_test(merged_receive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
