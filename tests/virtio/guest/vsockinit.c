/* SPDX-License-Identifier: Apache-2.0 */
/* init (pid 1) for the slow vsock test: Linux's own virtio-vsock driver
 * against capsa's device. Connects to host port 5000 and reads the echo of a
 * message; connects to port 5001, where nobody listens, and reports the error;
 * listens on port 1234, accepts one host connection, answers "guest got: " and
 * what it read; then restarts the machine. Lines start with "capsa-vsock: ".
 * Freestanding, no SSE (guest/init/freestanding.h). */
#include "freestanding.h"

#define AF_VSOCK    40
#define SOCK_STREAM 1
/* SO_VM_SOCKETS_CONNECT_TIMEOUT with the native struct timeval (the "old"
 * form, 6, takes longs on both ABIs this init is built for). */
#define SO_VM_SOCKETS_CONNECT_TIMEOUT 6

struct sockaddr_vm {
	unsigned short family, reserved;
	unsigned port, cid;
	unsigned char zero[4];
};

static int con;

static void out(const char *s)
{
	say(con, s);
}

static long connect_host(unsigned port)
{
	long fd = sys(NR_socket, AF_VSOCK, SOCK_STREAM, 0);
	/* The default 2 s is guest time: where guest kernel code is emulated
	 * slowly, the device's answer can take longer than that to be seen. */
	long tv[2] = {30, 0};
	sys5(NR_setsockopt, fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, (long)tv, sizeof(tv));
	struct sockaddr_vm a = {AF_VSOCK, 0, port, 2, {0}};
	long r = sys(NR_connect, fd, &a, sizeof(a));
	if (r < 0) {
		sys(NR_close, fd, 0, 0);
		return r;
	}
	return fd;
}

void init_main(long *sp)
{
	(void)sp;
	con = (int)sys(NR_open, "/dev/console", 2, 0);
	long fd = connect_host(5000);
	out("capsa-vsock: connect 5000: ");
	say_num(con, fd < 0 ? fd : 0);
	out("\n");
	if (fd >= 0) {
		const char *m = "hello from linux over vsock";
		char buf[64] = {0};
		sys(NR_write, fd, m, slen(m));
		long n = 0, k;
		while (n < (long)slen(m) && (k = sys(NR_read, fd, buf + n, 63 - n)) > 0)
			n += k;
		out("capsa-vsock: echo: ");
		out(buf);
		out("\n");
		sys(NR_close, fd, 0, 0);
	}
	out("capsa-vsock: connect 5001: ");
	say_num(con, connect_host(5001));
	out("\n");
	long l = sys(NR_socket, AF_VSOCK, SOCK_STREAM, 0);
	struct sockaddr_vm any = {AF_VSOCK, 0, 1234, 0xffffffffu, {0}};
	if (sys(NR_bind, l, &any, sizeof(any)) == 0 && sys(NR_listen, l, 4, 0) == 0) {
		out("capsa-vsock: listening on 1234\n");
		long c = sys5(NR_accept4, l, 0, 0, 0, 0);
		if (c >= 0) {
			char buf[64] = {0};
			long n = sys(NR_read, c, buf, 63);
			const char *m = "guest got: ";
			sys(NR_write, c, m, slen(m));
			if (n > 0)
				sys(NR_write, c, buf, n);
			/* A restart right after close would drop the answer while it
			 * is still in the device's queue: half-close and wait for the
			 * host to close its end, which it does once it has read. */
			sys(NR_shutdown, c, 1 /* SHUT_WR */, 0);
			char drain[16];
			while (sys(NR_read, c, drain, sizeof(drain)) > 0)
				;
			sys(NR_close, c, 0, 0);
			out("capsa-vsock: host said: ");
			out(buf);
			out("\n");
		}
	}
	out("capsa-vsock: done\n");
	restart();
}
