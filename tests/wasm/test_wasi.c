/* SPDX-License-Identifier: Apache-2.0 */
/* Real programs: C sources in tests/wasm/progs are compiled at test time to
 * wasm32-wasi (clang + wasi-libc) and natively; `capsa wasm run` must give
 * byte-identical output and the same exit status. Also checks the preopen
 * sandbox, traps, --fuel and --timeout, validate and inspect. Each program
 * runs under both engines (--engine interp, --engine jit) with identical
 * stdout, stderr and exit status. */
#include "common/testutil.h"
#include "wasm/engines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *tmp;

static int have(const char *path)
{
	return access(path, X_OK) == 0;
}

static int compile(const char *prog, int wasm)
{
	char src[4096], out[4096];
	snprintf(src, sizeof(src), "%s/tests/wasm/progs/%s.c", test_root(), prog);
	snprintf(out, sizeof(out), "%s/%s.%s", tmp, prog, wasm ? "wasm" : "native");
	char *wargv[] = {"/usr/bin/clang",
	                 "--target=wasm32-wasi",
	                 "--sysroot=/usr",
	                 "-O2",
	                 src,
	                 "-o",
	                 out,
	                 "-lm",
	                 NULL};
	char *nargv[] = {"/usr/bin/clang", "-O2", src, "-o", out, "-lm", NULL};
	struct run_result r;
	run_cmd(&r, wasm ? wargv : nargv, 120);
	if (r.status)
		printf("# compiling %s: %s\n", prog, r.err);
	int st = r.status;
	run_result_free(&r);
	return st;
}

static int setup(void **state)
{
	(void)state;
	tmp = test_tmpdir();
	return tmp ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return test_tmpdir_remove(tmp);
}

static void need_toolchain(void)
{
	if (!have("/usr/bin/clang") || access("/usr/lib/wasm32-wasi/libc.a", R_OK) ||
	    !have("/usr/bin/wasm-ld"))
		skip_because("clang, wasm-ld or wasi-libc missing on this host");
}

/* Fresh directory with an input file, used as the program's cwd/preopen. */
static void make_box(const char *name, char *box, size_t len)
{
	snprintf(box, len, "%s/%s", tmp, name);
	assert_int_equal(mkdir(box, 0755), 0);
	char f[4200];
	snprintf(f, sizeof(f), "%s/input.txt", box);
	const char *text = "first line\nsecond line\nthird\n";
	assert_int_equal(write_file(f, text, strlen(text)), 0);
}

static void same_outcome(const char *what, const struct run_result *a, const struct run_result *b)
{
	if (strcmp(a->out, b->out) || strcmp(a->err, b->err) || a->status != b->status)
		printf("# %s: interp (%d):\n%s\n%s\n# jit (%d):\n%s\n%s\n", what, a->status, a->out,
		       a->err, b->status, b->out, b->err);
	assert_string_equal(a->out, b->out);
	assert_string_equal(a->err, b->err);
	assert_int_equal(a->status, b->status);
}

/* Runs `capsa wasm run --engine ENGINE OPTS` under /bin/sh, OPTS being fmt
 * with a and b for its "%s". */
static void run_engine(struct run_result *r, const char *engine, const char *fmt, const char *a,
                       const char *b, double timeout)
{
	char opts[16384], cmd[16500];
	snprintf(opts, sizeof(opts), fmt, a, b);
	snprintf(cmd, sizeof(cmd), "exec '%s' wasm run --engine %s %s", test_capsa_bin(), engine,
	         opts);
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	run_cmd(r, argv, timeout);
}

/* The JIT runs what the interpreter ran (ref, with fmt, a and b) the same
 * way. */
static void check_jit(const char *what, const struct run_result *ref, const char *fmt,
                      const char *a, const char *b)
{
	const char *why = wasm_jit_missing();
	if (why) {
		printf("# note: %s: %s not run under the JIT\n", why, what);
		return;
	}
	struct run_result rj;
	run_engine(&rj, "jit", fmt, a, b, 120);
	same_outcome(what, ref, &rj);
	run_result_free(&rj);
}

