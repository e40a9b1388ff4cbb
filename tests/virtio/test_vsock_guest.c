/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-vsock driven by the CPL3 test guest under capsa vm run:
 * (a) the guest listens on a vsock port and echoes what a host program sends
 * after "CONNECT <port>\n" on the device's Unix socket; (b) the guest connects
 * to host port P, where the test listens on "<uds>_P" and echoes, and checks
 * a few MiB coming back (credit updates both ways). */
#include "vm/vmtest.h"

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define LPORT   1234
#define HPORT   5000
#define A_BYTES (256u << 10)
#define B_MIB   4

static uint8_t pattern(size_t o)
{
	uint32_t x = (uint32_t)o * 2654435761u;
	return (uint8_t)(x >> 13 ^ x >> 24);
}

static int unix_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -1;
	memcpy(a->sun_path, path, strlen(path) + 1);
	return 0;
}

struct echo {
	int lfd;
	uint64_t bytes;
	int done;
};

/* (b): accept one guest connection on <uds>_P and echo it until EOF. */
static void *echo_server(void *arg)
{
	struct echo *e = arg;
	struct pollfd p = {e->lfd, POLLIN, 0};
	if (poll(&p, 1, 60000) <= 0)
		return NULL;
	int fd = accept(e->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	static uint8_t buf[65536];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(fd, buf + off, (size_t)(r - off));
			if (w <= 0)
				goto out;
			off += w;
		}
		e->bytes += (uint64_t)r;
	}
	e->done = 1;
out:
	close(fd);
	return NULL;
}

struct client {
	char path[300];
	int got_ok, attempts, same;
	uint64_t sent, echoed;
};

/* (a): CONNECT to the guest's port (again, until the guest listens), send
 * A_BYTES, read the echo while sending, half-close, read to EOF. */
static void *host_client(void *arg)
{
	struct client *c = arg;
	struct sockaddr_un a;
	if (unix_addr(&a, c->path))
		return NULL;
	double t0 = now_secs();
	int fd = -1;
	while (now_secs() - t0 < 60) {
		struct stat sb;
		if (stat(c->path, &sb)) {
			usleep(10000);
			continue;
		}
		c->attempts++;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			char cmd[32], line[32] = {0};
			int n = snprintf(cmd, sizeof(cmd), "CONNECT %u\n", LPORT);
			size_t got = 0;
			if (write(fd, cmd, (size_t)n) == n) {
				/* the answer line, a byte at a time: what follows is echo */
				while (got < sizeof(line) - 1) {
					struct pollfd p = {fd, POLLIN, 0};
					if (poll(&p, 1, 5000) <= 0 || read(fd, line + got, 1) != 1)
						break;
					if (line[got++] == '\n')
						break;
				}
			}
			if (!strncmp(line, "OK ", 3)) {
				c->got_ok = 1;
				break;
			}
		}
		close(fd);
		fd = -1;
		usleep(20000);
	}
	if (fd < 0)
		return NULL;
	static uint8_t back[A_BYTES];
	uint8_t out[4096];
	c->same = 1;
	int wr_open = 1;
	while (c->echoed < A_BYTES && now_secs() - t0 < 60) {
		struct pollfd p = {fd, POLLIN | (c->sent < A_BYTES ? POLLOUT : 0), 0};
		if (poll(&p, 1, 5000) <= 0)
			break;
		if ((p.revents & POLLOUT) && c->sent < A_BYTES) {
			size_t n =
			    A_BYTES - c->sent < sizeof(out) ? A_BYTES - c->sent : sizeof(out);
			for (size_t i = 0; i < n; i++)
				out[i] = pattern(c->sent + i);
			ssize_t w = send(fd, out, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w > 0)
				c->sent += (uint64_t)w;
		}
		if (c->sent == A_BYTES && wr_open) {
			shutdown(fd, SHUT_WR);
			wr_open = 0;
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			ssize_t r = recv(fd, back + c->echoed, A_BYTES - c->echoed, MSG_DONTWAIT);
			if (r == 0)
				break;
			if (r > 0)
				c->echoed += (uint64_t)r;
		}
	}
	for (uint64_t i = 0; i < c->echoed; i++)
		c->same &= back[i] == pattern(i);
	close(fd);
	return NULL;
}

static void vsock_echo(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char *dir = test_tmpdir();
	char uds[300], hpath[320], spec[400];
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	snprintf(hpath, sizeof(hpath), "%s_%u", uds, HPORT);
	snprintf(spec, sizeof(spec), "cid=7,uds=%s", uds);
	struct sockaddr_un a;
	assert_int_equal(unix_addr(&a, hpath), 0);
	struct echo e = {.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
	assert_int_equal(bind(e.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(e.lfd, 4), 0);
	struct client c = {0};
	snprintf(c.path, sizeof(c.path), "%s", uds);
	pthread_t te, tc;
	assert_int_equal(pthread_create(&te, NULL, echo_server, &e), 0);
	assert_int_equal(pthread_create(&tc, NULL, host_client, &c), 0);
	char cmdline[200];
	snprintf(cmdline, sizeof(cmdline), "test=virtio-vsock lport=%u hport=%u mib=%u", LPORT,
	         HPORT, B_MIB);
	struct run_result r;
	run_testguest(&r, 120, cmdline, "--vsock", spec, "--console", "stdio", NULL);
	pthread_join(tc, NULL);
	shutdown(e.lfd, SHUT_RDWR);
	pthread_join(te, NULL);
	close(e.lfd);
	printf("%s", r.out);
	if (r.status)
		printf("# stderr: %s\n", r.err);
	printf("# host client: attempts=%d ok=%d sent=%llu echoed=%llu same=%d\n", c.attempts,
	       c.got_ok, (unsigned long long)c.sent, (unsigned long long)c.echoed, c.same);
	printf("# host echo server: bytes=%llu done=%d\n", (unsigned long long)e.bytes, e.done);
	assert_int_equal(r.status, 0);
	char v[256];
	assert_int_equal(line_value(r.out, "vsock cid", v, sizeof(v)), 0);
	assert_string_equal(v, "7");
	/* (a) */
	assert_true(c.got_ok);
	assert_int_equal(c.sent, A_BYTES);
	assert_int_equal(c.echoed, A_BYTES);
	assert_true(c.same);
	snprintf(v, sizeof(v), "vsock: listen port=%u echoed=%u\n", LPORT, A_BYTES);
	assert_non_null(strstr(r.out, v));
	/* (b) */
	assert_int_equal(e.bytes, (uint64_t)B_MIB << 20);
	assert_true(e.done);
	snprintf(v, sizeof(v), "vsock: connect port=%u sent=%u echoed=%u same=1\n", HPORT,
	         B_MIB << 20, B_MIB << 20);
	assert_non_null(strstr(r.out, v));
	/* a connection to a host port nobody listens on is refused */
	assert_non_null(strstr(r.out, "vsock: refused port=5001 rst=1\n"));
	assert_non_null(strstr(r.out, "vsock: failures=0\n"));
	run_result_free(&r);
	/* the listening socket went away with capsa */
	struct stat sb;
	assert_int_not_equal(stat(uds, &sb), 0);
	unlink(hpath);
	rmdir(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vsock_echo),
	};
	return RUN_VM_GROUPS("vsock guest", tests, NULL, NULL);
}
