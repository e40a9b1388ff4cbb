/* SPDX-License-Identifier: Apache-2.0 */
/* WASI descriptors through the embedding API: fd_renumber and fd_close
 * close a host descriptor only if capsa opened it. The embedder's stdio
 * descriptors are lent to the guest and stay open whatever it renumbers or
 * closes; files opened by the guest are never leaked, also when renumbered
 * onto 0-2. The module is assembled with wabt's wat2wasm at test time. */
#include "common/testutil.h"
#include "common/wat.h"

#include "capsa/wasm.h"
#include "capsa/wasm_wasi.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The preopen is guest fd 3; "f.txt" is opened in it for reading. */
static const char *wat =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"path_open\"\n"
    "    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_renumber\"\n"
    "    (func $renumber (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_close\" (func $close (param i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_write\"\n"
    "    (func $write (param i32 i32 i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 0) \"f.txt\")\n"
    "  (data (i32.const 32) \"\\40\\00\\00\\00\\03\\00\\00\\00\")\n"
    "  (data (i32.const 64) \"hi\\n\")\n"
    "  ;; a new descriptor for f.txt, or -errno\n"
    "  (func $open_f (export \"open\") (result i32) (local $e i32)\n"
    "    (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 5)\n"
    "      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 16)))\n"
    "    (if (result i32) (local.get $e) (then (i32.sub (i32.const 0) (local.get $e)))\n"
    "      (else (i32.load (i32.const 16)))))\n"
    "  ;; n rounds of: open f.txt, renumber it onto `to`; 0 or the first\n"
    "  ;; failure (-errno of the open, 1000 + errno of the renumber)\n"
    "  (func (export \"onto\") (param $to i32) (param $n i32) (result i32) (local $fd i32)\n"
    "    (loop $l\n"
    "      (local.set $fd (call $open_f))\n"
    "      (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))\n"
    "      (local.set $fd (call $renumber (local.get $fd) (local.get $to)))\n"
    "      (if (local.get $fd) (then (return (i32.add (i32.const 1000) (local.get $fd)))))\n"
    "      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))\n"
    "    (i32.const 0))\n"
    "  (func (export \"renumber\") (param i32 i32) (result i32)\n"
    "    (call $renumber (local.get 0) (local.get 1)))\n"
    "  (func (export \"close\") (param i32) (result i32) (call $close (local.get 0)))\n"
    "  ;; write \"hi\\n\" to fd: bytes written or -errno\n"
    "  (func (export \"hi\") (param i32) (result i32) (local $e i32)\n"
    "    (local.set $e (call $write (local.get 0) (i32.const 32) (i32.const 1) (i32.const 48)))\n"
    "    (if (result i32) (local.get $e) (then (i32.sub (i32.const 0) (local.get $e)))\n"
    "      (else (i32.load (i32.const 48))))))\n";

struct fixture {
	char *dir;
	int in[2], out[2], err_fd;
	struct capsa_wasm_module *m;
	struct capsa_wasm_store *s;
	struct capsa_wasi *w;
	struct capsa_wasm_instance *inst;
};

