/* SPDX-License-Identifier: Apache-2.0 */
/* Docker as a client: a dockerd of the test's own (data and exec roots,
 * pid file and socket in a temporary directory, no bridge, no iptables,
 * capsa added as a runtime) runs an image imported from a busybox root:
 * exit status, -d, exec, pause/unpause, stats, stop, rm and -t. */
#include "oci_helpers.h"

#define DOCKERD "/usr/sbin/dockerd"
#define DOCKER  "/usr/bin/docker"
#define IMAGE   "capsa-test-busybox"

static struct bundle dk; /* dk.dir: the daemon's directory; rootfs/: the image */
static char host[320], skip_reason[128], broken[256];
static pid_t dockerd = -1;

static void docker(struct run_result *r, double timeout, ...)
{
	char *argv[64];
	int n = 0;
	va_list ap;
	argv[n++] = DOCKER;
	argv[n++] = "-H";
	argv[n++] = host;
	va_start(ap, timeout);
	for (char *a; n < 62 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	run_files(r, dk.dir, argv, timeout);
}

/* docker ARGS... must succeed; its stdout (free it). */
static char *docker_ok(const char *what, ...)
{
	char *argv[64];
	int n = 0;
	va_list ap;
	argv[n++] = DOCKER;
	argv[n++] = "-H";
	argv[n++] = host;
	va_start(ap, what);
	for (char *a; n < 62 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	struct run_result r;
	run_files(&r, dk.dir, argv, 60);
	expect_ok(&r, what);
	free(r.err);
	return r.out;
}

static int start_dockerd(void)
{
	char p[7][512];
	snprintf(p[0], sizeof(p[0]), "%s/daemon.json", dk.dir);
	write_text(p[0], "{}\n");
	snprintf(p[1], sizeof(p[1]), "%s/data", dk.dir);
	snprintf(p[2], sizeof(p[2]), "%s/exec", dk.dir);
	snprintf(p[3], sizeof(p[3]), "%s/dockerd.pid", dk.dir);
	snprintf(p[4], sizeof(p[4]), "capsa=%s", test_capsa_bin());
	snprintf(p[5], sizeof(p[5]), "%s/dockerd.log", dk.dir);
	snprintf(host, sizeof(host), "unix://%s/docker.sock", dk.dir);
	char *argv[] = {DOCKERD,
	                "--config-file",
	                p[0],
	                "--data-root",
	                p[1],
	                "--exec-root",
	                p[2],
	                "--pidfile",
	                p[3],
	                "-H",
	                host,
	                "--bridge=none",
	                "--iptables=false",
	                "--ip-masq=false",
	                "--storage-driver=vfs",
	                "--add-runtime",
	                p[4],
	                NULL};
	dockerd = daemon_start(argv, p[5]);
	struct run_result r;
	for (int i = 0; i < 300; i++) {
		docker(&r, 10, "version", NULL);
		int up = r.status == 0;
		run_result_free(&r);
		if (up)
			return 0;
		if (waitpid(dockerd, NULL, WNOHANG) == dockerd) {
			dockerd = -1;
			break;
		}
		usleep(100000);
	}
	char *log = read_file(p[5], NULL);
	snprintf(broken, sizeof(broken), "dockerd did not start: %.200s", log ? log : "(no log)");
	free(log);
	return -1;
}

static int setup(void **state)
{
	(void)state;
	if (!is_root() || !have_busybox())
		snprintf(skip_reason, sizeof(skip_reason), "needs root and busybox-static");
	else if (access(DOCKERD, X_OK) != 0 || access(DOCKER, X_OK) != 0)
		snprintf(skip_reason, sizeof(skip_reason), "docker.io is not installed (%s)",
		         DOCKERD);
	if (skip_reason[0])
		return 0;
	if (bundle_new(&dk, NULL) < 0)
		return -1;
	if (start_dockerd() < 0)
		return 0;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "tar -C %s/rootfs -c . | %s -H %s import - %s >/dev/null",
	         dk.dir, DOCKER, host, IMAGE);
	if (system(cmd) != 0)
		snprintf(broken, sizeof(broken), "docker import of the busybox root failed");
	return 0;
}

/* Runs even when tests failed: containers, daemon (and the containerd it
 * started), mounts, files. */
static int teardown(void **state)
{
	(void)state;
	if (!dk.dir[0])
		return 0;
	if (dockerd > 0) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd),
		         "ids=$(%s -H %s ps -aq); [ -z \"$ids\" ] || %s -H %s rm -f $ids "
		         ">/dev/null 2>&1",
		         DOCKER, host, DOCKER, host);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove the test's containers\n");
		daemon_stop(dockerd, 20);
	}
	char p[512];
	snprintf(p, sizeof(p), "%s/exec/containerd/containerd.pid", dk.dir);
	char *pid = read_file(p, NULL);
	if (pid && atoi(pid) > 1 && kill(atoi(pid), 0) == 0) /* dockerd was killed */
		kill(atoi(pid), SIGKILL);
	free(pid);
	unmount_below(dk.dir);
	bundle_free(&dk);
	return 0;
}

