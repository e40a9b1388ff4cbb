/* SPDX-License-Identifier: Apache-2.0 */
/* test=virtio-net: a polling virtio-net driver at CPL3 that speaks just
 * enough Ethernet, ARP, IPv4 and UDP to exchange datagrams with a host
 * socket: it resolves the peer's MAC (hip=, default 10.0.2.2, the user-mode
 * gateway), answers ARP for its own address (gip=, default 10.0.2.15), sends
 * rounds=N datagrams to port=P and checks that each comes back unchanged
 * (the host runs an echo server). Between rounds it sends hostile frames
 * (too short, an offload that was not negotiated) and checks that the device
 * dropped them without needing a reset. bench=N adds N timed round trips
 * of benchlen=B bytes (default 64). listen=P then accepts one TCP connection
 * on port P (a port forward from the host), reads a line and answers
 * "echo: LINE" (a minimal TCP: no options, no retransmissions). probe=P sends
 * an ICMP echo request to the peer and a TCP SYN to its closed port P, reports
 * the answers, and checks that a datagram still makes the round trip.
 * Output: "net: ..." lines and "net: failures=N"; exit status 0 or 1. */
#include "guest.h"
#include "io.h"
#include "virtio_drv.h"

#define RXQ     0
#define TXQ     1
#define NRX     32
#define HDR     12
#define BUFSZ   2048
#define F_MAC   (1ull << 5)
#define ETH_ARP 0x0806
#define ETH_IP  0x0800

static struct vdev dev;
static const char *cmdline;
static uint8_t rxbuf[NRX][BUFSZ] __attribute__((aligned(64)));
static uint8_t txbuf[BUFSZ] __attribute__((aligned(64)));
static uint8_t frame[BUFSZ]; /* the last frame received */
static uint32_t frame_len;
static uint8_t my_mac[6], peer_mac[6];
static uint32_t my_ip, peer_ip;
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Bounded waits: about this many TSC cycles (a few seconds on any host). */
#define WAIT_CYCLES (6ull << 30)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t csum(const uint8_t *p, uint32_t len, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void rx_post(uint16_t i)
{
	dev.q[RXQ].desc[i] = (struct vdesc){(uintptr_t)rxbuf[i], BUFSZ, F_WRITE, 0};
	vdrv_publish(&dev, RXQ, i);
}

/* Send one chain of `total` bytes from txbuf (header included); 0 once used. */
static int tx_raw(uint32_t total, uint8_t flags)
{
	memset(txbuf, 0, HDR);
	txbuf[0] = flags;
	dev.q[TXQ].desc[0] = (struct vdesc){(uintptr_t)txbuf, total, 0, 0};
	vdrv_publish(&dev, TXQ, 0);
	vdrv_kick(&dev, TXQ);
	uint64_t end = rdtsc() + WAIT_CYCLES;
	while (rdtsc() < end) {
		if (vdrv_poll_used(&dev, TXQ, 0, 0))
			return 0;
		cpu_relax();
	}
	gputs("net: transmit not completed in time\n");
	return -1;
}

static uint8_t *eth(const uint8_t dst[6], uint16_t type)
{
	uint8_t *f = txbuf + HDR;
	memcpy(f, dst, 6);
	memcpy(f + 6, my_mac, 6);
	put16(f + 12, type);
	return f + 14;
}

static int send_arp(uint16_t op, const uint8_t dmac[6], uint32_t tip)
{
	uint8_t *a = eth(op == 1 ? bcast : dmac, ETH_ARP);
	put16(a, 1);
	put16(a + 2, ETH_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, my_mac, 6);
	put32(a + 14, my_ip);
	memcpy(a + 18, op == 1 ? (const uint8_t *)"\0\0\0\0\0\0" : dmac, 6);
	put32(a + 24, tip);
	return tx_raw(HDR + 14 + 28, 0);
}

static int send_udp(uint16_t sport, uint16_t dport, const void *data, uint32_t len)
{
	uint8_t *ip = eth(peer_mac, ETH_IP), *u = ip + 20;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(28 + len));
	put16(ip + 4, sport);
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, my_ip);
	put32(ip + 16, peer_ip);
	put16(ip + 10, csum(ip, 20, 0));
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	memcpy(u + 8, data, len);
	uint32_t pseudo =
	    (my_ip >> 16) + (my_ip & 0xffff) + (peer_ip >> 16) + (peer_ip & 0xffff) + 17 + 8 + len;
	uint16_t c = csum(u, 8 + len, pseudo);
	put16(u + 6, c ? c : 0xffff);
	return tx_raw(HDR + 14 + 28 + len, 0);
}

