/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-vsock device model over fake queues and real Unix sockets: the
 * CONNECT handshake, guest connections to <uds>_<port>, shutdown and reset,
 * hostile headers, credit in both directions, the connection limit and
 * snapshot restore (TRANSPORT_RESET, host connections dropped). */
#include "vsockdrv.h"

#include <fcntl.h>
#include <sys/resource.h>

/* A host program connects and the guest (the test) accepts; returns the
 * host socket, *local is the device's port for it. */
static int establish(struct drv *d, uint32_t port, uint32_t guest_buf, uint32_t *local)
{
	int fd = host_connect(d->uds);
	char cmd[32];
	int n = snprintf(cmd, sizeof(cmd), "CONNECT %u\n", port);
	assert_int_equal(write(fd, cmd, (size_t)n), n);
	struct vsock_hdr h;
	assert_true(rx_pkt(d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_REQUEST);
	assert_int_equal(h.src_cid, 2);
	assert_int_equal(h.dst_cid, GUEST);
	assert_int_equal(h.dst_port, port);
	assert_true(h.src_port >= VSOCK_HOST_PORT_MIN);
	assert_int_equal(h.buf_alloc, VSOCK_BUF_ALLOC);
	*local = h.src_port;
	tx_pkt(d, port, *local, OP_RESPONSE, 0, guest_buf, 0, NULL, 0);
	char ok[32] = {0};
	n = snprintf(cmd, sizeof(cmd), "OK %u\n", *local);
	assert_int_equal(host_read_all(fd, ok, (size_t)n, 2000), n);
	assert_string_equal(ok, cmd);
	return fd;
}

static void host_initiated(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, VSOCK_MAX_CONNS);
	int fd = host_connect(d.uds);
	/* data right after the command waits for the guest to accept */
	const char first[] = "CONNECT 1234\nearly";
	assert_int_equal(write(fd, first, sizeof(first) - 1), (ssize_t)sizeof(first) - 1);
	struct vsock_hdr h;
	char buf[64];
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_REQUEST);
	assert_int_equal(h.dst_port, 1234);
	uint32_t local = h.src_port;
	assert_true(local >= VSOCK_HOST_PORT_MIN);
	tx_pkt(&d, 1234, local, OP_RESPONSE, 0, 65536, 0, NULL, 0);
	char ok[32] = {0}, want[32];
	int n = snprintf(want, sizeof(want), "OK %u\n", local);
	assert_int_equal(host_read_all(fd, ok, (size_t)n, 2000), n);
	assert_string_equal(ok, want);
	assert_true(rx_pkt(&d, &h, buf, sizeof(buf), 2000));
	assert_int_equal(h.op, OP_RW);
	assert_int_equal(h.len, 5);
	assert_memory_equal(buf, "early", 5);
	/* host -> guest */
	assert_int_equal(write(fd, "ping", 4), 4);
	assert_true(rx_pkt(&d, &h, buf, sizeof(buf), 2000));
	assert_int_equal(h.op, OP_RW);
	assert_int_equal(h.src_port, local);
	assert_int_equal(h.dst_port, 1234);
	assert_memory_equal(buf, "ping", 4);
	/* guest -> host, header and payload in separate descriptors */
	tx_pkt(&d, 1234, local, OP_RW, 0, 65536, 9, "pong!", 5);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(host_read_all(fd, buf, 5, 2000), 5);
	assert_memory_equal(buf, "pong!", 5);
	/* host half-closes: the guest is told it will get no more */
	shutdown(fd, SHUT_WR);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_SHUTDOWN);
	assert_int_equal(h.flags, SHUT_F_SEND);
	/* the guest can still send; then it closes and gets the final RST */
	tx_pkt(&d, 1234, local, OP_RW, 0, 65536, 9, "bye", 3);
	assert_int_equal(host_read_all(fd, buf, 3, 2000), 3);
	assert_memory_equal(buf, "bye", 3);
	tx_pkt(&d, 1234, local, OP_SHUTDOWN, SHUT_F_RCV | SHUT_F_SEND, 65536, 9, NULL, 0);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	if (h.op == OP_CREDIT_UPDATE)
		assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_RST);
	assert_int_equal(host_read(fd, buf, sizeof(buf), 2000), 0); /* EOF */
	struct vsock_stats s;
	virtio_vsock_stats(d.v, &s);
	assert_int_equal(s.conns, 0);
	assert_int_equal(s.tx_bytes, 8);
	assert_int_equal(s.rx_bytes, 9);
	close(fd);
	drv_free(&d);
}