static void compare(const char *prog, const char *args)
{
	char box_n[4200], box_w[4200], box_j[4200], cmd[16384], wasm[4300];
	need_toolchain();
	assert_int_equal(compile(prog, 1), 0);
	assert_int_equal(compile(prog, 0), 0);
	static int runs;
	char bn[64], bw[64], bj[64];
	runs++;
	snprintf(bn, sizeof(bn), "%s-native-%d", prog, runs);
	snprintf(bw, sizeof(bw), "%s-wasm-%d", prog, runs);
	snprintf(bj, sizeof(bj), "%s-jit-%d", prog, runs);
	make_box(bn, box_n, sizeof(box_n));
	make_box(bw, box_w, sizeof(box_w));
	make_box(bj, box_j, sizeof(box_j));
	struct run_result rn, rw;
	snprintf(cmd, sizeof(cmd), "cd '%s' && CAPSA_TEST_VAR=value exec '%s/%s.native' %s", box_n,
	         tmp, prog, args);
	char *nargv[] = {"/bin/sh", "-c", cmd, NULL};
	run_cmd(&rn, nargv, 60);
	snprintf(wasm, sizeof(wasm), "'%s/%s.wasm' %s", tmp, prog, args);
	const char *fmt = "--dir '%s::.' --env CAPSA_TEST_VAR=value %s";
	run_engine(&rw, "interp", fmt, box_w, wasm, 120);
	if (strcmp(rn.out, rw.out) || rn.status != rw.status)
		printf("# native (%d):\n%s\n# wasm (%d):\n%s\n# wasm stderr: %s\n", rn.status,
		       rn.out, rw.status, rw.out, rw.err);
	assert_string_equal(rn.out, rw.out);
	assert_int_equal(rn.status, rw.status);
	assert_true(strlen(rw.out) > 0);
	check_jit(prog, &rw, fmt, box_j, wasm);
	run_result_free(&rn);
	run_result_free(&rw);
}

static void test_args_env_exit(void **state)
{
	(void)state;
	compare("hello", "3 'two words' x");
	compare("hello", "0");
}

static void test_file_io(void **state)
{
	(void)state;
	compare("files", "");
}

static void test_compute(void **state)
{
	(void)state;
	compare("compute", "48");
	/* Shapes the compiler fuses into single operations. */
	compare("loops", "1000");
	compare("loops", "37");
}

/* Clocks, sleeps (poll_oneoff clock subscriptions, relative and absolute)
 * and poll on descriptors; the program checks realtime against the host
 * time passed to it. */
static void test_clocks_poll(void **state)
{
	(void)state;
	char arg[32];
	snprintf(arg, sizeof(arg), "%lld", (long long)time(NULL));
	compare("clocks", arg);
}

/* fd_allocate, fd_advise, fd_datasync/sync, fd_filestat_set_size/times,
 * path_filestat_set_times, path_link, path_symlink, path_readlink,
 * pread/pwrite, fdstat_set_flags, and rights (dropping, refusing). */
static void test_file_calls_rights(void **state)
{
	(void)state;
	compare("fsops", "");
}

static void test_sandbox(void **state)
{
	(void)state;
	char box[4200], path[4300], cmd[16384];
	need_toolchain();
	assert_int_equal(compile("sandbox", 1), 0);
	make_box("sandbox-box", box, sizeof(box));
	snprintf(path, sizeof(path), "%s/inside.txt", box);
	assert_int_equal(write_file(path, "in\n", 3), 0);
	snprintf(path, sizeof(path), "%s/secret.txt", tmp);
	assert_int_equal(write_file(path, "secret\n", 7), 0);
	snprintf(path, sizeof(path), "%s/sub", box);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/escape", box);
	assert_int_equal(symlink("..", path), 0);
	snprintf(path, sizeof(path), "%s/abs_link", box);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	snprintf(cmd, sizeof(cmd), "'%s/sandbox.wasm'", tmp);
	struct run_result r;
	run_engine(&r, "interp", "--dir '%s::.' %s", box, cmd, 60);
	printf("# %s", r.out);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "inside.txt: OPENED"));
	assert_null(strstr(r.out, "secret.txt: OPENED"));
	const char *refused[] = {"../secret.txt: refused",
	                         "sub/../../secret.txt: refused",
	                         "escape/secret.txt: refused",
	                         "/etc/passwd: refused",
	                         "abs_link: refused",
	                         "stat ..: refused",
	                         "mkdir ../x: refused",
	                         "unlink via link: refused",
	                         "link out: refused",
	                         "link via link: refused",
	                         "link following abs_link: refused",
	                         "symlink outside: refused",
	                         "utimensat ..: refused",
	                         "utimensat via abs_link: refused"};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_non_null(strstr(r.out, refused[i]));
	snprintf(path, sizeof(path), "%s/secret.txt", tmp);
	assert_int_equal(access(path, F_OK), 0);
	check_jit("sandbox", &r, "--dir '%s::.' %s", box, cmd);
	assert_int_equal(access(path, F_OK), 0);
	run_result_free(&r);
}