/* ARP requests for our address are answered on the way. */
static void maybe_answer_arp(void)
{
	const uint8_t *a = frame + 14;
	if (frame_len >= 42 && get16(frame + 12) == ETH_ARP && get16(a + 6) == 1 &&
	    get32(a + 24) == my_ip)
		send_arp(2, a + 8, get32(a + 14));
}

/* Wait for the next frame into `frame`: 1, or 0 on timeout / NEEDS_RESET. */
static int rx_next(void)
{
	uint64_t end = rdtsc() + WAIT_CYCLES;
	uint32_t spins = 0;
	while (rdtsc() < end) {
		uint32_t id, len;
		if (vdrv_poll_used(&dev, RXQ, &id, &len)) {
			if (id >= NRX || len < HDR || len > BUFSZ) {
				gprintf("net: bad used element id=%u len=%u\n", id, len);
				return 0;
			}
			frame_len = len - HDR;
			memcpy(frame, rxbuf[id] + HDR, frame_len);
			rx_post((uint16_t)id);
			vdrv_kick(&dev, RXQ);
			return 1;
		}
		if ((++spins & 0xffff) == 0 && (vdrv_rd(&dev, R_STATUS) & ST_NEED_RST)) {
			gputs("net: device needs a reset\n");
			return 0;
		}
		cpu_relax();
	}
	return 0;
}

static int resolve_peer(void)
{
	for (int tries = 0; tries < 5; tries++) {
		if (send_arp(1, bcast, peer_ip))
			return -1;
		while (rx_next()) {
			const uint8_t *a = frame + 14;
			maybe_answer_arp();
			if (frame_len >= 42 && get16(frame + 12) == ETH_ARP && get16(a + 6) == 2 &&
			    get32(a + 14) == peer_ip) {
				memcpy(peer_mac, a + 8, 6);
				return 0;
			}
		}
	}
	return -1;
}

/* Send `data` to the peer's port and wait for the same bytes back. */
static int udp_round(uint16_t sport, uint16_t port, const uint8_t *data, uint32_t len)
{
	if (send_udp(sport, port, data, len))
		return -1;
	while (rx_next()) {
		maybe_answer_arp();
		const uint8_t *ip = frame + 14;
		if (frame_len < 42 || get16(frame + 12) != ETH_IP || ip[9] != 17 ||
		    get32(ip + 12) != peer_ip)
			continue;
		const uint8_t *u = ip + (ip[0] & 15) * 4;
		if (get16(u) != port || get16(u + 2) != sport)
			continue;
		uint32_t ulen = get16(u + 4);
		if (ulen != 8 + len || u + ulen > frame + frame_len)
			return -2;
		return memcmp(u + 8, data, len) ? -3 : 0;
	}
	return -1;
}

/* ---- a minimal TCP responder (listen=P): one connection, no retransmits ---- */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_PSH 0x08
#define TH_ACK 0x10

struct tcb {
	uint32_t peer_ip;
	uint16_t lport, pport;
	uint32_t snd_nxt, rcv_nxt;
};

static int send_tcp(struct tcb *t, uint8_t flags, const void *data, uint32_t len)
{
	uint8_t *ip = eth(peer_mac, ETH_IP), *th = ip + 20;
	memset(ip, 0, 40);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + len));
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, my_ip);
	put32(ip + 16, t->peer_ip);
	put16(ip + 10, csum(ip, 20, 0));
	put16(th, t->lport);
	put16(th + 2, t->pport);
	put32(th + 4, t->snd_nxt);
	put32(th + 8, t->rcv_nxt);
	th[12] = 5 << 4;
	th[13] = flags;
	put16(th + 14, 8192);
	memcpy(th + 20, data, len);
	uint32_t pseudo = (my_ip >> 16) + (my_ip & 0xffff) + (t->peer_ip >> 16) +
	                  (t->peer_ip & 0xffff) + 6 + 20 + len;
	put16(th + 16, csum(th, 20 + len, pseudo));
	t->snd_nxt += len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
	return tx_raw(HDR + 14 + 40 + len, 0);
}

/* Next TCP segment for port `lport`: its header in *th, payload length in *plen. */
static int tcp_next(uint16_t lport, const uint8_t **th, uint32_t *plen)
{
	while (rx_next()) {
		maybe_answer_arp();
		const uint8_t *ip = frame + 14;
		if (frame_len < 54 || get16(frame + 12) != ETH_IP || ip[9] != 6 ||
		    get32(ip + 16) != my_ip)
			continue;
		uint32_t ihl = (ip[0] & 15u) * 4, tot = get16(ip + 2);
		const uint8_t *t = ip + ihl;
		uint32_t doff = (t[12] >> 4) * 4u;
		if (tot > frame_len - 14 || ihl < 20 || doff < 20 || ihl + doff > tot ||
		    get16(t + 2) != lport)
			continue;
		*th = t;
		*plen = tot - ihl - doff;
		return 1;
	}
	return 0;
}