static void host_refused_and_bad_commands(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, VSOCK_MAX_CONNS);
	struct vsock_hdr h;
	char buf[16];
	/* the guest refuses: EOF, no OK */
	int fd = host_connect(d.uds);
	assert_int_equal(write(fd, "CONNECT 77\n", 11), 11);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_REQUEST);
	tx_pkt(&d, 77, h.src_port, OP_RST, 0, 0, 0, NULL, 0);
	assert_int_equal(host_read(fd, buf, sizeof(buf), 2000), 0);
	close(fd);
	/* malformed commands are closed without a REQUEST */
	const char *bad[] = {"HELLO\n",
	                     "CONNECT\n",
	                     "CONNECT 99999999999\n",
	                     "CONNECT 5x\n",
	                     "CONNECTX 5\n",
	                     "CONNECT -5\n",
	                     "CONNECT 0123456789012345678901234567890123456789"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = host_connect(d.uds);
		assert_int_equal(write(fd, bad[i], strlen(bad[i])), (ssize_t)strlen(bad[i]));
		/* EOF, or a reset when the device closed with the rest unread */
		ssize_t r = host_read(fd, buf, sizeof(buf), 2000);
		if (r != 0 && r != -1)
			fail_msg("command '%s' was not refused", bad[i]);
		close(fd);
	}
	assert_false(rx_pkt(&d, &h, NULL, 0, 50));
	/* Firecracker's reading: any case, white space around words, extra words */
	const char *good[] = {"connect 79\n", " Connect\t79 \r\n", "CONNECT 79 please\n"};
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		fd = host_connect(d.uds);
		assert_int_equal(write(fd, good[i], strlen(good[i])), (ssize_t)strlen(good[i]));
		assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
		assert_int_equal(h.op, OP_REQUEST);
		assert_int_equal(h.dst_port, 79);
		tx_pkt(&d, 79, h.src_port, OP_RST, 0, 0, 0, NULL, 0);
		assert_int_equal(host_read(fd, buf, sizeof(buf), 2000), 0);
		close(fd);
	}
	/* a guest that never answers: RST and EOF after the timeout */
	fd = host_connect(d.uds);
	assert_int_equal(write(fd, "CONNECT 78\n", 11), 11);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_REQUEST);
	uint32_t local = h.src_port;
	double t0 = now_secs();
	assert_int_equal(host_read(fd, buf, sizeof(buf), 5000), 0);
	assert_true(now_secs() - t0 > 1.0);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_RST);
	assert_int_equal(h.src_port, local);
	close(fd);
	struct vsock_stats s;
	virtio_vsock_stats(d.v, &s);
	assert_int_equal(s.conns, 0);
	drv_free(&d);
}

static void guest_initiated(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, VSOCK_MAX_CONNS);
	char path[300];
	snprintf(path, sizeof(path), "%s_99", d.uds);
	int lfd = host_listen(path);
	struct vsock_hdr h;
	char buf[64];
	tx_pkt(&d, 5000, 99, OP_REQUEST, 0, 65536, 0, NULL, 0);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_RESPONSE);
	assert_int_equal(h.src_port, 99);
	assert_int_equal(h.dst_port, 5000);
	int fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	tx_pkt(&d, 5000, 99, OP_RW, 0, 65536, 0, "hi", 2);
	assert_int_equal(host_read_all(fd, buf, 2, 2000), 2);
	assert_memory_equal(buf, "hi", 2);
	assert_int_equal(write(fd, "yo", 2), 2);
	assert_true(rx_pkt(&d, &h, buf, sizeof(buf), 2000));
	assert_int_equal(h.op, OP_RW);
	assert_memory_equal(buf, "yo", 2);
	/* the host program goes away: SHUTDOWN with both flags */
	close(fd);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_SHUTDOWN);
	assert_int_equal(h.flags, SHUT_F_RCV | SHUT_F_SEND);
	tx_pkt(&d, 5000, 99, OP_RST, 0, 65536, 0, NULL, 0);
	/* nobody listens on port 98: refused */
	tx_pkt(&d, 5001, 98, OP_REQUEST, 0, 65536, 0, NULL, 0);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_RST);
	assert_int_equal(h.src_port, 98);
	assert_int_equal(h.dst_port, 5001);
	struct vsock_stats s;
	virtio_vsock_stats(d.v, &s);
	assert_int_equal(s.conns, 0);
	close(lfd);
	drv_free(&d);
}