static void start(struct fixture *f)
{
	if (access("/usr/bin/wat2wasm", X_OK))
		skip_because("wat2wasm (package wabt) is not installed");
	memset(f, 0, sizeof(*f));
	f->dir = test_tmpdir();
	assert_non_null(f->dir);
	char path[4200];
	snprintf(path, sizeof(path), "%s/f.txt", f->dir);
	assert_int_equal(write_file(path, "data\n", 5), 0);
	struct err me = {0};
	f->m = test_wat_load(wat, &me);
	if (!f->m)
		printf("# %s\n", me.msg);
	assert_non_null(f->m);
	assert_int_equal(pipe2(f->in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(f->out, O_CLOEXEC), 0);
	f->err_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(f->err_fd >= 0);
	struct err e = {0};
	f->s = capsa_wasm_store_new(NULL, &e);
	assert_non_null(f->s);
	static char *argv[] = {"m", NULL};
	struct capsa_wasi_preopen pre = {f->dir, "."};
	struct capsa_wasi_config cfg = {.argc = 1,
	                                .argv = argv,
	                                .npreopens = 1,
	                                .preopens = &pre,
	                                .stdin_fd = f->in[0],
	                                .stdout_fd = f->out[1],
	                                .stderr_fd = f->err_fd};
	f->w = capsa_wasi_new(f->s, &cfg, &e);
	assert_non_null(f->w);
	struct capsa_wasm_trap_info info;
	f->inst = capsa_wasm_instantiate(f->s, f->m, capsa_wasi_resolve, f->w, &info, &e);
	assert_non_null(f->inst);
}

static void stop(struct fixture *f)
{
	capsa_wasi_free(f->w);
	capsa_wasm_store_free(f->s);
	capsa_wasm_module_free(f->m);
	close(f->in[0]);
	close(f->in[1]);
	close(f->out[0]);
	close(f->out[1]);
	close(f->err_fd);
	char path[4200];
	snprintf(path, sizeof(path), "%s/f.txt", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/m.wat", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/m.wasm", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f->dir);
}

static int32_t call(struct fixture *f, const char *name, int32_t a, int32_t b)
{
	struct capsa_wasm_extern x;
	assert_int_equal(capsa_wasm_instance_export(f->inst, name, &x), 0);
	union capsa_wasm_val cells[2] = {{.i32 = a}, {.i32 = b}};
	struct capsa_wasm_trap_info info;
	assert_int_equal(capsa_wasm_call(f->s, x.u.func, cells, &info), CAPSA_WASM_OK);
	return cells[0].i32;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* 100,000 rounds of opening a file and renumbering it onto 0, then onto 1
 * and 2: each renumber replaces the previous file, which must be closed
 * (they leaked: EMFILE after as many rounds as the descriptor limit). The
 * embedder's descriptors stay open. */
static void test_renumber_onto_stdio_no_leak(void **state)
{
	(void)state;
	struct fixture f;
	start(&f);
	int before = open_fds();
	int32_t rc = call(&f, "onto", 0, 100000);
	assert_int_equal(rc, 0);
	assert_int_equal(call(&f, "onto", 1, 1000), 0);
	assert_int_equal(call(&f, "onto", 2, 1000), 0);
	/* 0, 1 and 2 hold one file each now. */
	assert_int_equal(open_fds(), before + 3);
	for (int fd = 0; fd < 3; fd++)
		assert_int_equal(call(&f, "close", fd, 0), 0);
	assert_int_equal(open_fds(), before);
	assert_true(fd_is_open(f.in[0]) && fd_is_open(f.out[1]) && fd_is_open(f.err_fd));
	test_measured("100000 open+renumber-onto-0 rounds, host descriptors before %d after %d",
	              before, open_fds());
	stop(&f);
}

/* Renumbering stdout (1) onto a file's descriptor N and closing N must not
 * close the embedder's stdout; writes through N go to it before. */
static void test_renumber_stdout_then_close(void **state)
{
	(void)state;
	struct fixture f;
	start(&f);
	int before = open_fds();
	int32_t n = call(&f, "open", 0, 0);
	assert_true(n > 3);
	assert_int_equal(call(&f, "renumber", 1, n), 0);
	assert_int_equal(open_fds(), before); /* the file was closed */
	assert_int_equal(call(&f, "hi", n, 0), 3);
	char buf[8] = {0};
	assert_int_equal(read(f.out[0], buf, sizeof(buf)), 3);
	assert_string_equal(buf, "hi\n");
	assert_int_equal(call(&f, "hi", 1, 0), -8); /* EBADF: 1 was moved */
	assert_int_equal(call(&f, "close", n, 0), 0);
	assert_true(fd_is_open(f.out[1]));
	assert_int_equal(write(f.out[1], "ok", 2), 2);
	assert_int_equal(read(f.out[0], buf, sizeof(buf)), 2);
	/* Closing the guest's 0 and 2 leaves the embedder's descriptors open too. */
	assert_int_equal(call(&f, "close", 0, 0), 0);
	assert_int_equal(call(&f, "close", 2, 0), 0);
	assert_true(fd_is_open(f.in[0]) && fd_is_open(f.err_fd));
	assert_int_equal(open_fds(), before);
	stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_renumber_onto_stdio_no_leak),
	    cmocka_unit_test(test_renumber_stdout_then_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