static void run_trap(const char *opts, const char *what, int want_status, const char *want_err)
{
	char wasm[4300];
	snprintf(wasm, sizeof(wasm), "'%s/traps.wasm' %s", tmp, what);
	struct run_result r;
	run_engine(&r, "interp", "%s %s", opts, wasm, 60);
	if (r.status != want_status || !strstr(r.err, want_err))
		printf("# %s: status %d, stderr %s\n", what, r.status, r.err);
	assert_int_equal(r.status, want_status);
	assert_non_null(strstr(r.err, want_err));
	/* Timeouts stop at a moment, not at an instruction. */
	if (!strstr(opts, "--timeout")) {
		char name[64];
		snprintf(name, sizeof(name), "traps %s", what);
		check_jit(name, &r, "%s %s", opts, wasm);
	}
	run_result_free(&r);
}

static void test_traps_fuel_timeout(void **state)
{
	(void)state;
	need_toolchain();
	assert_int_equal(compile("traps", 1), 0);
	run_trap("", "div", 134, "integer divide by zero");
	run_trap("", "oob", 134, "out of bounds memory access");
	run_trap("", "abort", 134, "unreachable");
	run_trap("", "recurse", 134, "in function");
	run_trap("--fuel 100000", "loop", 134, "out of fuel");
	run_trap("--timeout 300ms", "loop", 124, "timed out");
	run_trap("--fuel 100000", "none", 0, "");
}

/* Out-of-bounds accesses in every shape of memory instruction the compiler
 * makes (tests/wasm/progs/guard_offsets.wat): the trap found by the guard
 * region must name the same function and byte offset as the explicit check,
 * and the offset must be that of a load or store. */
static void guard_offsets(const char *gc)
{
	char src[4096], bin[4200], cmd[16384];
	if (!have("/usr/bin/wat2wasm")) {
		printf("# wat2wasm missing: trap offsets of guarded accesses not checked\n");
		return;
	}
	snprintf(src, sizeof(src), "%s/tests/wasm/progs/guard_offsets.wat", test_root());
	snprintf(bin, sizeof(bin), "%s/guard_offsets.wasm", tmp);
	char *wargv[] = {"/usr/bin/wat2wasm", src, "-o", bin, NULL};
	struct run_result w;
	run_cmd(&w, wargv, 60);
	assert_int_equal(w.status, 0);
	run_result_free(&w);
	size_t len;
	uint8_t *mod = (uint8_t *)read_file(bin, &len);
	assert_non_null(mod);
	char *out[2];
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "%sexec '%s' offsets '%s'",
		         i ? "CAPSA_WASM_NO_GUARD=1 " : "", gc, bin);
		char *av[] = {"/bin/sh", "-c", cmd, NULL};
		struct run_result r;
		run_cmd(&r, av, 60);
		if (r.status)
			printf("# guard_check offsets: %s%s", r.out, r.err);
		assert_int_equal(r.status, 0);
		out[i] = strdup(r.out);
		run_result_free(&r);
	}
	printf("# guard_check offsets (guarded, checked):\n%s", out[0]);
	assert_string_equal(out[0], out[1]);
	int n = 0;
	for (char *line = strtok(out[0], "\n"); line; line = strtok(NULL, "\n"), n++) {
		char name[64];
		long long fn;
		unsigned off;
		assert_int_equal(sscanf(line, "%63s %lld %u", name, &fn, &off), 3);
		assert_true(fn >= 0);
		/* 0x28..0x3e: the loads and stores of the MVP */
		assert_true(off > 0 && off < len && mod[off] >= 0x28 && mod[off] <= 0x3e);
	}
	assert_int_equal(n, 21);
	free(out[0]);
	free(out[1]);
	free(mod);
}

/* Runs a cmocka test program built without sanitizers (guard regions on):
 * it must pass every test and report at least one as `want`. */
static void run_guarded(const char *prog, const char *want)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "CMOCKA_MESSAGE_OUTPUT=TAP exec '%s' 2>&1", prog);
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	struct run_result r;
	run_cmd(&r, argv, 600);
	if (r.status)
		printf("# %s\n", r.out);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, want));
	assert_null(strstr(r.out, "not ok"));
	run_result_free(&r);
}

/* The release binary (not sanitized) reserves guard regions and lets
 * out-of-bounds accesses fault; CAPSA_WASM_NO_GUARD=1 makes it check
 * explicitly, as the sanitized build always does. Both must trap the same. */