static void hostile_headers(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, VSOCK_MAX_CONNS);
	struct vsock_hdr h;
	char buf[64];
	struct vsock_stats s0, s;
	/* data for a connection that does not exist: RST */
	tx_pkt(&d, 40, 41, OP_RW, 0, 0, 0, "x", 1);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_RST);
	assert_int_equal(h.src_port, 41);
	assert_int_equal(h.dst_port, 40);
	/* an RST for nothing is ignored, as is a spoofed source CID */
	tx_pkt(&d, 40, 41, OP_RST, 0, 0, 0, NULL, 0);
	virtio_vsock_stats(d.v, &s0);
	struct vsock_hdr sp = {9, 2, 40, 41, 0, VSOCK_TYPE_STREAM, OP_REQUEST, 0, 0, 0};
	assert_true(tx_raw(&d, &sp, 44, NULL, 0));
	virtio_vsock_stats(d.v, &s);
	assert_int_equal(s.dropped, s0.dropped + 1);
	assert_false(rx_pkt(&d, &h, NULL, 0, 50));
	/* another destination CID is dropped; a socket type we do not offer: RST */
	struct vsock_hdr o = {GUEST, 7, 40, 41, 0, VSOCK_TYPE_STREAM, OP_REQUEST, 0, 0, 0};
	assert_true(tx_raw(&d, &o, 44, NULL, 0));
	virtio_vsock_stats(d.v, &s);
	assert_int_equal(s.dropped, s0.dropped + 2);
	assert_false(rx_pkt(&d, &h, NULL, 0, 50));
	o.dst_cid = 2;
	o.type = 2;
	assert_true(tx_raw(&d, &o, 44, NULL, 0));
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_RST);
	/* a length that disagrees with the chain resets the connection it names */
	uint32_t local;
	int fd = establish(&d, 600, 65536, &local);
	struct vsock_hdr lie = {GUEST, 2, 600, local, 1000, VSOCK_TYPE_STREAM, OP_RW, 0, 65536, 0};
	assert_true(tx_raw(&d, &lie, 44, "short", 5));
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_RST);
	assert_int_equal(host_read(fd, buf, sizeof(buf), 2000), 0);
	close(fd);
	/* an unknown op, a second REQUEST, a RESPONSE when established: RST */
	const uint16_t ops[] = {99, OP_REQUEST, OP_RESPONSE, 0};
	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		fd = establish(&d, 601, 65536, &local);
		tx_pkt(&d, 601, local, ops[i], 0, 65536, 0, NULL, 0);
		assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
		assert_int_equal(h.op, OP_RST);
		assert_int_equal(host_read(fd, buf, sizeof(buf), 2000), 0);
		close(fd);
	}
	virtio_vsock_stats(d.v, &s);
	assert_int_equal(s.conns, 0);
	/* a header shorter than 44 bytes breaks the device; a reset recovers it */
	assert_false(tx_raw(&d, &o, 20, NULL, 0));
	assert_true(d_rd(&d, 0x70) & 0x40);
	drv_setup(&d);
	fd = establish(&d, 602, 65536, &local);
	close(fd);
	drv_free(&d);
}

