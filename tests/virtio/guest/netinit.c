/* SPDX-License-Identifier: Apache-2.0 */
/*
 * init (pid 1) for the slow virtio-net test, from an initramfs. Brings eth0 up
 * as 10.0.2.15/24 with ioctls (no DHCP client, no CONFIG_IP_PNP), fetches
 * http://10.0.2.2:PORT/ (user-mode networking: the host's loopback) and prints
 * the answer's lines as "capsa-net: http: LINE" (the first 4 KiB; the rest is
 * counted and summed); with sinkport=S sinkkib=K it sends K KiB of the pattern
 * (i * 7) & 0xff to hip:S; then, if fwdport=P is set, serves one TCP
 * connection on port P with "hello through hostfwd\n"; then restarts the
 * machine. Parameters come from the kernel command line, which the kernel
 * passes to init as environment; gip= and hip= (dotted, default 10.0.2.15 and
 * 10.0.2.2) choose the addresses (a tap network).
 * Freestanding, no SSE (guest/init/freestanding.h).
 */
#include "freestanding.h"

#define SOCKET(a, b, c)           sys5(NR_socket, a, b, c, 0, 0)
#define BIND(a, b, c)             sys5(NR_bind, a, b, c, 0, 0)
#define CONNECT(a, b, c)          sys5(NR_connect, a, b, c, 0, 0)
#define LISTEN(a, b)              sys5(NR_listen, a, b, 0, 0, 0)
#define ACCEPT(a)                 sys5(NR_accept4, a, 0, 0, 0, 0)
#define SETSOCKOPT(a, b, c, d, e) sys5(NR_setsockopt, a, b, c, d, e)

#define AF_INET        2
#define SOCK_STREAM    1
#define SOCK_DGRAM     2
#define SOL_SOCKET     1
#define SO_REUSEADDR   2
#define SIOCGIFFLAGS   0x8913
#define SIOCSIFFLAGS   0x8914
#define SIOCSIFADDR    0x8916
#define SIOCSIFNETMASK 0x891c
#define IFF_UP         1

struct sockaddr_in {
	unsigned short family, port; /* port in network order */
	unsigned char addr[4], zero[8];
};

struct ifreq {
	char name[16];
	union {
		struct sockaddr_in sin;
		short flags;
		char pad[24];
	} u;
};

static void out(const char *s)
{
	say(1, s);
}

static void out_num(const char *what, long v)
{
	out(what);
	say_num(1, v);
	out("\n");
}

static int starts(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return 0;
	return 1;
}

