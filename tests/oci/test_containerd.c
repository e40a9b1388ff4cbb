/* SPDX-License-Identifier: Apache-2.0 */
/* containerd as a client (it is how Kubernetes' CRI reaches a runtime): a
 * containerd of the test's own (root, state and sockets in a temporary
 * directory) runs a busybox root through its runc shim with capsa as the
 * runc binary: exit status, run -d, task exec, pause/resume, metrics,
 * kill and delete, and a root holding only a WebAssembly module run with
 * crun's wasm annotation. */
#include "oci_helpers.h"

#define CONTAINERD "/usr/bin/containerd"
#define CTR        "/usr/bin/ctr"

static struct bundle ct; /* ct.dir: the daemon's directory; rootfs/: the root */
static char sock[320], rootfs[320], skip_reason[160], broken[256];
static pid_t containerd = -1;

static void ctr_v(struct run_result *r, double timeout, va_list ap)
{
	char *argv[64];
	int n = 0;
	argv[n++] = CTR;
	argv[n++] = "-a";
	argv[n++] = sock;
	for (char *a; n < 62 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	argv[n] = NULL;
	run_files(r, ct.dir, argv, timeout);
}

static void ctr(struct run_result *r, double timeout, ...)
{
	va_list ap;
	va_start(ap, timeout);
	ctr_v(r, timeout, ap);
	va_end(ap);
}

/* ctr ARGS... must succeed; its stdout (free it). */
static char *ctr_ok(const char *what, ...)
{
	struct run_result r;
	va_list ap;
	va_start(ap, what);
	ctr_v(&r, 60, ap);
	va_end(ap);
	expect_ok(&r, what);
	free(r.err);
	return r.out;
}

static int start_containerd(void)
{
	char cfg[512], log[512];
	snprintf(cfg, sizeof(cfg), "%s/config.toml", ct.dir);
	snprintf(log, sizeof(log), "%s/containerd.log", ct.dir);
	snprintf(sock, sizeof(sock), "%s/containerd.sock", ct.dir);
	write_text(cfg,
	           "version = 2\nroot = \"%s/root\"\nstate = \"%s/state\"\n"
	           "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
	           "[grpc]\n  address = \"%s\"\n[ttrpc]\n  address = \"%s.ttrpc\"\n"
	           "[debug]\n  address = \"%s/debug.sock\"\n",
	           ct.dir, ct.dir, sock, sock, ct.dir);
	char *argv[] = {CONTAINERD, "--config", cfg, NULL};
	containerd = daemon_start(argv, log);
	struct run_result r;
	for (int i = 0; i < 300; i++) {
		ctr(&r, 10, "version", NULL);
		int up = r.status == 0;
		run_result_free(&r);
		if (up)
			return 0;
		if (waitpid(containerd, NULL, WNOHANG) == containerd) {
			containerd = -1;
			break;
		}
		usleep(100000);
	}
	char *text = read_file(log, NULL);
	snprintf(broken, sizeof(broken), "containerd did not start: %.200s",
	         text ? text : "(no log)");
	free(text);
	return -1;
}

static int setup(void **state)
{
	(void)state;
	if (!is_root() || !have_busybox())
		snprintf(skip_reason, sizeof(skip_reason), "needs root and busybox-static");
	else if (access(CONTAINERD, X_OK) != 0 || access(CTR, X_OK) != 0)
		snprintf(skip_reason, sizeof(skip_reason), "containerd is not installed (%s)",
		         CONTAINERD);
	if (skip_reason[0])
		return 0;
	if (bundle_new(&ct, NULL) < 0)
		return -1;
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", ct.dir);
	start_containerd();
	return 0;
}

/* Runs even when tests failed: tasks (through their shims), daemon,
 * mounts, files. */
static int teardown(void **state)
{
	(void)state;
	if (!ct.dir[0])
		return 0;
	if (containerd > 0) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd),
		         "for t in $(%s -a %s task ls -q); do %s -a %s task kill -s SIGKILL $t; "
		         "sleep 0.2; %s -a %s task delete -f $t; done >/dev/null 2>&1; "
		         "for c in $(%s -a %s c ls -q); do %s -a %s c rm $c; done >/dev/null 2>&1",
		         CTR, sock, CTR, sock, CTR, sock, CTR, sock, CTR, sock);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove the test's containers\n");
		daemon_stop(containerd, 20);
	}
	unmount_below(ct.dir);
	bundle_free(&ct);
	return 0;
}