static void credit_host_to_guest(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, VSOCK_MAX_CONNS);
	uint32_t local;
	int fd = establish(&d, 700, 8192, &local);
	enum { TOTAL = 20000 };
	static uint8_t out[TOTAL], in[TOTAL];
	for (int i = 0; i < TOTAL; i++)
		out[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(write(fd, out, TOTAL), TOTAL);
	struct vsock_hdr h;
	uint32_t got = 0;
	/* exactly the 8192 bytes of credit, then a CREDIT_REQUEST, then nothing */
	while (got < 8192) {
		assert_true(rx_pkt(&d, &h, in + got, TOTAL - got, 2000));
		assert_int_equal(h.op, OP_RW);
		got += h.len;
	}
	assert_int_equal(got, 8192);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_CREDIT_REQUEST);
	assert_false(rx_pkt(&d, &h, NULL, 0, 100));
	/* the guest consumed 8192: another 8192 */
	tx_pkt(&d, 700, local, OP_CREDIT_UPDATE, 0, 8192, 8192, NULL, 0);
	while (got < 16384) {
		assert_true(rx_pkt(&d, &h, in + got, TOTAL - got, 2000));
		if (h.op == OP_CREDIT_REQUEST)
			continue;
		assert_int_equal(h.op, OP_RW);
		got += h.len;
	}
	assert_int_equal(got, 16384);
	/* a bigger buffer: the rest */
	tx_pkt(&d, 700, local, OP_CREDIT_UPDATE, 0, 1 << 20, 16384, NULL, 0);
	while (got < TOTAL) {
		assert_true(rx_pkt(&d, &h, in + got, TOTAL - got, 2000));
		if (h.op != OP_RW)
			continue;
		got += h.len;
	}
	assert_int_equal(got, TOTAL);
	assert_memory_equal(in, out, TOTAL);
	close(fd);
	drv_free(&d);
}

static void credit_guest_to_host(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, VSOCK_MAX_CONNS);
	uint32_t local;
	int fd = establish(&d, 800, 65536, &local);
	static uint8_t chunk[65536];
	struct vsock_hdr h;
	/* the host program does not read: the guest may fill the socket and our
	 * advertised buffer, never more; past that the connection is reset */
	int reset = 0;
	uint64_t sent = 0;
	for (int i = 0; i < 256 && !reset; i++) {
		memset(chunk, i, sizeof(chunk));
		tx_pkt(&d, 800, local, OP_RW, 0, 65536, 0, chunk, sizeof(chunk));
		sent += sizeof(chunk);
		while (rx_pkt(&d, &h, NULL, 0, 5))
			if (h.op == OP_RST)
				reset = 1;
	}
	assert_true(reset);
	test_measured("guest->host accepted before reset: %llu KiB (buffer %u KiB)",
	              (unsigned long long)(sent >> 10), VSOCK_BUF_ALLOC >> 10);
	assert_true(sent > VSOCK_BUF_ALLOC);
	assert_true(sent < 64ULL << 20);
	close(fd);
	/* well-behaved: 192 KiB held while the host is slow, then credit comes back */
	fd = establish(&d, 801, 65536, &local);
	uint32_t fwd_seen = 0;
	for (int i = 0; i < 3; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		tx_pkt(&d, 801, local, OP_RW, 0, 65536, 0, chunk, sizeof(chunk));
	}
	static uint8_t back[3 * 65536];
	assert_int_equal(host_read_all(fd, back, sizeof(back), 2000), (ssize_t)sizeof(back));
	for (int i = 0; i < 3; i++)
		assert_int_equal(back[i * 65536 + 100], 'a' + i);
	for (int k = 0; k < 20 && fwd_seen < sizeof(back); k++)
		if (rx_pkt(&d, &h, NULL, 0, 100) && h.op == OP_CREDIT_UPDATE)
			fwd_seen = h.fwd_cnt;
	/* unsolicited updates come at least every half buffer */
	assert_true(fwd_seen >= VSOCK_BUF_ALLOC / 2);
	/* asking for credit is answered with all of it */
	tx_pkt(&d, 801, local, OP_CREDIT_REQUEST, 0, 65536, 0, NULL, 0);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_CREDIT_UPDATE);
	assert_int_equal(h.fwd_cnt, sizeof(back));
	assert_int_equal(h.buf_alloc, VSOCK_BUF_ALLOC);
	close(fd);
	drv_free(&d);
}

