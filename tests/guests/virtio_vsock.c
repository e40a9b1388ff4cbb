/* SPDX-License-Identifier: Apache-2.0 */
/* test=virtio-vsock, test=virtio-vsock-bench: a polling virtio-vsock driver at
 * CPL3 (interrupts off, used rings polled, every wait bounded).
 *
 * virtio-vsock lport=L hport=P mib=M: (a) accept a host connection to port L
 * and echo it until the host half-closes; (b) connect to host port P, stream M
 * MiB of a pattern through the host's echo and check it; (c) connect to port
 * P+1, where nobody listens, and expect RST.
 * virtio-vsock-bench hport=P rounds=N size=S mib=M: N round trips of S bytes,
 * then M MiB through the echo; rdtsc cycles for both. */
#include "guest.h"
#include "io.h"
#include "virtio_drv.h"

#define Q_RX  0
#define Q_TX  1
#define Q_EVT 2

#define OP_REQUEST        1
#define OP_RESPONSE       2
#define OP_RST            3
#define OP_SHUTDOWN       4
#define OP_RW             5
#define OP_CREDIT_UPDATE  6
#define OP_CREDIT_REQUEST 7

#define HDR    44
#define NRX    16
#define RXDATA 65536
#define NTX    16
#define TXDATA 32768
#define GBUF   (256u << 10)                 /* the guest's receive buffer, advertised */
#define WAIT   (40ull * 1000 * 1000 * 1000) /* TSC cycles, about 15 s or more */
#define WINDOW (128u << 10) /* bytes in flight in the benchmark, as virtio_console.c */

struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

static uint8_t rxbuf[NRX][HDR + RXDATA] __attribute__((aligned(64)));
static struct hdr txhdr[NTX];
static uint8_t txdata[NTX][TXDATA] __attribute__((aligned(64)));
static int txbusy[NTX];
static uint32_t event_id;

static struct vdev dev;
static const char *cmdline;

struct vbuf {
	void *p;
	uint32_t len;
	int write;
};

/* Chain the buffers in descriptors head, head+1, ... and publish it. */
static void add_chain(unsigned q, uint16_t head, const struct vbuf *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		dev.q[q].desc[head + i] = (struct vdesc){
		    (uintptr_t)b[i].p, b[i].len,
		    (uint16_t)((i + 1 < n ? F_NEXT : 0) | (b[i].write ? F_WRITE : 0)),
		    (uint16_t)(head + i + 1)};
	vdrv_publish(&dev, q, head);
}
static uint64_t cid;
static int failed;

/* One connection at a time. */
struct conn {
	uint32_t lport, pport;
	uint32_t peer_buf, peer_fwd, tx_cnt; /* host's receive side */
	uint32_t fwd_cnt, fwd_told;          /* ours */
	int requested, established, rst, peer_shut;
	uint32_t req_port; /* a REQUEST for lport from this host port */
};
static struct conn cn;

/* Incoming stream data goes here until the consumer takes it (at most GBUF,
 * since the device respects our credit). */
static uint8_t inbuf[GBUF];
static uint32_t in_head, in_len;

static uint32_t credit(void)
{
	uint32_t fl = cn.tx_cnt - cn.peer_fwd;
	return fl >= cn.peer_buf ? 0 : cn.peer_buf - fl;
}

static void reclaim(void)
{
	uint32_t id, len;
	while (vdrv_poll_used(&dev, Q_TX, &id, &len))
		if (id / 2 < NTX)
			txbusy[id / 2] = 0;
}

/* Send one packet on the connection; waits (bounded) for a free slot. */
static int send_pkt(uint16_t op, uint32_t flags, const void *data, uint32_t len)
{
	uint64_t t0 = rdtsc();
	int s = -1;
	while (s < 0) {
		reclaim();
		for (int i = 0; i < NTX && s < 0; i++)
			if (!txbusy[i])
				s = i;
		if (s < 0 && rdtsc() - t0 > WAIT) {
			gputs("vsock: transmit queue stuck\n");
			return -1;
		}
	}
	txbusy[s] = 1;
	txhdr[s] = (struct hdr){cid, 2, cn.lport, cn.pport, len, 1, op, flags, GBUF, cn.fwd_cnt};
	cn.fwd_told = cn.fwd_cnt;
	if (len)
		memcpy(txdata[s], data, len);
	struct vbuf b[2] = {{&txhdr[s], HDR, 0}, {txdata[s], len, 0}};
	add_chain(Q_TX, (uint16_t)(2 * s), b, len ? 2 : 1);
	vdrv_kick(&dev, Q_TX);
	if (op == OP_RW)
		cn.tx_cnt += len;
	return 0;
}

