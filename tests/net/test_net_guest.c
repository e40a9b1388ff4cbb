/* SPDX-License-Identifier: Apache-2.0 */
/* The CPL3 test guest (test=virtio-net, tests/guests/virtio_net.c) drives
 * virtio-net under capsa: Ethernet/ARP/IPv4/UDP frames it builds itself reach
 * a UDP echo server on the host and come back, through user-mode networking
 * (10.0.2.2 is the host's loopback) and through a tap device the test
 * creates; hostile frames on the way are dropped without a device reset; a
 * hostfwd port on 127.0.0.1 reaches the guest's minimal TCP responder. */
#include "vm/vmtest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

struct echo {
	int fd;
	uint16_t port;
	int stop;
	unsigned count;
};

static void *echo_loop(void *arg)
{
	struct echo *e = arg;
	while (!__atomic_load_n(&e->stop, __ATOMIC_SEQ_CST)) {
		struct pollfd p = {e->fd, POLLIN, 0};
		if (poll(&p, 1, 50) <= 0)
			continue;
		char buf[2048];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(e->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n > 0 && sendto(e->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n)
			__atomic_add_fetch(&e->count, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void echo_start(struct echo *e, pthread_t *th, uint32_t addr)
{
	memset(e, 0, sizeof(*e));
	e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr)};
	assert_int_equal(bind(e->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t l = sizeof(a);
	getsockname(e->fd, (struct sockaddr *)&a, &l);
	e->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(th, NULL, echo_loop, e), 0);
}

static void echo_stop(struct echo *e, pthread_t th)
{
	__atomic_store_n(&e->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	close(e->fd);
}

static void check_guest(struct run_result *r, unsigned rounds)
{
	if (r->status != 0)
		printf("# status %d\n# stdout: %s\n# stderr: %s\n", r->status, r->out, r->err);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "net: failures=0"));
	char key[64];
	for (unsigned i = 0; i < rounds; i++) {
		snprintf(key, sizeof(key), "net: udp round %u", i);
		char *p = strstr(r->out, key);
		assert_non_null(p);
		assert_non_null(strstr(p, "rc=0\n"));
	}
	/* both hostile frames were taken, the status still has no NEEDS_RESET */
	assert_non_null(strstr(r->out, "net: hostile frames sent=0 status=0xf\n"));
}

/* A TCP port on 127.0.0.1 that was free a moment ago (bound, then released). */
static uint16_t free_loopback_port(void)
{
	int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(probe, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t l = sizeof(a);
	assert_int_equal(getsockname(probe, (struct sockaddr *)&a, &l), 0);
	close(probe);
	return ntohs(a.sin_port);
}

static void user_mode_udp_echo(void **state)
{
	(void)state;
	REQUIRE_KVM();
	struct echo e;
	pthread_t th;
	echo_start(&e, &th, INADDR_LOOPBACK);
	/* a closed port on the host for the probe */
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "test=virtio-net port=%u rounds=5 bench=100 probe=%u", e.port,
	         free_loopback_port());
	struct run_result r;
	run_testguest(&r, 60, cmd, "--net", "user,mac=02:11:22:33:44:55", NULL);
	echo_stop(&e, th);
	check_guest(&r, 5);
	/* ICMP and a refused TCP connection went through slirp (other host calls
	 * than UDP, under the I/O thread's seccomp policy) and the VM carried on */
	assert_non_null(strstr(r.out, " rst=1\n"));
	assert_non_null(strstr(r.out, "net: udp after probe rc=0\n"));
	assert_non_null(strstr(r.out, "net: mac=2:11:22:33:44:55\n"));
	assert_non_null(strstr(r.out, "net: peer mac=52:55:a:0:2:2\n")); /* slirp's gateway */
	/* every datagram went through the host's echo server */
	assert_int_equal(e.count, 5 + 100 + 1);
	assert_non_null(strstr(r.out, "net: bench rtt n=100 len=64 ok=100"));
	test_measured("user-mode UDP: 5 echo rounds + 100 timed round trips, %.2f s wall", r.secs);
	run_result_free(&r);
}

static void user_mode_rate_limit(void **state)
{
	(void)state;
	REQUIRE_KVM();
	struct echo e;
	pthread_t th;
	echo_start(&e, &th, INADDR_LOOPBACK);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "test=virtio-net port=%u rounds=1 bench=20", e.port);
	struct run_result r;
	/* 40 frames/s from the guest, one at a time: ~23 frames need >= 0.5 s */
	run_testguest(&r, 60, cmd, "--net", "user,tx_ops=40,tx_ops_burst=1", NULL);
	echo_stop(&e, th);
	check_guest(&r, 1);
	assert_true(r.secs >= 0.5);
	test_measured("user-mode UDP at tx_ops=40: 23 frames in %.2f s wall", r.secs);
	run_result_free(&r);
}

/* hostfwd: a TCP connection to 127.0.0.1:HP reaches the guest's port 8080,
 * where the test guest's minimal TCP answers one line. */
static void user_mode_hostfwd(void **state)
{
	(void)state;
	REQUIRE_KVM();
	struct echo e;
	pthread_t th;
	echo_start(&e, &th, INADDR_LOOPBACK);
	/* a free port for the forward */
	uint16_t fport = free_loopback_port();
	char net[96], cmd[128];
	snprintf(net, sizeof(net), "user,hostfwd=tcp:127.0.0.1:%u-:8080", fport);
	snprintf(cmd, sizeof(cmd), "test=virtio-net port=%u rounds=1 listen=8080", e.port);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = spawn_guest_with(pipefd[1], cmd, "1", "--net", net, NULL);
	close(pipefd[1]);
	static char out[65536];
	int listening = read_until(pipefd[0], out, sizeof(out), "net: tcp listening", 20);
	char line[64], got[128] = "";
	snprintf(line, sizeof(line), "hello-guest-%d\n", (int)getpid());
	if (listening) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in fa = {.sin_family = AF_INET,
		                         .sin_port = htons(fport),
		                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		struct timeval tv = {10, 0};
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(c, (struct sockaddr *)&fa, sizeof(fa)) == 0 &&
		    write(c, line, strlen(line)) == (ssize_t)strlen(line)) {
			size_t n = 0;
			ssize_t k;
			while (n < sizeof(got) - 1 &&
			       (k = read(c, got + n, sizeof(got) - 1 - n)) > 0)
				n += (size_t)k;
			got[n] = '\0';
		}
		close(c);
	}
	size_t have = strlen(out);
	read_until(pipefd[0], out + have, sizeof(out) - have, "capsa test guest: exit", 20);
	int st;
	double took;
	pid_t w = wait_with_deadline(pid, 20, &st, &took);
	close(pipefd[0]);
	echo_stop(&e, th);
	if (!strstr(out, "net: failures=0"))
		printf("# guest output: %s\n", out);
	assert_true(listening);
	char want[96];
	snprintf(want, sizeof(want), "echo: %s", line);
	assert_string_equal(got, want);
	assert_int_equal(w, pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_non_null(strstr(out, "net: tcp rc=0"));
	assert_non_null(strstr(out, "net: failures=0"));
}

static int sh(const char *cmd)
{
	char *const argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	struct run_result r;
	run_cmd(&r, argv, 20);
	int st = r.status;
	if (st)
		printf("# '%s': %s", cmd, r.err);
	run_result_free(&r);
	return st;
}

static void tap_udp_echo(void **state)
{
	(void)state;
	REQUIRE_KVM();
	if (access("/dev/net/tun", R_OK | W_OK))
		skip_because("host has no /dev/net/tun");
	char name[16], cmd[256];
	snprintf(name, sizeof(name), "capsat%u", (unsigned)getpid() % 100000);
	/* 192.168.213.0/24 on a tap only this test uses; nothing is routed */
	snprintf(cmd, sizeof(cmd),
	         "ip tuntap add dev %s mode tap && ip addr add 192.168.213.1/24 dev %s && "
	         "ip link set %s up",
	         name, name, name);
	if (sh(cmd)) {
		snprintf(cmd, sizeof(cmd), "ip link del %s 2>/dev/null", name);
		sh(cmd);
		fail_msg("could not create tap %s", name);
	}
	struct echo e;
	pthread_t th;
	echo_start(&e, &th, 0xc0a8d501);
	char gcmd[160], net[32];
	snprintf(gcmd, sizeof(gcmd),
	         "test=virtio-net port=%u rounds=4 gip=0xc0a8d502 hip=0xc0a8d501", e.port);
	snprintf(net, sizeof(net), "tap=%s", name);
	struct run_result r;
	run_testguest(&r, 60, gcmd, "--net", net, NULL);
	echo_stop(&e, th);
	snprintf(cmd, sizeof(cmd), "ip link del %s", name);
	int del = sh(cmd);
	check_guest(&r, 4);
	assert_int_equal(e.count, 4);
	assert_int_equal(del, 0);
	test_measured("tap UDP: 4 echo rounds, %.2f s wall", r.secs);
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(user_mode_udp_echo),
	    cmocka_unit_test(user_mode_rate_limit),
	    cmocka_unit_test(user_mode_hostfwd),
	    cmocka_unit_test(tap_udp_echo),
	};
	return RUN_VM_GROUPS("net guest", tests, NULL, NULL);
}
