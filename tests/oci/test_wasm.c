/* SPDX-License-Identifier: Apache-2.0 */
/* WebAssembly modules as containers (crun's annotations): `capsa run` of a
 * bundle whose root holds only a module, with each annotation form; the
 * module gets its arguments, environment, root, working directory (as
 * $PWD) and stdio, runs confined like any container process, and its exit
 * status is the container's. The -smart variants run a native entrypoint
 * natively; bad modules fail with a message, never a hang; the memory
 * limit caps the module's memory. */
#include "oci_helpers.h"

static char tmp[256], module[320];
static int have_toolchain;

static int setup(void **state)
{
	(void)state;
	char *t = test_tmpdir();
	if (!t)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s", t);
	free(t);
	snprintf(module, sizeof(module), "%s/hello.wasm", tmp);
	have_toolchain = have_wasm_toolchain() && compile_wasm_hello(module, 1) == 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) ? -1 : 0;
}

#define REQUIRE_WASM()                                                                             \
	do {                                                                                       \
		if (!is_root())                                                                    \
			skip_because("needs root for namespaces and cgroups");                     \
		if (!have_toolchain)                                                               \
			skip_because("clang, wasm-ld or wasi-libc missing on this host");          \
	} while (0)

/* A bundle whose root holds the module at /hello.wasm, /data/input.txt and
 * /work; ARGS is process.args, ANN the annotations object, LNX extra
 * members of "linux" (leading comma, may be ""). */
static void wasm_bundle(struct bundle *b, const char *args, const char *ann, const char *lnx)
{
	char *t = test_tmpdir(), p[600], cmd[1200];
	assert_non_null(t);
	snprintf(b->dir, sizeof(b->dir), "%s", t);
	free(t);
	snprintf(b->root, sizeof(b->root), "%s/state", b->dir);
	snprintf(b->id, sizeof(b->id), "w%d-%d", (int)getpid(), ++bundle_seq);
	snprintf(p, sizeof(p), "%s/rootfs", b->dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/data %s/work && cp %s %s/hello.wasm", p, p, module,
	         p);
	assert_int_equal(system(cmd), 0);
	snprintf(p, sizeof(p), "%s/rootfs/data/input.txt", b->dir);
	write_text(p, "input from the image\n");
	snprintf(p, sizeof(p), "%s/config.json", b->dir);
	write_text(p,
	           "{\"ociVersion\":\"1.2.0\",\"process\":{\"terminal\":false,"
	           "\"user\":{\"uid\":0,\"gid\":0},\"args\":%s,"
	           "\"env\":[\"PATH=/bin\",\"GREETING=hello from the config\"],\"cwd\":\"/work\","
	           "\"capabilities\":{\"bounding\":%s,\"effective\":%s,\"permitted\":%s},"
	           "\"noNewPrivileges\":true},"
	           "\"root\":{\"path\":\"rootfs\"},\"hostname\":\"wasm\","
	           "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	           "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
	           "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
	           "\"options\":[\"newinstance\",\"ptmxmode=0666\"]}%s],"
	           "\"annotations\":%s,"
	           "\"linux\":{\"namespaces\":[" DEFAULT_NAMESPACES "]%s}}",
	           args, default_caps, default_caps, default_caps,
	           cgroup_v2_host() ? CGROUP_RO_MOUNT : "", ann, lnx);
}

static void run_bundle(struct run_result *r, struct bundle *b)
{
	capsa(r, b, 30, "run", b->id, NULL);
	if (r->timed_out)
		fail_msg("capsa run timed out; stderr: %s", r->err);
}

#define HELLO_ARGS "[\"/hello.wasm\",\"hello\",\"two words\",\"x\"]"

/* Each annotation form runs the module: arguments, environment, a file of
 * the root, a file written in process.cwd, stderr, exit status 3. Without
 * an annotation the module is executed natively, which fails. */
static void test_annotation_forms(void **state)
{
	(void)state;
	REQUIRE_WASM();
	const char *forms[] = {"{\"run.oci.handler\":\"wasm\"}",
	                       "{\"run.oci.handler\":\"wasm-smart\"}",
	                       "{\"module.wasm.image/variant\":\"compat\"}",
	                       "{\"module.wasm.image/variant\":\"compat-smart\"}"};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct bundle b;
		struct run_result r;
		wasm_bundle(&b, HELLO_ARGS, forms[i], "");
		run_bundle(&r, &b);
		if (r.status != 3)
			fail_msg("%s: status %d\nstdout: %s\nstderr: %s", forms[i], r.status, r.out,
			         r.err);
		const char *want = "arg 1: two words\narg 2: x\ngreeting: hello from the config\n"
		                   "input: input from the image\n";
		if (strcmp(r.out, want))
			fail_msg("%s: stdout '%s'", forms[i], r.out);
		assert_non_null(strstr(r.err, "hello on stderr"));
		char p[600];
		snprintf(p, sizeof(p), "%s/rootfs/work/out.txt", b.dir);
		char *written = read_file(p, NULL);
		assert_non_null(written);
		assert_string_equal(written, "written by the module\n");
		free(written);
		assert_false(state_leftover(&b));
		run_result_free(&r);
		bundle_free(&b);
	}
	struct bundle b;
	struct run_result r;
	wasm_bundle(&b, HELLO_ARGS, "{}", "");
	run_bundle(&r, &b);
	assert_int_not_equal(r.status, 3);
	assert_non_null(strstr(r.err, "Exec format error"));
	run_result_free(&r);
	bundle_free(&b);
}