static void post_rx(unsigned i)
{
	struct vbuf b = {rxbuf[i], HDR + RXDATA, 1};
	add_chain(Q_RX, (uint16_t)i, &b, 1);
}

static unsigned rx_out; /* buffers the device holds, as far as we know */

/* Take every received packet; returns how many. Buffers go back at once, with
 * a kick only when the device may be running short (a kick is a VM exit). */
static int poll_rx(void)
{
	uint32_t id, len;
	int n = 0;
	while (vdrv_poll_used(&dev, Q_RX, &id, &len)) {
		n++;
		if (id >= NRX || len < HDR) {
			gprintf("vsock: bad used element id=%u len=%u\n", id, len);
			failed = 1;
			continue;
		}
		struct hdr h;
		memcpy(&h, rxbuf[id], HDR);
		int mine = h.dst_port == cn.lport && h.src_port == cn.pport;
		if (h.op == OP_REQUEST && h.dst_port == cn.lport && !cn.established) {
			cn.requested = 1;
			cn.req_port = h.src_port;
			cn.peer_buf = h.buf_alloc;
			cn.peer_fwd = h.fwd_cnt;
		} else if (mine) {
			cn.peer_buf = h.buf_alloc;
			cn.peer_fwd = h.fwd_cnt;
			if (h.op == OP_RESPONSE)
				cn.established = 1;
			else if (h.op == OP_RST)
				cn.rst = 1;
			else if (h.op == OP_SHUTDOWN)
				cn.peer_shut |= (int)h.flags;
			else if (h.op == OP_CREDIT_REQUEST)
				send_pkt(OP_CREDIT_UPDATE, 0, 0, 0);
			else if (h.op == OP_RW) {
				uint32_t l = h.len <= len - HDR ? h.len : len - HDR;
				if (l > GBUF - in_len) {
					gputs("vsock: device sent past our credit\n");
					failed = 1;
					l = GBUF - in_len;
				}
				for (uint32_t k = 0; k < l; k++)
					inbuf[(in_head + in_len + k) % GBUF] = rxbuf[id][HDR + k];
				in_len += l;
			}
		}
		post_rx(id);
	}
	rx_out -= (unsigned)n;
	if (n && rx_out < NRX / 2)
		vdrv_kick(&dev, Q_RX);
	rx_out += (unsigned)n;
	return n;
}

/* The consumer took n bytes: our credit grows; tell the host now and then. */
static void consumed(uint32_t n)
{
	in_head = (in_head + n) % GBUF;
	in_len -= n;
	cn.fwd_cnt += n;
	if (cn.fwd_cnt - cn.fwd_told >= GBUF / 2)
		send_pkt(OP_CREDIT_UPDATE, 0, 0, 0);
}

/* Send len bytes (from a generator or a buffer), within the host's credit. */
static int wait_credit(void)
{
	uint64_t t0 = rdtsc();
	int asked = 0;
	while (!credit()) {
		poll_rx();
		if (cn.rst)
			return -1;
		if (!asked && rdtsc() - t0 > WAIT / 16) {
			send_pkt(OP_CREDIT_REQUEST, 0, 0, 0);
			asked = 1;
		}
		if (rdtsc() - t0 > WAIT) {
			gputs("vsock: no credit from the host\n");
			return -1;
		}
	}
	return 0;
}