static void connection_limit(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, 2);
	uint32_t l1, l2;
	int a = establish(&d, 900, 65536, &l1);
	int b = establish(&d, 901, 65536, &l2);
	assert_int_not_equal(l1, l2);
	/* a third host program is closed at once; a guest REQUEST is refused */
	int c = host_connect(d.uds);
	char buf[8];
	assert_int_equal(host_read(c, buf, sizeof(buf), 2000), 0);
	close(c);
	struct vsock_hdr h;
	tx_pkt(&d, 5000, 99, OP_REQUEST, 0, 65536, 0, NULL, 0);
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_RST);
	struct vsock_stats s;
	virtio_vsock_stats(d.v, &s);
	assert_int_equal(s.refused, 2);
	assert_int_equal(s.conns, 2);
	/* one closes: room again */
	tx_pkt(&d, 900, l1, OP_RST, 0, 0, 0, NULL, 0);
	assert_int_equal(host_read(a, buf, sizeof(buf), 2000), 0);
	close(a);
	a = establish(&d, 902, 65536, &l1);
	/* a driver reset drops every connection (on the I/O thread) */
	drv_setup(&d);
	assert_int_equal(host_read(a, buf, sizeof(buf), 2000), 0);
	assert_int_equal(host_read(b, buf, sizeof(buf), 2000), 0);
	virtio_vsock_stats(d.v, &s);
	assert_int_equal(s.conns, 0);
	close(a);
	close(b);
	a = establish(&d, 903, 65536, &l1);
	close(a);
	drv_free(&d);
}

/* Random headers (ports from a small set so that they hit live connections,
 * random ops, flags, credit fields and lengths that may disagree with the
 * chain): no crash, no NEEDS_RESET, and the device still works afterwards. */
static void random_headers(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, 16);
	char path[300];
	snprintf(path, sizeof(path), "%s_77", d.uds);
	int lfd = host_listen(path);
	assert_int_equal(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
	uint32_t local;
	int hosts[2];
	hosts[0] = establish(&d, 70, 65536, &local);
	uint32_t ports[] = {70, 71, 77, local, local + 1, 1024, 0, UINT32_MAX};
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	static uint8_t payload[4096];
	struct vsock_hdr h;
	for (int i = 0; i < 800; i++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		uint64_t r = seed;
		uint32_t dlen = (uint32_t)(r >> 40) % 200;
		struct vsock_hdr x = {
		    (r & 15) ? GUEST : (r >> 8),
		    (r & 0x70) ? 2 : (r >> 16) & 7,
		    ports[(r >> 20) % 8],
		    ports[(r >> 23) % 8],
		    (r & 0x80) ? dlen : (uint32_t)(r >> 32),
		    (r & 0x300) ? VSOCK_TYPE_STREAM : (uint16_t)(r >> 26),
		    (uint16_t)((r >> 29) % 9),
		    (uint32_t)(r >> 33) & 7,
		    (r & 0x400) ? 65536 : (uint32_t)(r >> 12),
		    (uint32_t)(r >> 36),
		};
		memset(payload, (int)i, dlen);
		assert_true(tx_raw(&d, &x, 44, payload, dlen));
		while (rx_pkt(&d, &h, NULL, 0, 1))
			;
		if (i % 100 == 0) { /* accept what the guest side opened, then forget it */
			int a = accept(lfd, NULL, NULL);
			if (a >= 0)
				close(a);
		}
	}
	assert_false(d_rd(&d, 0x70) & 0x40);
	struct vsock_stats s;
	virtio_vsock_stats(d.v, &s);
	test_measured("random headers: %llu dropped, %llu RST sent, %u connections left",
	              (unsigned long long)s.dropped, (unsigned long long)s.rsts, s.conns);
	assert_true(s.dropped > 0 && s.rsts > 0);
	assert_true(s.conns <= 16);
	/* still a working device */
	hosts[1] = establish(&d, 90, 65536, &local);
	assert_int_equal(write(hosts[1], "ok", 2), 2);
	assert_true(rx_pkt(&d, &h, payload, sizeof(payload), 2000));
	while (h.op != OP_RW && rx_pkt(&d, &h, payload, sizeof(payload), 2000))
		;
	assert_int_equal(h.op, OP_RW);
	assert_memory_equal(payload, "ok", 2);
	close(hosts[0]);
	close(hosts[1]);
	close(lfd);
	drv_free(&d);
}