#define REQUIRE_DOCKER()                                                                           \
	do {                                                                                       \
		if (skip_reason[0])                                                                \
			skip_because("%s", skip_reason);                                           \
		if (broken[0])                                                                     \
			fail_msg("%s", broken);                                                    \
	} while (0)

/* The exit status comes back; Docker's config (zero limits, seccomp with
 * noNewPrivileges false) runs without no_new_privs, as under runc. */
static void test_docker_run_status(void **state)
{
	(void)state;
	REQUIRE_DOCKER();
	struct run_result r;
	double t0 = now_secs();
	docker(&r, 60, "run", "--rm", "--runtime", "capsa", "--network", "none", IMAGE, "sh", "-c",
	       "echo hello from docker; grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; exit 3",
	       NULL);
	if (r.status != 3)
		fail_msg("docker run: status %d\nstdout: %s\nstderr: %s", r.status, r.out, r.err);
	assert_non_null(strstr(r.out, "hello from docker"));
	assert_non_null(strstr(r.out, "NoNewPrivs:\t0"));
	assert_non_null(strstr(r.out, "Seccomp:\t2"));
	test_measured("docker run --rm with capsa (ASan build) took %.0f ms",
	              (now_secs() - t0) * 1000);
	run_result_free(&r);
}

/* -d, exec, pause/unpause, stats, stop, rm. */
static void test_docker_detached(void **state)
{
	(void)state;
	REQUIRE_DOCKER();
	char *id = docker_ok("run -d", "run", "-d", "--runtime", "capsa", "--network", "none",
	                     "--name", "capsa-d", IMAGE, "sleep", "60", NULL);
	assert_true(strlen(id) >= 12);
	free(id);
	char *out = docker_ok("exec", "exec", "capsa-d", "sh", "-c",
	                      "echo in-exec; cat /proc/1/comm", NULL);
	assert_non_null(strstr(out, "in-exec\nsleep\n"));
	free(out);
	free(docker_ok("pause", "pause", "capsa-d", NULL));
	out = docker_ok("inspect", "inspect", "-f", "{{.State.Status}}", "capsa-d", NULL);
	assert_string_equal(out, "paused\n");
	free(out);
	free(docker_ok("unpause", "unpause", "capsa-d", NULL));
	out = docker_ok("inspect", "inspect", "-f", "{{.State.Status}}", "capsa-d", NULL);
	assert_string_equal(out, "running\n");
	free(out);
	out = docker_ok("stats", "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}",
	                "capsa-d", NULL);
	assert_string_equal(out, "capsa-d 1\n");
	free(out);
	free(docker_ok("stop", "stop", "-t", "1", "capsa-d", NULL));
	out = docker_ok("inspect", "inspect", "-f", "{{.State.Status}}", "capsa-d", NULL);
	assert_string_equal(out, "exited\n");
	free(out);
	free(docker_ok("rm", "rm", "capsa-d", NULL));
	out = docker_ok("ps", "ps", "-aq", NULL);
	assert_string_equal(out, "");
	free(out);
}

/* -t: the process gets a terminal. */
static void test_docker_tty(void **state)
{
	(void)state;
	REQUIRE_DOCKER();
	char *out = docker_ok("run -t", "run", "--rm", "-t", "--runtime", "capsa", "--network",
	                      "none", IMAGE, "tty", NULL);
	assert_non_null(strstr(out, "/dev/pts/0"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_run_status),
	    cmocka_unit_test(test_docker_detached),
	    cmocka_unit_test(test_docker_tty),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