static int setup(void)
{
	if (!vdrv_find(&dev, cmdline, 19)) {
		gputs("vsock: no virtio-vsock device\n");
		return -1;
	}
	if (vdrv_init(&dev, 0, 3)) {
		gputs("vsock: device setup failed\n");
		return -1;
	}
	cid = vdrv_rd(&dev, R_CONFIG) | ((uint64_t)vdrv_rd(&dev, R_CONFIG + 4) << 32);
	gprintf("vsock cid: %lu\n", cid);
	for (unsigned i = 0; i < 3; i++)
		dev.q[i].avail[0] = 1; /* no interrupts: we poll */
	for (unsigned i = 0; i < NRX; i++)
		post_rx(i);
	rx_out = NRX;
	vdrv_kick(&dev, Q_RX);
	struct vbuf e = {&event_id, 4, 1};
	add_chain(Q_EVT, 0, &e, 1);
	vdrv_kick(&dev, Q_EVT);
	return 0;
}

static void new_conn(uint32_t lport, uint32_t pport)
{
	memset(&cn, 0, sizeof(cn));
	cn.lport = lport;
	cn.pport = pport;
	in_head = in_len = 0;
}

/* Close: SHUTDOWN both ways, wait for the host's RST. */
static int close_conn(void)
{
	if (send_pkt(OP_SHUTDOWN, 3, 0, 0))
		return -1;
	uint64_t t0 = rdtsc();
	while (!cn.rst) {
		poll_rx();
		if (in_len)
			consumed(in_len); /* late data is dropped */
		if (rdtsc() - t0 > WAIT) {
			gputs("vsock: no RST after SHUTDOWN\n");
			return -1;
		}
	}
	return 0;
}

static int connect_to(uint32_t lport, uint32_t port)
{
	new_conn(lport, port);
	if (send_pkt(OP_REQUEST, 0, 0, 0))
		return -1;
	uint64_t t0 = rdtsc();
	while (!cn.established && !cn.rst) {
		poll_rx();
		if (rdtsc() - t0 > WAIT) {
			gprintf("vsock: no answer to a connection to port %u\n", port);
			return -1;
		}
	}
	return cn.established ? 0 : 1;
}

/* (a) accept one connection to lport and echo it until the host half-closes. */
static int echo_server(uint32_t lport)
{
	new_conn(lport, 0);
	gprintf("vsock: listening port=%u\n", lport);
	uint64_t t0 = rdtsc();
	while (!cn.requested) {
		poll_rx();
		if (rdtsc() - t0 > 4 * WAIT) {
			gputs("vsock: no host connection\n");
			return -1;
		}
	}
	cn.pport = cn.req_port;
	if (send_pkt(OP_RESPONSE, 0, 0, 0))
		return -1;
	cn.established = 1;
	uint32_t echoed = 0;
	t0 = rdtsc();
	while (!(cn.peer_shut & 2) || in_len) {
		poll_rx();
		if (cn.rst) {
			gputs("vsock: host reset the echo connection\n");
			return -1;
		}
		while (in_len) {
			if (wait_credit())
				return -1;
			uint32_t n = in_len;
			uint32_t c = credit();
			if (n > c)
				n = c;
			if (n > TXDATA)
				n = TXDATA;
			if (n > GBUF - in_head)
				n = GBUF - in_head;
			if (send_pkt(OP_RW, 0, inbuf + in_head, n))
				return -1;
			consumed(n);
			echoed += n;
			t0 = rdtsc();
		}
		if (rdtsc() - t0 > WAIT) {
			gputs("vsock: echo stalled\n");
			return -1;
		}
	}
	gprintf("vsock: listen port=%u echoed=%u\n", lport, echoed);
	return close_conn();
}

static uint8_t pattern(uint64_t o)
{
	uint32_t x = (uint32_t)o * 2654435761u;
	return (uint8_t)(x >> 13 ^ x >> 24);
}

