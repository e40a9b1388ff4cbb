/* SPDX-License-Identifier: Apache-2.0 */
/* A real client: podman drives capsa (run, exec, stop, rm) with an image
 * imported from a busybox rootfs tarball, and runs a FROM-scratch image
 * holding only a WebAssembly module with crun's wasm annotation. */
#include "oci_helpers.h"

#define IMAGE "localhost/capsa-test-busybox:latest"
/* The test host's root lacks CAP_SYS_RESOURCE, so podman's default
 * rlimits (above the current hard limits) could not be set by any runtime. */
#define ULIMITS "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"

static char podman_bin[256];
static struct bundle img;

static void podman(struct run_result *r, double timeout, ...)
{
	char *argv[64];
	int n = 0;
	va_list ap;
	argv[n++] = podman_bin;
	argv[n++] = "--runtime";
	argv[n++] = (char *)test_capsa_bin();
	va_start(ap, timeout);
	for (char *a; n < 62 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	run_files(r, img.dir, argv, timeout);
}

static int setup(void **state)
{
	(void)state;
	const char *cands[] = {"/usr/bin/podman", "/usr/local/bin/podman"};
	for (size_t i = 0; i < 2; i++)
		if (access(cands[i], X_OK) == 0)
			snprintf(podman_bin, sizeof(podman_bin), "%s", cands[i]);
	if (!podman_bin[0] || !is_root() || !have_busybox())
		return 0;
	if (bundle_new(&img, NULL) < 0)
		return -1;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "tar -C %s/rootfs -cf %s/rootfs.tar . && %s import -q %s/rootfs.tar %s "
	         ">/dev/null",
	         img.dir, img.dir, podman_bin, img.dir, IMAGE);
	if (system(cmd) != 0)
		podman_bin[0] = '\0'; /* reported as a skip below */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (podman_bin[0]) {
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "%s rmi -f %s >/dev/null 2>&1", podman_bin, IMAGE);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", IMAGE);
	}
	if (img.dir[0])
		bundle_free(&img);
	return 0;
}

#define REQUIRE_PODMAN()                                                                           \
	do {                                                                                       \
		REQUIRE_ROOT_AND_BUSYBOX();                                                        \
		if (!podman_bin[0])                                                                \
			skip_because("podman is not installed or cannot import images");           \
	} while (0)

static void test_podman_run_rm(void **state)
{
	(void)state;
	REQUIRE_PODMAN();
	struct run_result r;
	podman(&r, 120, "run", "--rm", "--network", "none", ULIMITS, IMAGE, "sh", "-c",
	       "echo hello from podman; grep -c '^Seccomp:.*2' /proc/self/status; exit 3", NULL);
	assert_int_equal(r.status, 3);
	assert_non_null(strstr(r.out, "hello from podman\n1\n")); /* seccomp filter on */
	test_measured("podman run --rm with capsa took %.0f ms", r.secs * 1000);
	run_result_free(&r);
}

static void test_podman_exec_stop_rm(void **state)
{
	(void)state;
	REQUIRE_PODMAN();
	struct run_result r;
	char name[64];
	snprintf(name, sizeof(name), "capsa-podman-%d", (int)getpid());
	podman(&r, 120, "run", "-d", "--name", name, "--network", "none", "--memory", "64m",
	       ULIMITS, IMAGE, "sleep", "1000", NULL);
	expect_ok(&r, "podman run -d");
	run_result_free(&r);
	podman(&r, 60, "exec", name, "sh", "-c",
	       cgroup_v2_host()
	           ? "echo exec-ok; cat /sys/fs/cgroup/memory.max; ps"
	           : "echo exec-ok; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ps",
	       NULL);
	expect_ok(&r, "podman exec");
	assert_non_null(strstr(r.out, "exec-ok\n67108864\n"));
	assert_non_null(strstr(r.out, "sleep 1000"));
	run_result_free(&r);
	podman(&r, 60, "inspect", "--format", "{{.State.Status}}", name, NULL);
	assert_non_null(strstr(r.out, "running"));
	run_result_free(&r);
	podman(&r, 60, "stop", "-t", "1", name, NULL);
	expect_ok(&r, "podman stop");
	run_result_free(&r);
	podman(&r, 60, "inspect", "--format", "{{.State.Status}}", name, NULL);
	assert_non_null(strstr(r.out, "exited"));
	run_result_free(&r);
	podman(&r, 60, "rm", name, NULL);
	expect_ok(&r, "podman rm");
	run_result_free(&r);
	podman(&r, 60, "inspect", name, NULL);
	assert_int_not_equal(r.status, 0);
	run_result_free(&r);
}

#define WASM_IMAGE "localhost/capsa-test-wasm:latest"

/* An image holding only the module (and the file it reads), imported from
 * a tar with its entrypoint; podman passes --annotation to the runtime. */
static void test_podman_wasm(void **state)
{
	(void)state;
	REQUIRE_PODMAN();
	if (!have_wasm_toolchain())
		skip_because("clang, wasm-ld or wasi-libc missing on this host");
	char root[600], cmd[2048];
	snprintf(root, sizeof(root), "%s/wasmroot", img.dir);
	assert_int_equal(wasm_rootfs(root), 0);
	snprintf(cmd, sizeof(cmd),
	         "tar -C %s -cf %s/wasm.tar . && %s import -q --change "
	         "'ENTRYPOINT [\"/hello.wasm\"]' %s/wasm.tar %s >/dev/null",
	         root, img.dir, podman_bin, img.dir, WASM_IMAGE);
	assert_int_equal(system(cmd), 0);
	struct run_result r;
	podman(&r, 120, "run", "--rm", "--network", "none", ULIMITS, "--annotation",
	       "module.wasm.image/variant=compat", "-e", "GREETING=from podman", "-w", "/work",
	       WASM_IMAGE, "hello", "an argument", NULL);
	if (r.status != 3)
		fail_msg("podman run (wasm): status %d\nstdout: %s\nstderr: %s", r.status, r.out,
		         r.err);
	assert_string_equal(r.out, "arg 1: an argument\ngreeting: from podman\n"
	                           "input: input from the image\n");
	assert_non_null(strstr(r.err, "hello on stderr"));
	test_measured("podman run --rm of a wasm module with capsa took %.0f ms", r.secs * 1000);
	run_result_free(&r);
	/* A trap is the container's failure, named on its stderr. */
	podman(&r, 120, "run", "--rm", "--network", "none", ULIMITS, "--annotation",
	       "module.wasm.image/variant=compat", WASM_IMAGE, "trap", NULL);
	if (r.status != 134 || !strstr(r.err, "wasm trap: unreachable"))
		fail_msg("podman run (trap): status %d, stderr: %s", r.status, r.err);
	run_result_free(&r);
	snprintf(cmd, sizeof(cmd), "%s rmi -f %s >/dev/null 2>&1", podman_bin, WASM_IMAGE);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", WASM_IMAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_podman_run_rm),
	    cmocka_unit_test(test_podman_exec_stop_rm),
	    cmocka_unit_test(test_podman_wasm),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