/* The module runs in the container's process: pid 1 of its namespace,
 * its capabilities, no_new_privs and seccomp filter, its cgroup. */
static void test_confined(void **state)
{
	(void)state;
	REQUIRE_WASM();
	struct bundle b;
	struct run_result r;
	wasm_bundle(&b, "[\"/hello.wasm\",\"cat\",\"/proc/self/status\"]",
	            "{\"module.wasm.image/variant\":\"compat\"}",
	            ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":["
	            "\"kexec_load\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
	run_bundle(&r, &b);
	expect_ok(&r, "cat /proc/self/status");
	const char *want[] = {"\nPid:\t1\n", "\nCapEff:\t00000000a80425fb\n",
	                      "\nCapBnd:\t00000000a80425fb\n", "\nNoNewPrivs:\t1\n",
	                      "\nSeccomp:\t2\n"};
	EXPECT_OUT_ALL(&r, want);
	run_result_free(&r);
	bundle_free(&b);
}

/* process.terminal: the module's stdio is the container's terminal
 * (capsa run relays it when there is no console socket). */
static void test_terminal(void **state)
{
	(void)state;
	REQUIRE_WASM();
	const char *ann = "{\"run.oci.handler\":\"wasm\"}";
	for (int tty = 0; tty < 2; tty++) {
		struct bundle b;
		struct run_result r;
		char p[600];
		wasm_bundle(&b, "[\"/hello.wasm\",\"tty\"]", ann, "");
		if (tty) {
			char *cfg = read_file(bundle_path(&b, "config.json", p, sizeof(p)), NULL);
			assert_non_null(cfg);
			char *t = strstr(cfg, "\"terminal\":false");
			assert_non_null(t);
			memcpy(t, "\"terminal\":true ", 16);
			write_text(p, "%s", cfg);
			free(cfg);
		}
		run_bundle(&r, &b);
		expect_ok(&r, "tty");
		assert_non_null(
		    strstr(r.out, tty ? "stdout is a terminal: yes" : "stdout is a terminal: no"));
		run_result_free(&r);
		bundle_free(&b);
	}
}

/* compat-smart and wasm-smart run a native entrypoint natively (sidecars). */
static void test_smart_native(void **state)
{
	(void)state;
	REQUIRE_ROOT_AND_BUSYBOX();
	const char *forms[] = {
	    ",\"annotations\":{\"module.wasm.image/variant\":\"compat-smart\"}",
	    ",\"annotations\":{\"run.oci.handler\":\"wasm-smart\"}",
	};
	for (size_t i = 0; i < 2; i++) {
		struct bundle b;
		struct run_result r;
		struct bundle_opts o = {.args = "[\"sh\",\"-c\",\"echo native sidecar; exit 7\"]",
		                        .top = forms[i]};
		assert_int_equal(bundle_new(&b, &o), 0);
		run_bundle(&r, &b);
		if (r.status != 7 || strcmp(r.out, "native sidecar\n"))
			fail_msg("%s: status %d, stdout '%s', stderr '%s'", forms[i], r.status,
			         r.out, r.err);
		run_result_free(&r);
		bundle_free(&b);
	}
}

/* Write a module (or not-a-module) into the bundle's root. */
static void put_file(struct bundle *b, const char *name, const void *data, size_t len)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/rootfs/%s", b->dir, name);
	assert_int_equal(write_file(p, data, len), 0);
}

/* create fails with the message for what it can know; the container
 * exits with a message for the rest. */