static long env_num(char **envp, const char *key)
{
	for (; *envp; envp++)
		if (starts(*envp, key)) {
			long v = 0;
			for (const char *p = *envp + slen(key); *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (*p - '0');
			return v;
		}
	return 0;
}

/* key=A.B.C.D from the environment into ip[4]; default kept if absent */
static void env_ip(char **envp, const char *key, unsigned char ip[4])
{
	for (; *envp; envp++)
		if (starts(*envp, key)) {
			const char *p = *envp + slen(key);
			for (int i = 0; i < 4; i++) {
				int v = 0;
				while (*p >= '0' && *p <= '9')
					v = v * 10 + (*p++ - '0');
				ip[i] = (unsigned char)v;
				if (*p == '.')
					p++;
			}
		}
}

static unsigned char gip[4] = {10, 0, 2, 15}, hip[4] = {10, 0, 2, 2};

static struct sockaddr_in addr(int a, int b, int c, int d, int port)
{
	struct sockaddr_in s = {
	    AF_INET,
	    (unsigned short)((port >> 8) | ((port & 0xff) << 8)),
	    {(unsigned char)a, (unsigned char)b, (unsigned char)c, (unsigned char)d},
	    {0}};
	return s;
}

static void nap(long ms)
{
	long ts[2] = {ms / 1000, (ms % 1000) * 1000000};
	sys5(NR_nanosleep, (long)ts, 0, 0, 0, 0);
}

static int if_up(const char *name, int a, int b, int c, int d)
{
	long s = SOCKET(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return (int)s;
	struct ifreq r = {{0}, {{0}}};
	for (int i = 0; name[i]; i++)
		r.name[i] = name[i];
	long rc = 0;
	if (a) {
		r.u.sin = addr(a, b, c, d, 0);
		rc = sys5(NR_ioctl, s, SIOCSIFADDR, (long)&r, 0, 0);
		r.u.sin = addr(255, 255, 255, 0, 0);
		if (!rc)
			rc = sys5(NR_ioctl, s, SIOCSIFNETMASK, (long)&r, 0, 0);
	}
	if (!rc)
		rc = sys5(NR_ioctl, s, SIOCGIFFLAGS, (long)&r, 0, 0);
	r.u.flags |= IFF_UP;
	if (!rc)
		rc = sys5(NR_ioctl, s, SIOCSIFFLAGS, (long)&r, 0, 0);
	sys5(NR_close, s, 0, 0, 0, 0);
	return (int)rc;
}

static void fetch(int port)
{
	static char buf[4096];
	long s = -1, rc = -1;
	/* the link may need a moment after it comes up: a few tries */
	for (int i = 0; i < 10 && rc < 0; i++) {
		if (s >= 0)
			sys5(NR_close, s, 0, 0, 0, 0);
		s = SOCKET(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = addr(hip[0], hip[1], hip[2], hip[3], port);
		rc = CONNECT(s, (long)&a, sizeof(a));
		if (rc < 0)
			nap(200);
	}
	if (rc < 0) {
		out_num("capsa-net: connect failed: ", rc);
		return;
	}
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	sys5(NR_write, s, (long)req, sizeof(req) - 1, 0, 0);
	/* the first 4 KiB are printed; beyond that only counted and summed */
	static char rest[65536];
	long got = 0, total = 0, k;
	unsigned long sum = 0;
	while (got < (long)sizeof(buf) - 1 &&
	       (k = sys5(NR_read, s, (long)(buf + got), (long)sizeof(buf) - 1 - got, 0, 0)) > 0)
		got += k;
	total = got;
	while ((k = sys5(NR_read, s, (long)rest, sizeof(rest), 0, 0)) > 0) {
		total += k;
		for (long i = 0; i < k; i++)
			sum += (unsigned char)rest[i];
	}
	buf[got] = 0;
	sys5(NR_close, s, 0, 0, 0, 0);
	out_num("capsa-net: http bytes: ", total);
	if (total > got)
		out_num("capsa-net: http sum beyond 4 KiB: ", (long)sum);
	/* one console line per response line */
	char *line = buf;
	for (long i = 0; i <= got; i++) {
		if (buf[i] == '\n' || buf[i] == 0) {
			char c = buf[i];
			buf[i] = 0;
			if (i > 0 && buf[i - 1] == '\r')
				buf[i - 1] = 0;
			out("capsa-net: http: ");
			out(line);
			out("\n");
			line = buf + i + 1;
			if (!c)
				break;
		}
	}
}

/* Send kib KiB of the pattern (i * 7) & 0xff to hip:port. */
static void upload(int port, long kib)
{
	static char chunk[65536];
	for (int i = 0; i < (int)sizeof(chunk); i++)
		chunk[i] = (char)(i * 7);
	long s = SOCKET(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = addr(hip[0], hip[1], hip[2], hip[3], port);
	if (CONNECT(s, (long)&a, sizeof(a)) < 0) {
		out("capsa-net: upload connect failed\n");
		return;
	}
	long sent = 0;
	while (sent < kib * 1024) {
		long n = kib * 1024 - sent < (long)sizeof(chunk) ? kib * 1024 - sent
		                                                 : (long)sizeof(chunk);
		long k = sys5(NR_write, s, (long)chunk, n, 0, 0);
		if (k <= 0)
			break;
		sent += k;
	}
	/* A close returns with data still in flight, and a reboot right after
	 * would lose it: half-close, then wait for the host's end of stream,
	 * which it sends once it has read everything. */
	sys5(NR_shutdown, s, 1 /* SHUT_WR */, 0, 0, 0);
	while (sys5(NR_read, s, (long)chunk, sizeof(chunk), 0, 0) > 0)
		;
	sys5(NR_close, s, 0, 0, 0, 0);
	out_num("capsa-net: uploaded bytes: ", sent);
}

static void serve_once(int port)
{
	long s = SOCKET(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	SETSOCKOPT(s, SOL_SOCKET, SO_REUSEADDR, (long)&one, sizeof(one));
	struct sockaddr_in a = addr(0, 0, 0, 0, port);
	if (BIND(s, (long)&a, sizeof(a)) < 0 || LISTEN(s, 1) < 0) {
		out("capsa-net: listen failed\n");
		return;
	}
	out_num("capsa-net: listening on ", port);
	long c = ACCEPT(s);
	if (c < 0) {
		out_num("capsa-net: accept failed: ", c);
		return;
	}
	static const char msg[] = "hello through hostfwd\n";
	sys5(NR_write, c, (long)msg, sizeof(msg) - 1, 0, 0);
	sys5(NR_close, c, 0, 0, 0, 0);
	out("capsa-net: served one connection\n");
}

void init_main(long *sp)
{
	long argc = sp[0];
	char **envp = (char **)(sp + 1 + argc + 1);
	out("capsa-net: init running\n");
	env_ip(envp, "gip=", gip);
	env_ip(envp, "hip=", hip);
	int lo = if_up("lo", 0, 0, 0, 0), eth = if_up("eth0", gip[0], gip[1], gip[2], gip[3]);
	out_num("capsa-net: lo up: ", lo);
	out_num("capsa-net: eth0 up: ", eth);
	long port = env_num(envp, "httpport="), fwd = env_num(envp, "fwdport=");
	long sink = env_num(envp, "sinkport="), kib = env_num(envp, "sinkkib=");
	if (port)
		fetch((int)port);
	if (sink)
		upload((int)sink, kib);
	if (fwd)
		serve_once((int)fwd);
	out("capsa-net: done\n");
	restart();
	for (;;)
		;
}
