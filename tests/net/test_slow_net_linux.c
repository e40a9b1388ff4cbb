/* SPDX-License-Identifier: Apache-2.0 */
/* Slow: Linux (the guest kernel, an initramfs whose init is
 * tests/virtio/guest/netinit.c) on user-mode networking. The init brings eth0
 * up as 10.0.2.15, fetches http://10.0.2.2:PORT/ from a server thread on the
 * host's 127.0.0.1:PORT (a line naming this run, then 256 KiB the init counts and
 * sums), sends 128 KiB to a second host port that checks every byte, and then
 * serves one connection that the test makes to a hostfwd port on 127.0.0.1. */
#include "vm/vmtest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#define BULK     (256 * 1024)
#define SINK_KIB 128

struct server {
	int fd, sink_fd;
	char body[64];
	int served;
	unsigned long expect_sum; /* of the response beyond its first 4095 bytes */
	long sink_bytes;
	size_t total; /* response bytes */
	int sink_ok;
};

static int listen_loopback(uint16_t *port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4))
		return -1;
	socklen_t l = sizeof(a);
	getsockname(s, (struct sockaddr *)&a, &l);
	*port = ntohs(a.sin_port);
	return s;
}

static void *serve(void *arg)
{
	struct server *sv = arg;
	int c = accept(sv->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	char req[2048];
	size_t got = 0;
	while (got < sizeof(req) - 1) {
		ssize_t k = read(c, req + got, sizeof(req) - 1 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	static char resp[BULK + 512];
	int n = snprintf(resp, 512,
	                 "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
	                 strlen(sv->body) + 1 + BULK, sv->body);
	for (size_t i = 0; i < BULK; i++) /* printable lines of 64 */
		resp[n + i] = (i % 64 == 63) ? '\n' : (char)('a' + (i * 7 + i / 64) % 26);
	size_t total = (size_t)n + BULK;
	sv->total = total;
	sv->expect_sum = 0;
	for (size_t i = 4095; i < total; i++)
		sv->expect_sum += (unsigned char)resp[i];
	size_t off = 0;
	while (!strncmp(req, "GET / ", 6) && off < total) {
		ssize_t k = write(c, resp + off, total - off);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	sv->served = off == total;
	close(c);
	/* the upload: (i * 7) & 0xff for every byte */
	c = accept(sv->sink_fd, NULL, NULL);
	if (c < 0)
		return NULL;
	sv->sink_ok = 1;
	static unsigned char buf[65536];
	ssize_t k;
	while ((k = read(c, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < k; i++)
			if (buf[i] != (unsigned char)((sv->sink_bytes + i) * 7))
				sv->sink_ok = 0;
		sv->sink_bytes += k;
	}
	close(c);
	return NULL;
}

/* `text` as a whole line of the console output (which ends lines with \r\n) */
/* Is `text` a whole line of the console? (The kernel runs with loglevel=3:
 * a warning printed while the init writes would split its line.) Says what
 * was there instead when it is not. */
static int has_line(const char *out, const char *text)
{
	size_t n = strlen(text);
	for (const char *p = strstr(out, text); p; p = strstr(p + 1, text))
		if (p[n] == '\r' || p[n] == '\n')
			return 1;
	const char *colon = strrchr(text, ':');
	size_t key = colon ? (size_t)(colon - text) : n;
	for (const char *p = out; (p = strstr(p, "capsa-net:")); p++)
		if (!strncmp(p, text, key))
			printf("# note: wanted \"%s\", the console has \"%.*s\"\n", text,
			       (int)strcspn(p, "\r\n"), p);
	return 0;
}

static void linux_user_networking(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char kernel[4200], initrd[4200];
	guest_kernel(kernel, sizeof(kernel));
	int pvm = vm_guest_pvm();
	snprintf(initrd, sizeof(initrd), "%s/build/net/initramfs-%s.cpio", test_root(),
	         pvm ? "32" : "64");

	struct server sv = {0};
	uint16_t port, fport, sport;
	sv.fd = listen_loopback(&port);
	sv.sink_fd = listen_loopback(&sport);
	assert_true(sv.fd >= 0 && sv.sink_fd >= 0);
	snprintf(sv.body, sizeof(sv.body), "capsa-net-body-%d-%ld", (int)getpid(),
	         (long)time(NULL));
	int probe = listen_loopback(&fport); /* a free port for the forward */
	assert_true(probe >= 0);
	close(probe);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, serve, &sv), 0);

	char net[128], cmdline[256];
	snprintf(net, sizeof(net), "user,hostfwd=tcp:127.0.0.1:%u-:8080", fport);
	snprintf(cmdline, sizeof(cmdline),
	         "console=ttyS0 reboot=k panic=-1 loglevel=3 httpport=%u sinkport=%u sinkkib=%d "
	         "fwdport=8080",
	         port, sport, SINK_KIB);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	double t0 = now_secs();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		execl(test_capsa_bin(), "capsa", "vm", "run", "--kernel", kernel, "--initrd",
		      initrd, "--memory", "256M", "--net", net, "--cmdline", cmdline, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	static char out[1 << 20];
	int listening = read_until(pipefd[0], out, sizeof(out), "capsa-net: listening on", 300);
	char fwd[64] = "";
	if (listening) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_port = htons(fport),
		                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		struct timeval tv = {30, 0};
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(c, (struct sockaddr *)&a, sizeof(a)) == 0) {
			ssize_t k = read(c, fwd, sizeof(fwd) - 1);
			fwd[k > 0 ? k : 0] = '\0';
		}
		close(c);
	}
	size_t have = strlen(out);
	read_until(pipefd[0], out + have, sizeof(out) - have, "machine restart", 60);
	int st;
	double took;
	pid_t w = wait_with_deadline(pid, 30, &st, &took);
	close(pipefd[0]);
	double secs = now_secs() - t0;
	shutdown(sv.fd, SHUT_RDWR);
	shutdown(sv.sink_fd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv.fd);
	close(sv.sink_fd);
	if (!strstr(out, "capsa-net: done"))
		printf("# console tail: %s\n", out + (strlen(out) > 3000 ? strlen(out) - 3000 : 0));
	assert_int_equal(w, pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_non_null(strstr(out, "capsa-net: eth0 up: 0"));
	assert_true(sv.served);
	char want[128];
	snprintf(want, sizeof(want), "capsa-net: http: %s", sv.body);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "capsa-net: http: HTTP/1.0 200 OK"));
	char line[96];
	snprintf(line, sizeof(line), "capsa-net: http bytes: %zu", sv.total);
	assert_true(has_line(out, line));
	snprintf(line, sizeof(line), "capsa-net: http sum beyond 4 KiB: %lu", sv.expect_sum);
	assert_true(has_line(out, line));
	assert_int_equal(sv.sink_bytes, SINK_KIB * 1024);
	assert_true(sv.sink_ok);
	snprintf(line, sizeof(line), "capsa-net: uploaded bytes: %d", SINK_KIB * 1024);
	assert_true(has_line(out, line));
	assert_string_equal(fwd, "hello through hostfwd\n");
	assert_non_null(strstr(out, "capsa-net: served one connection"));
	test_measured("Linux on user-mode networking: %zu bytes of HTTP from the host, %d KiB "
	              "uploaded, a hostfwd connection; %.1f s wall",
	              sv.total, SINK_KIB, secs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(linux_user_networking),
	};
	return RUN_VM_GROUPS("virtio-net Linux (slow)", tests, NULL, NULL);
}
