/* SPDX-License-Identifier: Apache-2.0 */
/* `capsa wasm` on small hand-written modules (text format, assembled with
 * wabt's wat2wasm at test time, or bytes built here): --timeout values,
 * --timeout bounding blocking WASI calls, names from untrusted modules in
 * `inspect` and in error messages, compile error messages and limits. */
#include "common/testutil.h"
#include "wasm/engines.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmp;

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

/* Assemble `wat` into tmp/NAME.wasm (path in out). */
static void assemble(const char *name, const char *wat, char *out, size_t len)
{
	char src[4200];
	if (access("/usr/bin/wat2wasm", X_OK))
		skip_because("wat2wasm (package wabt) is not installed");
	snprintf(src, sizeof(src), "%s/%s.wat", tmp, name);
	snprintf(out, len, "%s/%s.wasm", tmp, name);
	assert_int_equal(write_file(src, wat, strlen(wat)), 0);
	char *argv[] = {"/usr/bin/wat2wasm", src, "-o", out, NULL};
	struct run_result r;
	run_cmd(&r, argv, 60);
	if (r.status)
		printf("# wat2wasm %s: %s\n", name, r.err);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
}

/* Run a shell command line (capsa is $CAPSA). */
static void sh(struct run_result *r, const char *cmdline, double timeout)
{
	char cmd[16384];
	snprintf(cmd, sizeof(cmd), "CAPSA='%s'; %s", test_capsa_bin(), cmdline);
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	run_cmd(r, argv, timeout);
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Values that are not a finite, representable duration are refused with one
 * line naming the value and status 2; they used to mean "no limit" (nan) or
 * make the watchdog spin at 100 % CPU after the program ended (inf, 1e19,
 * 1e300: the deadline overflowed time_t). The largest accepted value must
 * not keep the finished program waiting. */
static void test_timeout_values(void **state)
{
	(void)state;
	char mod[4200], cmd[8400];
	assemble("empty", "(module (func (export \"_start\")))", mod, sizeof(mod));
	static const char *const bad[] = {"1e300", "inf",  "-inf", "1e19",  "nan", "NaN",
	                                  "1e10",  "2e7m", "0",    "-1",    "0ms", "infinity",
	                                  "",      "10x",  "1e9h", "1e-400"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run_result r;
		snprintf(cmd, sizeof(cmd), "exec \"$CAPSA\" wasm run --timeout '%s' '%s'", bad[i],
		         mod);
		sh(&r, cmd, 20);
		char want[64];
		snprintf(want, sizeof(want), "capsa: --timeout %s: ", bad[i]);
		if (r.status != 2 || strncmp(r.err, want, strlen(want)) || count_lines(r.err) != 1)
			printf("# --timeout '%s': status %d, stderr: %s\n", bad[i], r.status,
			       r.err);
		assert_int_equal(r.status, 2);
		assert_false(r.timed_out);
		assert_int_equal(strncmp(r.err, want, strlen(want)), 0);
		assert_int_equal(count_lines(r.err), 1);
		run_result_free(&r);
	}
	static const char *const good[] = {"1e9", "1e9s", "16666666m", "277777h", "0.5", "10ms"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct run_result r;
		snprintf(cmd, sizeof(cmd), "exec \"$CAPSA\" wasm run --timeout %s '%s'", good[i],
		         mod);
		sh(&r, cmd, 20);
		if (r.status)
			printf("# --timeout %s: status %d, stderr: %s\n", good[i], r.status, r.err);
		assert_int_equal(r.status, 0);
		assert_true(r.secs < 10);
		run_result_free(&r);
	}
}

/* poll_oneoff: one relative clock subscription of 100 s (monotonic). */
static const char *sleep_wat =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"poll_oneoff\"\n"
    "    (func $poll (param i32 i32 i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 16) \"\\01\")\n"
    "  (func (export \"_start\")\n"
    "    i32.const 24 i64.const 100000000000 i64.store\n"
    "    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))))\n";

/* The same sleep in the module's start function, run while instantiating. */
static const char *start_sleep_wat =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"poll_oneoff\"\n"
    "    (func $poll (param i32 i32 i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 16) \"\\01\")\n"
    "  (func $sleep\n"
    "    i32.const 24 i64.const 100000000000 i64.store\n"
    "    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128))))\n"
    "  (start $sleep)\n"
    "  (func (export \"_start\")))\n";

/* fd_read of 16 bytes from stdin. */
static const char *read_wat =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_read\"\n"
    "    (func $read (param i32 i32 i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 0) \"\\10\\00\\00\\00\\10\\00\\00\\00\")\n"
    "  (func (export \"_start\")\n"
    "    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))))\n";

/* path_open of "fifo" in the preopen (fd 3) with the rights in RIGHTS
 * (fd_read: 2, fd_write: 64), then one fd_read or fd_write of 16 bytes. */
#define FIFO_WAT(RIGHTS, CALL)                                                                     \
	"(module\n"                                                                                \
	"  (import \"wasi_snapshot_preview1\" \"path_open\"\n"                                     \
	"    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))\n"             \
	"  (import \"wasi_snapshot_preview1\" \"" CALL "\"\n"                                      \
	"    (func $io (param i32 i32 i32 i32) (result i32)))\n"                                   \
	"  (memory (export \"memory\") 1)\n"                                                       \
	"  (data (i32.const 0) \"fifo\")\n"                                                        \
	"  (data (i32.const 32) \"\\40\\00\\00\\00\\10\\00\\00\\00\")\n"                           \
	"  (func (export \"_start\")\n"                                                            \
	"    (if (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 4)\n"            \
	"      (i32.const 0) (i64.const " RIGHTS ") (i64.const 0) (i32.const 0) (i32.const 16))\n" \
	"      (then unreachable))\n"                                                              \
	"    (drop (call $io (i32.load (i32.const 16)) (i32.const 32) (i32.const 1)\n"             \
	"      (i32.const 24)))))\n"

/* fd_write of 4 KiB to stdout until it fails. */
static const char *write_wat =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_write\"\n"
    "    (func $write (param i32 i32 i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 0) \"\\00\\10\\00\\00\\00\\10\\00\\00\")\n"
    "  (func (export \"_start\")\n"
    "    (loop $l (br_if $l (i32.eqz\n"
    "      (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))))\n";

/* Busy without calls: a loop of one branch, and one spending its time in
 * memory.fill (a runtime function in compiled code). */
static const char *spin_wat = "(module (func (export \"_start\") (loop br 0)))\n";
static const char *fill_wat =
    "(module (memory 1)\n"
    "  (func (export \"_start\")\n"
    "    (loop (memory.fill (i32.const 0) (i32.const 7) (i32.const 65536)) br 0)))\n";

static void expect_timeout(const char *what, const char *cmdline)
{
	struct run_result r;
	sh(&r, cmdline, 15);
	printf("# %s: status %d in %.2fs, stderr: %s", what, r.status, r.secs, r.err);
	assert_int_equal(r.status, 124);
	assert_non_null(strstr(r.err, "timed out (--timeout 300ms)"));
	assert_true(r.secs < 5);
	run_result_free(&r);
}

/* The deadline bounds busy loops (below) and time spent blocked in WASI calls: a long sleep
 * (also in the start function, which runs while instantiating), opening a
 * FIFO with nobody at the other end, a read from a pipe that never gets
 * data, a write to a pipe nobody reads (the FIFO is opened read-write by
 * the shell, so it never reports end of file). */
static void test_timeout_blocking_wasi(void **state)
{
	(void)state;
	char mod[4200], fifo[4200], cmd[16384];
	assemble("sleep", sleep_wat, mod, sizeof(mod));
	snprintf(cmd, sizeof(cmd), "exec \"$CAPSA\" wasm run --timeout 300ms '%s'", mod);
	expect_timeout("sleep 100 s", cmd);

	/* Compiled code without fuel checks (no --fuel) stops as well, and so
	 * does the interpreter. */
	const char *eng[] = {"interp", "jit"};
	for (int e = 0; e < 2 - (wasm_jit_missing() != NULL); e++) {
		char what[64];
		assemble("spin", spin_wat, mod, sizeof(mod));
		snprintf(cmd, sizeof(cmd),
		         "exec \"$CAPSA\" wasm run --engine %s --timeout 300ms '%s'", eng[e], mod);
		snprintf(what, sizeof(what), "a loop without calls (%s)", eng[e]);
		expect_timeout(what, cmd);
		assemble("fill", fill_wat, mod, sizeof(mod));
		snprintf(cmd, sizeof(cmd),
		         "exec \"$CAPSA\" wasm run --engine %s --timeout 300ms '%s'", eng[e], mod);
		snprintf(what, sizeof(what), "a loop of memory.fill (%s)", eng[e]);
		expect_timeout(what, cmd);
	}

	assemble("start_sleep", start_sleep_wat, mod, sizeof(mod));
	snprintf(cmd, sizeof(cmd), "exec \"$CAPSA\" wasm run --timeout 300ms '%s'", mod);
	expect_timeout("sleep 100 s in the start function", cmd);

	snprintf(fifo, sizeof(fifo), "%s/fifo", tmp);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assemble("read", read_wat, mod, sizeof(mod));
	snprintf(cmd, sizeof(cmd),
	         "exec 3<>'%s'; exec \"$CAPSA\" wasm run --timeout 300ms '%s' <&3 3<&-", fifo, mod);
	expect_timeout("read from an empty pipe", cmd);

	/* Opening a FIFO waits for the other end. */
	assemble("fifo_read", FIFO_WAT("2", "fd_read"), mod, sizeof(mod));
	snprintf(cmd, sizeof(cmd), "exec \"$CAPSA\" wasm run --dir '%s::.' --timeout 300ms '%s'",
	         tmp, mod);
	expect_timeout("open a FIFO without a writer and read", cmd);
	assemble("fifo_write", FIFO_WAT("64", "fd_write"), mod, sizeof(mod));
	snprintf(cmd, sizeof(cmd), "exec \"$CAPSA\" wasm run --dir '%s::.' --timeout 300ms '%s'",
	         tmp, mod);
	expect_timeout("open a FIFO without a reader to write", cmd);

	assemble("write", write_wat, mod, sizeof(mod));
	snprintf(cmd, sizeof(cmd),
	         "exec 3<>'%s'; exec \"$CAPSA\" wasm run --timeout 300ms '%s' >&3 3<&-", fifo, mod);
	expect_timeout("write to a full pipe", cmd);
}

/* Names with NUL bytes, terminal escapes, DEL, a C1 control (U+009B, CSI),
 * a bidirectional override (U+202E), a backslash and a quote; the euro sign
 * is printable and stays as it is. */
static const char *names_wat =
    "(module\n"
    "  (import \"env\\00hidden\" \"f\\1b]0;title\\07\" (func))\n"
    "  (func (export \"a\\00b\\1b[31m\\7f\\c2\\9b\\e2\\80\\ae\\e2\\82\\ac\\\\\\\"\"))\n"
    "  (memory (export \"m\\0a\\0dx\") 1))\n";
static const char export_name[] = "a\0b\x1b[31m\x7f\xc2\x9b\xe2\x80\xae\xe2\x82\xac\\\"";
/* Appended: a custom section named "sec\0\x1b[2J" with 2 bytes of content. */
static const char custom[] = "\x00\x0b\x08sec\x00\x1b[2Jx\x01";

static void assert_json_name(json_object *o, const char *key, const char *want, size_t len)
{
	json_object *v;
	assert_true(json_object_object_get_ex(o, key, &v));
	assert_int_equal((size_t)json_object_get_string_len(v), len);
	assert_memory_equal(json_object_get_string(v), want, len);
}

/* No byte a terminal acts on: C0 controls but newline, DEL, C1 controls
 * (UTF-8 c2 80..c2 9f) and the bidirectional override. */
static void assert_terminal_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		assert_true(*p >= 0x20 || *p == '\n');
		assert_true(*p != 0x7f);
		assert_false(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
	}
	assert_null(strstr(s, "\xe2\x80\xae"));
}