static void test_bad_modules(void **state)
{
	(void)state;
	REQUIRE_WASM();
	static const char no_start[] = "\0asm\1\0\0\0"
	                               "\1\4\1\x60\0\0"     /* type () -> () */
	                               "\3\2\1\0"           /* one function */
	                               "\7\x08\1\4main\0\0" /* exported as main */
	                               "\x0a\4\1\2\0\x0b";  /* body: end */
	static const char bad_import[] = "\0asm\1\0\0\0"
	                                 "\1\4\1\x60\0\0"
	                                 "\2\x0b\1\3env\3foo\0\0" /* import env.foo */
	                                 "\3\2\1\0"
	                                 "\7\x0a\1\6_start\0\1"
	                                 "\x0a\4\1\2\0\x0b";
	static const char invalid[] = "\0asm\1\0\0\0\1\5\1\x60\0\1\x55";
	static const char component[] = "\0asm\x0d\0\1\0"; /* version 13, layer 1 */
	struct {
		const char *file, *ann, *want;
		const void *data;
		size_t len;
	} cases[] = {
	    {"script.wasm", "compat", "is not a WebAssembly module", "#!/bin/sh\necho hi\n", 18},
	    {"invalid.wasm", "compat", "process.args[0]: /invalid.wasm", invalid,
	     sizeof(invalid) - 1},
	    {"nostart.wasm", "compat", "no exported _start function", no_start,
	     sizeof(no_start) - 1},
	    {"import.wasm", "compat", "imports env.foo", bad_import, sizeof(bad_import) - 1},
	    {"component.wasm", "compat", "is a WebAssembly component", component,
	     sizeof(component) - 1},
	    {"missing.wasm", "compat", "process.args[0]: /missing.wasm", NULL, 0},
	    {"hello.wasm", "krun", "'krun' is not a handler of capsa", NULL, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bundle b;
		struct run_result r;
		char args[128], ann[128];
		snprintf(args, sizeof(args), "[\"/%s\"]", cases[i].file);
		if (!strcmp(cases[i].ann, "krun"))
			snprintf(ann, sizeof(ann), "{\"run.oci.handler\":\"krun\"}");
		else
			snprintf(ann, sizeof(ann), "{\"module.wasm.image/variant\":\"%s\"}",
			         cases[i].ann);
		wasm_bundle(&b, args, ann, "");
		if (cases[i].data)
			put_file(&b, cases[i].file, cases[i].data, cases[i].len);
		capsa(&r, &b, 30, "create", b.id, NULL);
		if (r.status == 0 || r.timed_out || !strstr(r.err, cases[i].want))
			fail_msg("%s: create status %d%s, stderr '%s' (wanted '%s')", cases[i].file,
			         r.status, r.timed_out ? " (timed out)" : "", r.err, cases[i].want);
		run_result_free(&r);
		assert_false(state_leftover(&b));
		assert_false(cgroup_leftover(b.id));
		bundle_free(&b);
	}
	/* A trap: status 134 and the module and trap named. */
	struct bundle b;
	struct run_result r;
	wasm_bundle(&b, "[\"/hello.wasm\",\"trap\"]", "{\"run.oci.handler\":\"wasm\"}", "");
	run_bundle(&r, &b);
	if (r.status != 134 || !strstr(r.err, "capsa: /hello.wasm: wasm trap: unreachable"))
		fail_msg("trap: status %d, stderr '%s'", r.status, r.err);
	run_result_free(&r);
	bundle_free(&b);
}

/* linux.resources.memory.limit caps the module's linear memory (and the
 * memory cgroup is set as for any container). */
static void test_memory_limit(void **state)
{
	(void)state;
	REQUIRE_WASM();
	const char *lim = ",\"resources\":{\"memory\":{\"limit\":50331648}}"; /* 48 MiB */
	const char *ann = "{\"module.wasm.image/variant\":\"compat\"}";
	struct bundle b;
	struct run_result r;
	wasm_bundle(&b, "[\"/hello.wasm\",\"alloc\",\"64\"]", ann, lim);
	run_bundle(&r, &b);
	if (r.status != 4 || strcmp(r.out, "alloc failed\n"))
		fail_msg("alloc 64 under 48M: status %d, stdout '%s', stderr '%s'", r.status, r.out,
		         r.err);
	run_result_free(&r);
	bundle_free(&b);
	wasm_bundle(&b, "[\"/hello.wasm\",\"alloc\",\"16\"]", ann, lim);
	run_bundle(&r, &b);
	expect_ok(&r, "alloc 16 under 48M");
	assert_string_equal(r.out, "allocated 16 MiB\n");
	run_result_free(&r);
	bundle_free(&b);
	wasm_bundle(&b, "[\"/hello.wasm\",\"alloc\",\"64\"]", ann, "");
	run_bundle(&r, &b);
	expect_ok(&r, "alloc 64 without a limit");
	assert_string_equal(r.out, "allocated 64 MiB\n");
	run_result_free(&r);
	bundle_free(&b);
	if (cgroup_v2_host()) {
		wasm_bundle(&b, "[\"/hello.wasm\",\"cat\",\"/sys/fs/cgroup/memory.max\"]", ann,
		            lim);
		run_bundle(&r, &b);
		expect_ok(&r, "cat memory.max");
		assert_string_equal(r.out, "50331648\n");
		run_result_free(&r);
		bundle_free(&b);
	}
}

/* `capsa features` announces the handler as crun does its own. */
static void test_features(void **state)
{
	(void)state;
	struct bundle b = {0};
	struct run_result r;
	snprintf(b.dir, sizeof(b.dir), "%s", tmp);
	snprintf(b.root, sizeof(b.root), "%s/state", tmp);
	capsa(&r, &b, 10, "features", NULL);
	expect_ok(&r, "features");
	const char *want[] = {"\"run.oci.capsa.wasm\": \"true\"", "\"module.wasm.image/variant\"",
	                      "\"run.oci.handler\""};
	EXPECT_OUT_ALL(&r, want);
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_annotation_forms), cmocka_unit_test(test_confined),
	    cmocka_unit_test(test_terminal),         cmocka_unit_test(test_smart_native),
	    cmocka_unit_test(test_bad_modules),      cmocka_unit_test(test_memory_limit),
	    cmocka_unit_test(test_features),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