/* Accept one connection on lport, read one line, answer "echo: LINE", close. */
static int tcp_serve(uint16_t lport)
{
	struct tcb t = {0};
	const uint8_t *th;
	uint32_t plen;
	gprintf("net: tcp listening on %u\n", lport);
	uint64_t end = rdtsc() + 10 * WAIT_CYCLES;
	int syn = 0;
	while (!syn && rdtsc() < end)
		if (tcp_next(lport, &th, &plen) && (th[13] & TH_SYN) && !(th[13] & TH_ACK))
			syn = 1;
	if (!syn)
		return -1;
	t.peer_ip = get32(frame + 14 + 12); /* the SYN is the last frame received */
	t.lport = lport;
	t.pport = get16(th);
	t.rcv_nxt = get32(th + 4) + 1;
	t.snd_nxt = 0x1000;
	if (send_tcp(&t, TH_SYN | TH_ACK, 0, 0))
		return -2;
	static uint8_t line[256];
	uint32_t got = 0;
	while (got == 0 || line[got - 1] != '\n') {
		if (!tcp_next(lport, &th, &plen))
			return -3;
		const uint8_t *data = th + (th[12] >> 4) * 4u;
		if (plen && get32(th + 4) == t.rcv_nxt) {
			uint32_t k =
			    plen < sizeof(line) - got ? plen : (uint32_t)sizeof(line) - got;
			memcpy(line + got, data, k);
			got += k;
			t.rcv_nxt += plen;
			if (got == sizeof(line))
				return -4;
		}
	}
	static uint8_t reply[300];
	memcpy(reply, "echo: ", 6);
	memcpy(reply + 6, line, got);
	if (send_tcp(&t, TH_ACK | TH_PSH | TH_FIN, reply, 6 + got))
		return -5;
	/* until the peer has acknowledged everything and closed its side */
	int acked = 0, fin = 0;
	while (!(acked && fin)) {
		if (!tcp_next(lport, &th, &plen))
			return -6;
		if ((th[13] & TH_ACK) && get32(th + 8) == t.snd_nxt)
			acked = 1;
		if ((th[13] & TH_FIN) && get32(th + 4) + plen == t.rcv_nxt) {
			t.rcv_nxt++;
			fin = 1;
			send_tcp(&t, TH_ACK, 0, 0);
		}
	}
	gprintf("net: tcp served %u bytes\n", got);
	return 0;
}

/* Traffic that makes slirp use other host calls than the echo does: an ICMP
 * echo request to the gateway and a TCP connection to a closed port P
 * (probe=P). Returns a bit mask: 1 echo reply seen, 2 RST seen. */
static int probe_gateway(uint16_t closed)
{
	int seen = 0;
	uint8_t *ip = eth(peer_mac, ETH_IP), *ic = ip + 20;
	memset(ip, 0, 20 + 16);
	ip[0] = 0x45;
	put16(ip + 2, 20 + 16);
	ip[8] = 64;
	ip[9] = 1;
	put32(ip + 12, my_ip);
	put32(ip + 16, peer_ip);
	put16(ip + 10, csum(ip, 20, 0));
	ic[0] = 8; /* echo request */
	put16(ic + 4, 0x4341);
	put16(ic + 6, 1);
	memcpy(ic + 8, "capsanet", 8);
	put16(ic + 2, csum(ic, 16, 0));
	if (tx_raw(HDR + 14 + 20 + 16, 0))
		return -1;
	struct tcb t = {peer_ip, 40321, closed, 0x2000, 0};
	if (send_tcp(&t, TH_SYN, 0, 0))
		return -1;
	while (seen != 3 && rx_next()) {
		maybe_answer_arp();
		const uint8_t *rip = frame + 14;
		if (frame_len < 34 || get16(frame + 12) != ETH_IP || get32(rip + 12) != peer_ip)
			continue;
		const uint8_t *l4 = rip + (rip[0] & 15u) * 4;
		if (rip[9] == 1 && l4[0] == 0 && get16(l4 + 4) == 0x4341)
			seen |= 1;
		if (rip[9] == 6 && get16(l4 + 2) == 40321 && (l4[13] & 0x04))
			seen |= 2;
	}
	return seen;
}