/* inspect --json gives each name in full (it was cut at the first NUL) as
 * valid JSON; the text form escapes what a terminal would act on (it
 * printed the raw bytes). Error messages quoting names are escaped too. */
static void test_inspect_untrusted_names(void **state)
{
	(void)state;
	char mod[4200], cmd[8400];
	assemble("names", names_wat, mod, sizeof(mod));
	FILE *f = fopen(mod, "ab");
	assert_non_null(f);
	assert_int_equal(fwrite(custom, 1, sizeof(custom) - 1, f), sizeof(custom) - 1);
	assert_int_equal(fclose(f), 0);

	struct run_result r;
	snprintf(cmd, sizeof(cmd), "exec \"$CAPSA\" wasm inspect --json '%s'", mod);
	sh(&r, cmd, 30);
	assert_int_equal(r.status, 0);
	json_object *root = json_tokener_parse(r.out), *a, *o;
	if (!root)
		printf("# not JSON: %s\n", r.out);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "exports", &a));
	assert_int_equal(json_object_array_length(a), 2);
	assert_json_name(json_object_array_get_idx(a, 0), "name", export_name,
	                 sizeof(export_name) - 1);
	assert_json_name(json_object_array_get_idx(a, 1), "name", "m\n\rx", 4);
	assert_true(json_object_object_get_ex(root, "imports", &a));
	o = json_object_array_get_idx(a, 0);
	assert_json_name(o, "module", "env\0hidden", 10);
	assert_json_name(o, "name", "f\x1b]0;title\x07", 11);
	assert_true(json_object_object_get_ex(root, "sections", &a));
	o = json_object_array_get_idx(a, json_object_array_length(a) - 1);
	assert_json_name(o, "name", "sec\0\x1b[2J", 8);
	json_object_put(root);
	assert_terminal_safe(r.out);
	run_result_free(&r);

	snprintf(cmd, sizeof(cmd), "exec \"$CAPSA\" wasm inspect '%s'", mod);
	sh(&r, cmd, 30);
	printf("# %s", r.out);
	assert_int_equal(r.status, 0);
	assert_terminal_safe(r.out);
	assert_non_null(
	    strstr(r.out, "func   a\\x00b\\x1b[31m\\x7f\\u{009b}\\u{202e}\xe2\x82\xac\\\\\""));
	assert_non_null(strstr(r.out, "memory m\\x0a\\x0dx\n"));
	assert_non_null(strstr(r.out, "func   env\\x00hidden.f\\x1b]0;title\\x07 "));
	assert_non_null(strstr(r.out, "name sec\\x00\\x1b[2J\n"));
	run_result_free(&r);

	/* An invalid module whose error quotes a name: two exports named
	 * "\x1b[2J\x1b]0;x\x07" (clear screen, set the window title). */
	static const char dup[] = "\0asm\1\0\0\0"
	                          "\x01\x04\x01\x60\x00\x00"
	                          "\x03\x02\x01\x00"
	                          "\x07\x1b\x02"
	                          "\x0a\x1b[2J\x1b]0;x\x07\x00\x00"
	                          "\x0a\x1b[2J\x1b]0;x\x07\x00\x00"
	                          "\x0a\x04\x01\x02\x00\x0b";
	snprintf(mod, sizeof(mod), "%s/dup.wasm", tmp);
	assert_int_equal(write_file(mod, dup, sizeof(dup) - 1), 0);
	snprintf(cmd, sizeof(cmd), "exec \"$CAPSA\" wasm validate '%s'", mod);
	sh(&r, cmd, 30);
	printf("# %s", r.err);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "duplicate export name"));
	assert_non_null(strstr(r.err, "\\x1b[2J\\x1b]0;x\\x07"));
	assert_terminal_safe(r.err);
	run_result_free(&r);

	/* A trap names the function from the name section, which is untrusted
	 * too: function 0 named "\x1b]0;pwned\x07" (sets the window title). */
	assemble("evil", "(module (func (export \"_start\") unreachable))", mod, sizeof(mod));
	static const char names[] = "\x00\x14\x04name\x01\x0d\x01\x00\x0a\x1b]0;pwned\x07";
	f = fopen(mod, "ab");
	assert_non_null(f);
	assert_int_equal(fwrite(names, 1, sizeof(names) - 1, f), sizeof(names) - 1);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "exec \"$CAPSA\" wasm run '%s'", mod);
	sh(&r, cmd, 30);
	printf("# %s", r.err);
	assert_int_equal(r.status, 134);
	assert_non_null(strstr(r.err, "in function 0 (\\x1b]0;pwned\\x07) at offset 0x"));
	assert_terminal_safe(r.err);
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timeout_values),
	    cmocka_unit_test(test_timeout_blocking_wasi),
	    cmocka_unit_test(test_inspect_untrusted_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