#define REQUIRE_CONTAINERD()                                                                       \
	do {                                                                                       \
		if (skip_reason[0])                                                                \
			skip_because("%s", skip_reason);                                           \
		if (broken[0])                                                                     \
			fail_msg("%s", broken);                                                    \
	} while (0)

static void test_ctr_run_status(void **state)
{
	(void)state;
	REQUIRE_CONTAINERD();
	struct run_result r;
	double t0 = now_secs();
	ctr(&r, 60, "run", "--rm", "--runc-binary", test_capsa_bin(), "--rootfs", rootfs,
	    "capsa-st", "sh", "-c", "echo hello from containerd; exit 4", NULL);
	if (r.status != 4)
		fail_msg("ctr run: status %d\nstdout: %s\nstderr: %s", r.status, r.out, r.err);
	assert_non_null(strstr(r.out, "hello from containerd"));
	test_measured("ctr run --rm with capsa (ASan build) took %.0f ms",
	              (now_secs() - t0) * 1000);
	run_result_free(&r);
}

/* The task's status as `ctr task ls` shows it ("" when it has none). */
static char *task_status(const char *id)
{
	static char status[32];
	char *out = ctr_ok("task ls", "task", "ls", NULL);
	char *line = strstr(out, id);
	status[0] = '\0';
	if (line)
		sscanf(line, "%*s %*s %31s", status);
	free(out);
	return status;
}

/* run -d, task exec, pause/resume, metrics, kill, delete. */
static void test_ctr_detached(void **state)
{
	(void)state;
	REQUIRE_CONTAINERD();
	free(ctr_ok("run -d", "run", "-d", "--runc-binary", test_capsa_bin(), "--rootfs", rootfs,
	            "capsa-d", "sleep", "60", NULL));
	assert_string_equal(task_status("capsa-d"), "RUNNING");
	char *out = ctr_ok("task exec", "task", "exec", "--exec-id", "e1", "capsa-d", "sh", "-c",
	                   "echo in-exec; cat /proc/1/comm", NULL);
	assert_non_null(strstr(out, "in-exec\nsleep\n"));
	free(out);
	free(ctr_ok("task pause", "task", "pause", "capsa-d", NULL));
	assert_string_equal(task_status("capsa-d"), "PAUSED");
	free(ctr_ok("task resume", "task", "resume", "capsa-d", NULL));
	assert_string_equal(task_status("capsa-d"), "RUNNING");
	out = ctr_ok("task metrics", "task", "metrics", "capsa-d", NULL);
	assert_non_null(strstr(out, "memory.usage"));
	free(out);
	free(ctr_ok("task kill", "task", "kill", "-s", "SIGKILL", "capsa-d", NULL));
	for (int i = 0; i < 250 && strcmp(task_status("capsa-d"), "STOPPED"); i++)
		usleep(20000);
	assert_string_equal(task_status("capsa-d"), "STOPPED");
	free(ctr_ok("task delete", "task", "delete", "capsa-d", NULL));
	free(ctr_ok("container delete", "container", "delete", "capsa-d", NULL));
	out = ctr_ok("container ls", "container", "ls", "-q", NULL);
	assert_string_equal(out, "");
	free(out);
}

/* ctr passes --annotation into config.json; the module's exit status is
 * the task's. */
static void test_ctr_wasm(void **state)
{
	(void)state;
	REQUIRE_CONTAINERD();
	if (!have_wasm_toolchain())
		skip_because("clang, wasm-ld or wasi-libc missing on this host");
	char root[400];
	snprintf(root, sizeof(root), "%s/wasmroot", ct.dir);
	assert_int_equal(wasm_rootfs(root), 0);
	struct run_result r;
	ctr(&r, 60, "run", "--rm", "--runc-binary", test_capsa_bin(), "--annotation",
	    "module.wasm.image/variant=compat", "--env", "GREETING=from containerd", "--cwd",
	    "/work", "--rootfs", root, "capsa-wasm", "/hello.wasm", "hello", "arg", NULL);
	if (r.status != 3)
		fail_msg("ctr run (wasm): status %d\nstdout: %s\nstderr: %s", r.status, r.out,
		         r.err);
	assert_non_null(strstr(r.out, "arg 1: arg\ngreeting: from containerd\n"
	                              "input: input from the image\n"));
	char p[500];
	snprintf(p, sizeof(p), "%s/work/out.txt", root);
	assert_int_equal(access(p, F_OK), 0);
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctr_run_status),
	    cmocka_unit_test(test_ctr_detached),
	    cmocka_unit_test(test_ctr_wasm),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