static void test_guard_pages(void **state)
{
	(void)state;
	need_toolchain();
	char rel[4096], spec[4096], cmd[16384];
	snprintf(rel, sizeof(rel), "%s/build/capsa", test_root());
	snprintf(spec, sizeof(spec), "%s/build/wasm/test_spec_guard", test_root());
	if (!have(rel) || !have(spec)) {
		skip_because("build/capsa or build/wasm/test_spec_guard not built");
		return;
	}
	assert_int_equal(compile("traps", 1), 0);
	const char *envs[] = {"", "CAPSA_WASM_NO_GUARD=1 "};
	char *msg[2] = {NULL, NULL};
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "%sexec '%s' wasm run '%s/traps.wasm' oob", envs[i], rel,
		         tmp);
		char *argv[] = {"/bin/sh", "-c", cmd, NULL};
		struct run_result r;
		run_cmd(&r, argv, 60);
		printf("# %s%s", envs[i], r.err);
		assert_int_equal(r.status, 134);
		assert_non_null(strstr(r.err, "out of bounds memory access in function"));
		assert_non_null(strstr(r.err, "at offset"));
		msg[i] = strdup(r.err);
		run_result_free(&r);
	}
	/* The guarded path names the same function and offset as the check. */
	assert_string_equal(msg[0], msg[1]);
	free(msg[0]);
	free(msg[1]);
	/* Faults through the embedding API: several threads trapping at once,
	 * a fault outside wasm still killing the process, an embedder's own
	 * handler still getting faults outside wasm. */
	char gc[4096];
	snprintf(gc, sizeof(gc), "%s/build/wasm/guard_check", test_root());
	if (have(gc)) {
		guard_offsets(gc);
		const char *modes[] = {"threads", "crash", "chain"};
		const char *want[] = {"threads ok\nstatus 0", "status 139", "chain ok\nstatus 0"};
		for (int i = 0; i < 3; i++) {
			snprintf(cmd, sizeof(cmd), "'%s' %s 2>/dev/null; echo \"status $?\"", gc,
			         modes[i]);
			char *av[] = {"/bin/sh", "-c", cmd, NULL};
			struct run_result g;
			run_cmd(&g, av, 120);
			printf("# guard_check %s: %s", modes[i], g.out);
			assert_non_null(strstr(g.out, want[i]));
			run_result_free(&g);
		}
	}
	/* The whole spec suite on the guarded path. */
	run_guarded(spec, "ok - wasm_spec");
	/* Fuel and interrupts with guard regions: faults inside counted loops
	 * charge the back edges taken through their landing pads. */
	snprintf(spec, sizeof(spec), "%s/build/wasm/test_jit_intr_guard", test_root());
	if (have(spec))
		run_guarded(spec, "ok - ");
}

static void test_validate_inspect(void **state)
{
	(void)state;
	char cmd[16384], bad[4200];
	need_toolchain();
	assert_int_equal(compile("hello", 1), 0);
	struct run_result r;
	snprintf(cmd, sizeof(cmd), "exec '%s' wasm validate '%s/hello.wasm'", test_capsa_bin(),
	         tmp);
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	run_cmd(&r, argv, 60);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "valid"));
	run_result_free(&r);

	snprintf(cmd, sizeof(cmd), "exec '%s' wasm inspect --json '%s/hello.wasm'",
	         test_capsa_bin(), tmp);
	run_cmd(&r, argv, 60);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"name\":\"fd_write\""));
	assert_non_null(strstr(r.out, "\"name\":\"_start\""));
	run_result_free(&r);

	snprintf(bad, sizeof(bad), "%s/bad.wasm", tmp);
	assert_int_equal(write_file(bad, "\0asm\1\0\0\0\1\5\1\x60\0\1\x55", 15), 0);
	snprintf(cmd, sizeof(cmd), "exec '%s' wasm validate '%s'", test_capsa_bin(), bad);
	run_cmd(&r, argv, 60);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "bad.wasm"));
	run_result_free(&r);

	snprintf(cmd, sizeof(cmd), "exec '%s' wasm run --fuel -3 '%s'", test_capsa_bin(), bad);
	run_cmd(&r, argv, 60);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--fuel"));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_args_env_exit),
	    cmocka_unit_test(test_file_io),
	    cmocka_unit_test(test_compute),
	    cmocka_unit_test(test_sandbox),
	    cmocka_unit_test(test_clocks_poll),
	    cmocka_unit_test(test_file_calls_rights),
	    cmocka_unit_test(test_traps_fuel_timeout),
	    cmocka_unit_test(test_guard_pages),
	    cmocka_unit_test(test_validate_inspect),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