static double cpu_secs(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* Out of descriptors: the listener is not polled in a loop; once descriptors
 * are free again the waiting host program is served. */
static void out_of_descriptors(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, VSOCK_MAX_CONNS);
	struct rlimit old, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	int fd = host_connect(d.uds); /* the device cannot accept it */
	int probe = dup(0);
	assert_true(probe >= 0);
	low = old;
	low.rlim_cur = (rlim_t)probe; /* every descriptor from here on is refused */
	close(probe);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	double c0 = cpu_secs(), t0 = now_secs();
	usleep(300000);
	double busy = (cpu_secs() - c0) / (now_secs() - t0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	test_measured("CPU while unable to accept: %.0f%% of one core", busy * 100);
	assert_true(busy < 0.5);
	assert_int_equal(write(fd, "CONNECT 1100\n", 13), 13);
	struct vsock_hdr h;
	assert_true(rx_pkt(&d, &h, NULL, 0, 2000));
	assert_int_equal(h.op, OP_REQUEST);
	assert_int_equal(h.dst_port, 1100);
	close(fd);
	drv_free(&d);
}

static void snapshot_restore(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, VSOCK_MAX_CONNS);
	uint32_t local;
	int fd = establish(&d, 1000, 65536, &local);
	struct virtio_vsock_state st;
	pthread_mutex_lock(&d.t.qlock);
	virtio_vsock_save(d.v, &st);
	pthread_mutex_unlock(&d.t.qlock);
	assert_int_equal(st.guest_cid, GUEST);
	assert_int_equal(st.conns, 1);
	assert_true(st.next_port > local);
	struct virtio_mmio_state ms;
	virtio_mmio_save(&d.t, &ms);
	/* restore: connections dropped, the guest told by TRANSPORT_RESET */
	struct err e = {0};
	assert_int_equal(virtio_mmio_restore(&d.t, &ms, &e), 0);
	pthread_mutex_lock(&d.t.qlock);
	assert_int_equal(virtio_vsock_restore(d.v, &d.t, &st, &e), 0);
	pthread_mutex_unlock(&d.t.qlock);
	char buf[8];
	assert_int_equal(host_read(fd, buf, sizeof(buf), 2000), 0);
	close(fd);
	uint32_t id, len, ev = 0xffffffff;
	assert_true(q_wait(&d, Q_EVT, 2000, &id, &len));
	assert_int_equal(len, 4);
	memcpy(&ev, d.f.ram + EVBUF, 4);
	assert_int_equal(ev, VSOCK_EVENT_TRANSPORT_RESET);
	struct vsock_stats s;
	virtio_vsock_stats(d.v, &s);
	assert_int_equal(s.conns, 0);
	/* new connections work, with ports that do not repeat the old ones */
	uint32_t l2;
	fd = establish(&d, 1001, 65536, &l2);
	assert_true(l2 >= st.next_port);
	close(fd);
	/* a snapshot with an invalid CID is refused */
	st.guest_cid = 1;
	pthread_mutex_lock(&d.t.qlock);
	assert_int_equal(virtio_vsock_restore(d.v, &d.t, &st, &e), -1);
	pthread_mutex_unlock(&d.t.qlock);
	drv_free(&d);
}

static void config_and_cids(void **state)
{
	(void)state;
	struct err e = {0};
	assert_int_equal(vsock_check_cid(3, &e), 0);
	assert_int_equal(vsock_check_cid(0xfffffffeULL, &e), 0);
	assert_int_equal(vsock_check_cid(2, &e), -1);
	assert_int_equal(e.kind, ERR_INPUT);
	assert_int_equal(vsock_check_cid(0xffffffffULL, &e), -1);
	assert_null(virtio_vsock_new(1, "/tmp/x", 4, &e));
	/* an existing path is not replaced */
	char *dir = test_tmpdir();
	assert_null(virtio_vsock_new(3, dir, 4, &e));
	assert_non_null(strstr(e.msg, "exists"));
	rmdir(dir);
	free(dir);
	/* the device reports its CID in config space */
	struct drv d;
	drv_init(&d, 4);
	uint32_t lo = d_rd(&d, 0x100), hi = d_rd(&d, 0x104);
	assert_int_equal(lo, GUEST);
	assert_int_equal(hi, 0);
	assert_int_equal(d_rd(&d, 0x008), 19);
	drv_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(host_initiated),       cmocka_unit_test(host_refused_and_bad_commands),
	    cmocka_unit_test(guest_initiated),      cmocka_unit_test(hostile_headers),
	    cmocka_unit_test(credit_host_to_guest), cmocka_unit_test(credit_guest_to_host),
	    cmocka_unit_test(connection_limit),     cmocka_unit_test(out_of_descriptors),
	    cmocka_unit_test(snapshot_restore),     cmocka_unit_test(config_and_cids),
	    cmocka_unit_test(random_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
