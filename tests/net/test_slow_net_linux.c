/* Slow: Linux (the guest kernel, an initramfs whose init is
 * tests/virtio/guest/netinit.c) on user-mode networking. The init brings eth0
 * up as 10.0.2.15, fetches http://10.0.2.2:PORT/ from a server thread on the
 * host's 127.0.0.1:PORT and prints the answer; then it serves one connection
 * that the test makes to a hostfwd port on 127.0.0.1. */
#include "vm/vmtest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

struct server {
	int fd;
	char body[64];
	int served;
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
	char resp[256];
	int n = snprintf(resp, sizeof(resp),
	                 "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
	                 strlen(sv->body) + 1, sv->body);
	if (!strncmp(req, "GET / ", 6) && write(c, resp, (size_t)n) == n)
		sv->served = 1;
	close(c);
	return NULL;
}

static void linux_user_networking(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char kernel[4200], initrd[4200];
	guest_kernel(kernel, sizeof(kernel));
	int pvm = access("/sys/module/kvm_pvm", F_OK) == 0;
	snprintf(initrd, sizeof(initrd), "%s/build/net/initramfs-%s.cpio", test_root(),
	         pvm ? "32" : "64");

	struct server sv = {0};
	uint16_t port, fport;
	sv.fd = listen_loopback(&port);
	assert_true(sv.fd >= 0);
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
	         "console=ttyS0 reboot=k panic=-1 httpport=%u fwdport=8080", port);
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
	close(sv.fd);
	pthread_join(th, NULL);
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
	assert_string_equal(fwd, "hello through hostfwd\n");
	assert_non_null(strstr(out, "capsa-net: served one connection"));
	test_measured("Linux on user-mode networking: HTTP from the host and a hostfwd "
	              "connection, %.1f s wall",
	              secs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(linux_user_networking),
	};
	return cmocka_run_group_tests_name("virtio-net Linux (slow)", tests, NULL, NULL);
}