static void print_mac(const char *what, const uint8_t *m)
{
	gprintf("net: %s=%x:%x:%x:%x:%x:%x\n", what, m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void net_main(uint64_t unused)
{
	(void)unused;
	int fails = 0;
	if (!vdrv_find(&dev, cmdline, 1)) {
		gputs("net: no virtio-net device\n");
		guest_exit(1);
	}
	if (vdrv_init(&dev, F_MAC, 2))
		guest_exit(1);
	uint32_t c0 = vdrv_rd(&dev, R_CONFIG), c1 = vdrv_rd(&dev, R_CONFIG + 4);
	for (int i = 0; i < 4; i++)
		my_mac[i] = (uint8_t)(c0 >> (8 * i));
	my_mac[4] = (uint8_t)c1;
	my_mac[5] = (uint8_t)(c1 >> 8);
	my_ip = (uint32_t)cmdline_num(cmdline, "gip", 0x0a00020f);
	peer_ip = (uint32_t)cmdline_num(cmdline, "hip", 0x0a000202);
	uint16_t port = (uint16_t)cmdline_num(cmdline, "port", 7);
	print_mac("mac", my_mac);
	gprintf("net: link status=%u\n", (c1 >> 16) & 0xffff);
	/* a polling driver: no interrupts wanted (VRING_AVAIL_F_NO_INTERRUPT) */
	dev.q[RXQ].avail[0] = 1;
	dev.q[TXQ].avail[0] = 1;
	for (uint16_t i = 0; i < NRX; i++)
		rx_post(i);
	vdrv_kick(&dev, RXQ);
	if (resolve_peer()) {
		gputs("net: no ARP answer from the peer\n");
		guest_exit(1);
	}
	print_mac("peer mac", peer_mac);
	uint64_t rounds = cmdline_num(cmdline, "rounds", 3);
	static uint8_t msg[1400];
	for (uint64_t r = 0; r < rounds; r++) {
		uint32_t len = (uint32_t)(16 + r * 331 % 1300);
		for (uint32_t i = 0; i < len; i++)
			msg[i] = (uint8_t)(r * 31 + i * 7);
		int rc = udp_round((uint16_t)(40000 + r), port, msg, len);
		gprintf("net: udp round %lu len=%u rc=%d\n", r, len, rc);
		fails += rc != 0;
		if (r == 0) {
			/* hostile frames: both dropped, the device carries on */
			int bad = tx_raw(HDR + 6, 0);    /* shorter than an Ethernet header */
			bad |= tx_raw(HDR + 14 + 28, 1); /* NEEDS_CSUM, not negotiated */
			uint32_t st = vdrv_rd(&dev, R_STATUS);
			gprintf("net: hostile frames sent=%d status=0x%x\n", bad, st);
			fails += bad != 0 || (st & ST_NEED_RST);
		}
	}
	uint64_t bench = cmdline_num(cmdline, "bench", 0);
	if (bench) {
		uint64_t blen = cmdline_num(cmdline, "benchlen", 64);
		if (blen < 1 || blen > sizeof(msg))
			blen = 64;
		uint64_t t0 = rdtsc(), ok = 0;
		for (uint64_t i = 0; i < bench; i++) {
			msg[0] = (uint8_t)i;
			ok += udp_round(50000, port, msg, (uint32_t)blen) == 0;
		}
		gprintf("net: bench rtt n=%lu len=%lu ok=%lu cycles=%lu\n", bench, blen, ok,
		        rdtsc() - t0);
		fails += ok != bench;
	}
	uint64_t closed = cmdline_num(cmdline, "probe", 0);
	if (closed) {
		int seen = probe_gateway((uint16_t)closed);
		gprintf("net: probe icmp=%d rst=%d\n", seen > 0 && (seen & 1),
		        seen > 0 && (seen & 2) != 0);
		/* and the device (and the VMM) still work */
		static const uint8_t after[] = "after the probe";
		int rc = udp_round(40999, port, after, sizeof(after));
		gprintf("net: udp after probe rc=%d\n", rc);
		fails += seen < 0 || rc != 0;
	}
	uint64_t lport = cmdline_num(cmdline, "listen", 0);
	if (lport) {
		int rc = tcp_serve((uint16_t)lport);
		gprintf("net: tcp rc=%d\n", rc);
		fails += rc != 0;
	}
	gprintf("net: failures=%d\n", fails);
	guest_exit(fails ? 1 : 0);
}

void test_virtio_net(const char *cl, const char *test)
{
	cmdline = cl;
	if (!memcmp(test, "virtio-net", 11))
		run_user(net_main, 0);
}