/* Stream total bytes to the connected host echo, checking what comes back. */
static int stream(uint64_t total, int check, uint64_t window, uint64_t *cycles)
{
	static uint8_t chunk[TXDATA];
	uint64_t sent = 0, back = 0, t0 = rdtsc(), last = t0;
	int same = 1;
	while (back < total) {
		int progress = 0;
		if (sent < total && credit() && sent - back < window) {
			uint32_t n = credit();
			if (n > window - (sent - back))
				n = (uint32_t)(window - (sent - back));
			if (n > TXDATA)
				n = TXDATA;
			if (n > total - sent)
				n = (uint32_t)(total - sent);
			if (check)
				for (uint32_t k = 0; k < n; k++)
					chunk[k] = pattern(sent + k);
			if (send_pkt(OP_RW, 0, chunk, n))
				return -1;
			sent += n;
			progress = 1;
		}
		progress |= poll_rx();
		if (in_len) {
			uint32_t n = in_len;
			if (check)
				for (uint32_t k = 0; k < n; k++)
					same &= inbuf[(in_head + k) % GBUF] == pattern(back + k);
			back += n;
			consumed(n);
		}
		if (cn.rst) {
			gputs("vsock: stream reset by the host\n");
			return -1;
		}
		uint64_t now = rdtsc();
		if (progress)
			last = now;
		else if (sent < total && !credit() && now - last > WAIT / 16)
			send_pkt(OP_CREDIT_REQUEST, 0, 0, 0), last = now;
		if (now - last > WAIT) {
			gprintf("vsock: stream stalled sent=%lu back=%lu\n", sent, back);
			return -1;
		}
	}
	if (cycles)
		*cycles = rdtsc() - t0;
	return same ? 0 : 1;
}

static void vsock_main(uint64_t unused)
{
	(void)unused;
	if (setup())
		guest_exit(1);
	uint32_t lport = (uint32_t)cmdline_num(cmdline, "lport", 1234);
	uint32_t hport = (uint32_t)cmdline_num(cmdline, "hport", 5000);
	uint64_t mib = cmdline_num(cmdline, "mib", 4);
	int fails = failed;
	fails += echo_server(lport) != 0;
	/* (b) */
	int r = connect_to(40000, hport);
	if (r) {
		gprintf("vsock: connect port=%u failed (%s)\n", hport, r > 0 ? "reset" : "timeout");
		fails++;
	} else {
		int s = stream(mib << 20, 1, UINT64_MAX, 0);
		gprintf("vsock: connect port=%u sent=%lu echoed=%lu same=%d\n", hport, mib << 20,
		        s < 0 ? 0 : mib << 20, s == 0);
		fails += s != 0;
		fails += close_conn() != 0;
	}
	/* (c) nobody listens on hport+1 */
	r = connect_to(40001, hport + 1);
	gprintf("vsock: refused port=%u rst=%d\n", hport + 1, r == 1);
	fails += r != 1;
	fails += failed;
	gprintf("vsock: failures=%d\n", fails);
	guest_exit(fails ? 1 : 0);
}

static void bench_main(uint64_t unused)
{
	(void)unused;
	if (setup())
		guest_exit(1);
	uint32_t hport = (uint32_t)cmdline_num(cmdline, "hport", 5000);
	uint64_t rounds = cmdline_num(cmdline, "rounds", 10000);
	uint64_t size = cmdline_num(cmdline, "size", 64);
	uint64_t mib = cmdline_num(cmdline, "mib", 64);
	if (size < 1 || size > TXDATA)
		size = 64;
	if (connect_to(40000, hport))
		guest_exit(1);
	uint64_t t0 = rdtsc();
	for (uint64_t i = 0; i < rounds; i++)
		if (stream(size, 0, WINDOW, 0))
			guest_exit(1);
	uint64_t rtt = rdtsc() - t0, bulk = 0;
	if (stream(mib << 20, 0, WINDOW, &bulk))
		guest_exit(1);
	gprintf("bench: vsock rtt rounds=%lu size=%lu cycles=%lu\n", rounds, size, rtt);
	gprintf("bench: vsock bulk mib=%lu cycles=%lu\n", mib, bulk);
	close_conn();
	guest_exit(failed ? 1 : 0);
}

void test_virtio_vsock(const char *cl, const char *test)
{
	cmdline = cl;
	if (!memcmp(test, "virtio-vsock-bench", 19))
		run_user(bench_main, 0);
	if (!memcmp(test, "virtio-vsock", 13))
		run_user(vsock_main, 0);
}
