/* SPDX-License-Identifier: Apache-2.0 */
/* The control API (`capsa vm run --api-sock`): pause and resume, status,
 * and the error answers (the VM must be unharmed by every bad request);
 * snapshots: the counting guest saved mid-run, killed, and restored (from
 * the file and from a copy elsewhere) must finish with the right checksum
 * without starting over; broken snapshot files are refused with one line;
 * the guest's working set is marked in the file and loaded first. */
#include "vm/snaptest.h"

#include "vm/snapshot/memz.h"
#include "vm/snapshot/snapshot.h"
#include "vm/vm_internal.h"

#include <zlib.h>

/* Writes to an API socket whose server is gone must fail, not kill. */
static int setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	return vm_tmp_setup(state);
}

/* Start the counting guest with an API socket; returns the pid once the
 * API answers. */
static pid_t start_counter(const char *sock, const char *out, const char *err)
{
	const char *argv[] = {"capsa",
	                      "vm",
	                      "run",
	                      "--kernel",
	                      guest_path("testguest.elf"),
	                      "--cmdline",
	                      count_cmdline(),
	                      "--api-sock",
	                      sock,
	                      "--console",
	                      "stdio",
	                      NULL};
	return spawn_capsa_api(out, err, argv, sock);
}

static void test_pause_resume(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("pr.sock"), *out = tmp("pr.out"), *err = tmp("pr.err");
	pid_t pid = start_counter(sock, out, err);
	struct stat st;
	assert_int_equal(stat(sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(wait_file_has(out, "count: 2 sum", 60));

	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Paused\"}", NULL), 204);
	char *body = NULL;
	assert_int_equal(api(sock, "GET", "/", NULL, &body), 200);
	assert_non_null(strstr(body, "\"state\":\"Paused\""));
	free(body);
	/* no guest output while paused */
	size_t before = file_size_of(out);
	usleep(400000);
	assert_int_equal(file_size_of(out), before);
	/* pausing twice is a state error that changes nothing */
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Paused\"}", &body), 400);
	assert_non_null(strstr(body, "fault_message"));
	free(body);

	assert_int_equal(api(sock, "GET", "/machine-config", NULL, &body), 200);
	assert_non_null(strstr(body, "\"vcpu_count\":1"));
	assert_non_null(strstr(body, "\"mem_size_mib\":256"));
	free(body);

	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Resumed\"}", NULL), 204);
	assert_int_equal(api(sock, "GET", "/", NULL, &body), 200);
	assert_non_null(strstr(body, "\"state\":\"Running\""));
	free(body);
	expect_finished(pid, out);
}

/* The CLI's client verbs; a relative snapshot path is the client's. */
static void test_cli_verbs(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("cli.sock"), *out = tmp("cli.out"), *err = tmp("cli.err");
	pid_t pid = start_counter(sock, out, err);
	struct run_result r;
	capsa_run(&r, 30, "vm", "status", "--api-sock", sock, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"state\":\"Running\""));
	run_result_free(&r);
	capsa_run(&r, 30, "vm", "pause", "--api-sock", sock, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	capsa_run(&r, 30, "vm", "pause", "--api-sock", sock, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "already paused (HTTP 400)"));
	run_result_free(&r);
	char old[4096], bin[4096];
	assert_non_null(getcwd(old, sizeof(old)));
	assert_non_null(realpath(test_capsa_bin(), bin));
	assert_int_equal(chdir(vm_tmp_dir), 0);
	char *argv[] = {bin,          "vm",     "snapshot", "--api-sock",
	                (char *)sock, "--file", "rel.snap", NULL};
	run_cmd(&r, argv, 60);
	assert_int_equal(chdir(old), 0);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	/* compressed by default: far below the 256 MiB of memory, and a file
	 * of that size (not a sparse image) */
	struct stat st;
	assert_int_equal(stat(tmp("rel.snap"), &st), 0);
	assert_true(st.st_size < (16 << 20));
	assert_true((uint64_t)st.st_blocks * 512 < (16ull << 20));
	capsa_run(&r, 30, "vm", "resume", "--api-sock", sock, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	expect_finished(pid, out);
}

/* Every bad request gets a 4xx with a fault message; the VM goes on. */
static void test_api_errors(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("err.sock"), *out = tmp("err.out"), *err = tmp("err.err");
	pid_t pid = start_counter(sock, out, err);
	char *body = NULL;
	assert_int_equal(api(sock, "GET", "/no-such-thing", NULL, &body), 404);
	assert_non_null(strstr(body, "fault_message"));
	free(body);
	assert_int_equal(api(sock, "DELETE", "/vm", NULL, &body), 405);
	assert_non_null(strstr(body, "fault_message"));
	free(body);
	assert_int_equal(api(sock, "GET", "/vm", NULL, NULL), 405);
	assert_int_equal(api(sock, "PUT", "/", "{}", NULL), 405);
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":", &body), 400);
	assert_non_null(strstr(body, "fault_message"));
	free(body);
	assert_int_equal(api(sock, "PATCH", "/vm", "[1,2]", NULL), 400);
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Sleeping\"}", NULL), 400);
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Resumed\"}", &body), 400);
	assert_non_null(strstr(body, "not paused"));
	free(body);

	/* oversized body, declared and sent */
	size_t n = 64 * 1024;
	char *req = malloc(n + 256);
	assert_non_null(req);
	int h =
	    snprintf(req, 256, "PATCH /vm HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", n);
	memset(req + h, ' ', n);
	char resp[4096];
	assert_int_equal(api_raw(sock, req, (size_t)h + n, resp, sizeof(resp)), 413);
	assert_non_null(strstr(resp, "fault_message"));
	free(req);
	/* not HTTP at all */
	const char junk[] = "\x01\x02 hello there\r\n\r\n";
	assert_int_equal(api_raw(sock, junk, sizeof(junk) - 1, resp, sizeof(resp)), 400);

	/* a snapshot needs a paused VM */
	assert_int_equal(
	    api(sock, "PUT", "/snapshot/create", "{\"snapshot_path\":\"/tmp/x\"}", &body), 400);
	assert_non_null(strstr(body, "paused"));
	free(body);
	assert_int_equal(api(sock, "PUT", "/snapshot/create", "{}", NULL), 400);

	assert_int_equal(api(sock, "GET", "/", NULL, &body), 200);
	assert_non_null(strstr(body, "\"state\":\"Running\""));
	free(body);
	expect_finished(pid, out);
}

/* Run the counter to line 3, pause, save to `snap` (with `extra` JSON
 * members for /snapshot/create) and kill it. */
static void make_snapshot_with(const char *snap, const char *extra)
{
	const char *sock = tmp("mk.sock"), *out = tmp("mk.out"), *err = tmp("mk.err");
	pid_t pid = start_counter(sock, out, err);
	assert_true(wait_file_has(out, "count: 3 sum", 60));
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Paused\"}", NULL), 204);
	char req[4400];
	snprintf(req, sizeof(req), "{\"snapshot_path\":\"%s\"%s}", snap, extra);
	char *body = NULL;
	int st = api(sock, "PUT", "/snapshot/create", req, &body);
	if (st != 204)
		printf("# note: snapshot: %d %s\n", st, body ? body : "");
	free(body);
	assert_int_equal(st, 204);
	/* the process dies: only the file is left */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(file_count(out, "count: done"), 0);
}

static void make_snapshot(const char *snap)
{
	make_snapshot_with(snap, "");
}

/* `capsa vm restore` output: no restart, the right final sum, status 0. */
static void expect_restored(const char *out, int status)
{
	assert_int_equal(status, 0);
	char want[64];
	snprintf(want, sizeof(want), "count: done sum=0x%08x\n", count_expected_default());
	assert_int_equal(file_count(out, want), 1);
	assert_int_equal(file_count(out, "count: 0 sum="), 0);
	assert_int_equal(file_count(out, "capsa test guest: test="), 0);
	assert_true(file_count(out, " sum=0x") > 1);
}

/* `capsa vm restore SNAP [--mem-file MEM]` runs the counter to its end. */
static void restore_finishes(const char *snap, const char *mem)
{
	struct run_result r;
	if (mem)
		capsa_run(&r, 120, "vm", "restore", snap, "--mem-file", mem, "--console", "stdio",
		          NULL);
	else
		capsa_run(&r, 120, "vm", "restore", snap, "--console", "stdio", NULL);
	write_file(tmp("restored.out"), r.out, strlen(r.out));
	if (r.status)
		printf("# note: restore: %s\n", r.err);
	expect_restored(tmp("restored.out"), r.status);
	run_result_free(&r);
}

/* A restored VM ends as expect_restored says; when `paused`, it first
 * waits paused with nothing printed until PATCH /vm Resumed. */
static void finish_restored(pid_t pid, const char *sock, const char *out, int paused)
{
	if (paused) {
		char *body = NULL;
		assert_int_equal(api(sock, "GET", "/", NULL, &body), 200);
		assert_non_null(strstr(body, "\"state\":\"Paused\""));
		free(body);
		usleep(300000);
		assert_int_equal(file_size_of(out), 0);
		assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Resumed\"}", NULL), 204);
	}
	int ws;
	double took;
	assert_int_equal(wait_with_deadline(pid, 120, &ws, &took), pid);
	assert_true(WIFEXITED(ws));
	expect_restored(out, WEXITSTATUS(ws));
}

static void test_snapshot_restore(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *snap = tmp("vm.snap");
	make_snapshot(snap);
	/* a mostly idle 256 MiB guest: the untouched pages take no space */
	struct stat st;
	assert_int_equal(stat(snap, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 < (16ull << 20));

	restore_finishes(snap, NULL);

	/* a copy in another directory, the original gone, restored paused
	 * and resumed through the API */
	char cmd[9000];
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p '%s/moved' && cp --sparse=always '%s' '%s/moved/copy.snap' && rm '%s'",
	         vm_tmp_dir, snap, vm_tmp_dir, snap);
	assert_int_equal(system(cmd), 0);
	const char *sock = tmp("r2.sock"), *out = tmp("r2.out");
	const char *argv[] = {"capsa",    "vm",         "restore", tmp("moved/copy.snap"),
	                      "--paused", "--api-sock", sock,      "--console",
	                      "stdio",    NULL};
	pid_t pid = spawn_capsa(out, tmp("r2.err"), argv);
	assert_true(wait_api(sock));
	finish_restored(pid, sock, out, 1);
}

/* PUT /snapshot/load into a fresh `capsa vm run --api-sock` (nothing else
 * on its command line): a missing file is refused and the process goes on
 * waiting; the snapshot then stays paused until PATCH /vm Resumed (or runs
 * at once with resume_vm) and the guest finishes without starting over. */
static void load_in_fresh_process_with(const char *snap, int resume, const char *extra)
{
	const char *sock = tmp("load.sock"), *out = tmp("load.out"), *err = tmp("load.err");
	const char *argv[] = {"capsa", "vm", "run", "--api-sock", sock, NULL};
	pid_t pid = spawn_capsa_api(out, err, argv, sock);
	char *body = NULL;
	assert_int_equal(
	    api(sock, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/no/such.snap\"}", &body),
	    400);
	assert_non_null(strstr(body, "fault_message"));
	free(body);
	assert_int_equal(api(sock, "GET", "/", NULL, &body), 200);
	assert_non_null(strstr(body, "\"state\":\"Not started\""));
	free(body);
	char req[4400];
	snprintf(req, sizeof(req), "{\"snapshot_path\":\"%s\",\"resume_vm\":%s%s}", snap,
	         resume ? "true" : "false", extra);
	int st = api(sock, "PUT", "/snapshot/load", req, &body);
	if (st != 204)
		printf("# note: snapshot/load: %d %s\n", st, body ? body : "");
	free(body);
	assert_int_equal(st, 204);
	finish_restored(pid, sock, out, !resume);
}

static void load_in_fresh_process(const char *snap, int resume)
{
	load_in_fresh_process_with(snap, resume, "");
}

static void test_snapshot_load(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char snap[4200]; /* tmp() reuses its buffers */
	snprintf(snap, sizeof(snap), "%s", tmp("load.snap"));
	make_snapshot(snap);
	load_in_fresh_process(snap, 0);
	load_in_fresh_process(snap, 1);
}

static void copy_with(const char *from, const char *to, const char *how)
{
	char cmd[9000];
	snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s' && %s'%s'", from, to, how, to);
	assert_int_equal(system(cmd), 0);
}

/* The compressed memory section of the snapshot at path. */
static const struct snap_section *memz_of(const char *path)
{
	static struct snap_header h;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
	const struct snap_section *z = snap_find(&h, SNAP_SEC_MEMZ);
	assert_non_null(z);
	return z;
}

/* The stored-chunk index (format 4) of the snapshot at path: its count
 * into *n, the entries (free() them) and where they start in the file. */
static struct snap_memz_stored *read_stored(const char *path, struct snap_memz_hdr *hdr,
                                            uint64_t *n, uint64_t *at)
{
	const struct snap_section *z = memz_of(path);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, hdr, sizeof(*hdr), (off_t)z->offset), (ssize_t)sizeof(*hdr));
	assert_int_equal(pread(fd, n, sizeof(*n), (off_t)(z->offset + sizeof(*hdr))),
	                 (ssize_t)sizeof(*n));
	size_t len = *n * sizeof(struct snap_memz_stored);
	*at = z->offset + z->size - len;
	struct snap_memz_stored *st = malloc(len ? len : 1);
	assert_non_null(st);
	assert_int_equal(pread(fd, st, len, (off_t)*at), (ssize_t)len);
	close(fd);
	return st;
}

/* The memory index of the snapshot at path, one entry a chunk (free() it). */
static struct snap_memz_ent *read_index(const char *path, struct snap_memz_hdr *hdr)
{
	uint64_t n, at;
	struct snap_memz_stored *st = read_stored(path, hdr, &n, &at);
	struct snap_memz_ent *ent = calloc(hdr->nchunks, sizeof(*ent));
	assert_non_null(ent);
	for (uint64_t k = 0; k < n; k++) {
		assert_true(st[k].chunk < hdr->nchunks);
		ent[st[k].chunk] = (struct snap_memz_ent){st[k].offset, st[k].len, st[k].crc,
		                                          st[k].kind, st[k].flags};
	}
	free(st);
	return ent;
}

/* A copy of `from` at `to` with the byte at `off` inverted. */
static void flip_byte(const char *from, const char *to, uint64_t off)
{
	copy_with(from, to, "true ");
	int fd = open(to, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b = (uint8_t)~b;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static void test_restore_refuses_bad_files(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char snap[4200]; /* tmp()'s buffers are reused */
	snprintf(snap, sizeof(snap), "%s", tmp("good.snap"));
	make_snapshot(snap);
	expect_refused(tmp("missing.snap"), "cannot open");
	write_file(tmp("junk.snap"), "hello, not a snapshot\n", 22);
	expect_refused(tmp("junk.snap"), "not a capsa snapshot");
	copy_with(snap, tmp("short.snap"), "truncate -s 1000000 ");
	expect_refused(tmp("short.snap"), "truncated");
	copy_with(snap, tmp("hdr.snap"),
	          "printf '\\377' | dd conv=notrunc bs=1 seek=100 status=none of=");
	expect_refused(tmp("hdr.snap"), "header is corrupt");
	/* one byte of the vCPU state section (right after the config) */
	copy_with(snap, tmp("vcpu.snap"),
	          "printf '\\132' | dd conv=notrunc bs=1 seek=6000 status=none of=");
	expect_refused(tmp("vcpu.snap"), "corrupt");
	copy_with(snap, tmp("ver.snap"),
	          "printf '\\007' | dd conv=notrunc bs=1 seek=8 status=none of=");
	expect_refused(tmp("ver.snap"), "version 7");

	/* memory is verified on request only: a byte in the middle of the
	 * compressed chunks */
	struct run_result r;
	capsa_run(&r, 60, "vm", "snapshot", "verify", snap, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, ": ok (1 vCPUs, 256 MiB"));
	run_result_free(&r);
	struct snap_memz_hdr hdr;
	uint64_t nstored, at;
	free(read_stored(snap, &hdr, &nstored, &at));
	const struct snap_section *z = memz_of(snap);
	uint64_t first = z->offset + sizeof(hdr) + sizeof(nstored); /* the chunks' bytes */
	flip_byte(snap, tmp("mem.snap"), first + (at - first) / 2);
	capsa_run(&r, 60, "vm", "snapshot", "verify", tmp("mem.snap"), NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "memory chunk "));
	assert_non_null(strstr(r.err, "is corrupt"));
	run_result_free(&r);
	/* the index itself is checked on every load */
	flip_byte(snap, tmp("idx.snap"), at + 4);
	expect_refused(tmp("idx.snap"), "memory index is corrupt");

	/* the raw form: one image, its CRC */
	snprintf(snap, sizeof(snap), "%s", tmp("raw.snap"));
	make_snapshot_with(snap, ",\"memory_format\":\"raw\"");
	assert_true(file_size_of(snap) > (256u << 20));
	copy_with(snap, tmp("mem.snap"),
	          "printf '\\132' | dd conv=notrunc bs=1 seek=1048676 status=none of=");
	capsa_run(&r, 60, "vm", "snapshot", "verify", tmp("mem.snap"), NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "memory image is corrupt"));
	run_result_free(&r);
}

/* Guest memory in a file of its own (Firecracker's mem_file_path): a raw
 * sparse image of the memory's size beside a small state file; restored
 * with --mem-file or PUT /snapshot/load's mem_backend, refused without. */
static void test_mem_file(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char snap[4200], mem[4200], extra[4400];
	snprintf(snap, sizeof(snap), "%s", tmp("state.snap"));
	snprintf(mem, sizeof(mem), "%s", tmp("guest.mem"));
	snprintf(extra, sizeof(extra), ",\"mem_file_path\":\"%s\"", mem);
	make_snapshot_with(snap, extra);
	struct stat st;
	assert_int_equal(stat(mem, &st), 0);
	assert_int_equal(st.st_size, 256 << 20);
	assert_true((uint64_t)st.st_blocks * 512 < (16ull << 20));
	assert_true(file_size_of(snap) < (1u << 20));
	expect_refused(snap, "memory is in a separate file");

	restore_finishes(snap, mem);

	snprintf(extra, sizeof(extra),
	         ",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"%s\"}", mem);
	load_in_fresh_process_with(snap, 1, extra);
	/* the memory file is read, never written */
	assert_int_equal(stat(mem, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 < (16ull << 20));
}

/* The raw form (--memory-format raw): memory mapped from the file. */
static void test_raw_form(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char snap[4200];
	snprintf(snap, sizeof(snap), "%s", tmp("rawform.snap"));
	make_snapshot_with(snap, ",\"memory_format\":\"raw\"");
	restore_finishes(snap, NULL);
}

/* The chunks decompressed up front (what restore does where userfaultfd
 * is not allowed), in this process through the library. */
static void test_restore_eager(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char snap[4200];
	snprintf(snap, sizeof(snap), "%s", tmp("eager.snap"));
	make_snapshot(snap);
	int out = open(tmp("eager.out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(out >= 0);
	struct vm_restore_opts o = {
	    .accel = ACCEL_AUTO, .console_out = out, .console_in = -1, .memory_eager = 1};
	struct vm *vm;
	struct err e = {0};
	if (vm_restore(&vm, snap, &o, &e))
		printf("# note: vm_restore: %s\n", e.msg);
	assert_non_null(vm);
	struct vm_result res;
	assert_int_equal(vm_run(vm, &res, &e), 0);
	vm_destroy(vm);
	close(out);
	expect_restored(tmp("eager.out"), res.status);
}

/* A snapshot of a VM restored a moment ago: its memory is read through
 * the userfaultfd (nothing was touched yet), and the second snapshot
 * restores as the first. */
static void test_snapshot_of_restored(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char snap[4200], again[4200], req[4400];
	snprintf(snap, sizeof(snap), "%s", tmp("first.snap"));
	snprintf(again, sizeof(again), "%s", tmp("again.snap"));
	make_snapshot(snap);
	const char *sock = tmp("again.sock"), *out = tmp("again.out");
	const char *argv[] = {"capsa",      "vm", "restore",   snap,    "--paused",
	                      "--api-sock", sock, "--console", "stdio", NULL};
	pid_t pid = spawn_capsa(out, tmp("again.err"), argv);
	assert_true(wait_api(sock));
	snprintf(req, sizeof(req), "{\"snapshot_path\":\"%s\"}", again);
	assert_int_equal(api(sock, "PUT", "/snapshot/create", req, NULL), 204);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	struct run_result r;
	capsa_run(&r, 60, "vm", "snapshot", "verify", again, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	restore_finishes(again, NULL);
}

/* Every stored chunk damaged: the restored VM must not run on it but
 * stop with an error naming a chunk. */
static void test_corrupt_chunk_stops_vm(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char snap[4200], bad[4200];
	snprintf(snap, sizeof(snap), "%s", tmp("chunks.snap"));
	snprintf(bad, sizeof(bad), "%s", tmp("badchunks.snap"));
	make_snapshot(snap);
	copy_with(snap, bad, "true ");
	struct snap_memz_hdr hdr;
	struct snap_memz_ent *ent = read_index(bad, &hdr);
	int fd = open(bad, O_RDWR);
	assert_true(fd >= 0);
	unsigned damaged = 0;
	for (uint64_t i = 0; i < hdr.nchunks; i++) {
		struct snap_memz_ent c = ent[i];
		if (c.kind == SNAP_CHUNK_ZERO)
			continue;
		uint8_t b;
		assert_int_equal(pread(fd, &b, 1, (off_t)c.offset + c.len / 2), 1);
		b = (uint8_t)~b;
		assert_int_equal(pwrite(fd, &b, 1, (off_t)c.offset + c.len / 2), 1);
		damaged++;
	}
	close(fd);
	free(ent);
	assert_true(damaged > 0);
	struct run_result r;
	capsa_run(&r, 60, "vm", "restore", bad, "--console", "stdio", NULL);
	if (!strstr(r.err, "memory chunk"))
		printf("# note: status %d: %s\n", r.status, r.err);
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.err, "memory chunk "));
	assert_non_null(strstr(r.err, "is corrupt (checksum mismatch)"));
	assert_null(strstr(r.out, "count: done"));
	run_result_free(&r);
}

/* CRC-32 of the whole file at path. */
static uint32_t file_crc(const char *path)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	uint8_t buf[65536];
	uLong crc = crc32(0, NULL, 0);
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crc = crc32(crc, buf, (uInt)n);
	assert_int_equal(n, 0);
	close(fd);
	return (uint32_t)crc;
}

/* The working set: the software CPU's recent pages are marked hot and
 * stored raw at page-aligned offsets, adjacent hot chunks adjacent in the
 * file (mapped), KVM marks none; a restore maps every hot chunk from the
 * file before its vCPU runs, the others wait for a touch, the guest then
 * finishes as it would have (reading the mapped data), and its writes
 * never reach the file. */
static void test_hot_chunks(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char snap[4200];
	snprintf(snap, sizeof(snap), "%s", tmp("hot.snap"));
	make_snapshot(snap);
	struct snap_memz_hdr hdr;
	struct snap_memz_ent *ent = read_index(snap, &hdr);
	assert_int_equal(hdr.chunk_size, SNAP_MEMZ_CHUNK);
	assert_int_equal(hdr.codec, SNAP_MEMZ_MIXED);
	uint64_t hot = 0, cold = 0, last = 0;
	for (uint64_t i = 0; i < hdr.nchunks; i++) {
		int is_hot = (ent[i].flags & SNAP_CHUNK_HOT) != 0;
		if (ent[i].kind == SNAP_CHUNK_ZERO)
			assert_int_equal(ent[i].flags, 0);
		else if (is_hot) {
			assert_int_equal(ent[i].flags, SNAP_CHUNK_HOT | SNAP_CHUNK_MAPPED);
			assert_int_equal(ent[i].kind, SNAP_CHUNK_RAW);
			assert_int_equal(ent[i].offset % SNAP_PAGE, 0);
			assert_true(ent[i].offset >= last); /* in chunk order */
			if (i && (ent[i - 1].flags & SNAP_CHUNK_MAPPED))
				assert_int_equal(ent[i].offset, ent[i - 1].offset + ent[i - 1].len);
			last = ent[i].offset + ent[i].len;
		} else {
			assert_int_equal(ent[i].flags, 0);
			assert_true(ent[i].kind == SNAP_CHUNK_ZSTD ||
			            ent[i].kind == SNAP_CHUNK_RAW);
		}
		hot += is_hot;
		cold += !is_hot && ent[i].kind != SNAP_CHUNK_ZERO;
	}
	printf("# note: %s: %llu hot chunks, %llu other chunks with data\n", vm_test_accel(),
	       (unsigned long long)hot, (unsigned long long)cold);
	assert_true(cold > 0);
	if (accel_is_kvm()) {
		assert_int_equal(hot, 0); /* KVM does not tell */
		free(ent);
		return;
	}
	assert_true(hot > 0);

	uint32_t crc = file_crc(snap);
	int out = open(tmp("hot.out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(out >= 0);
	struct vm_restore_opts o = {.accel = ACCEL_AUTO, .console_out = out, .console_in = -1};
	struct vm *vm;
	struct err e = {0};
	assert_int_equal(vm_restore(&vm, snap, &o, &e), 0);
	if (!vm->lazy) {
		vm_destroy(vm);
		close(out);
		free(ent);
		skip_because("no userfaultfd here: memory was filled at once");
	}
	/* no vCPU has run: the hot chunks are mapped, the others wait */
	uint64_t waiting = 0;
	for (uint64_t i = 0; i < hdr.nchunks; i++) {
		int is_hot = (ent[i].flags & SNAP_CHUNK_HOT) != 0;
		assert_int_equal(mem_lazy_mapped(vm->lazy, i * hdr.chunk_size), is_hot);
		if (is_hot)
			assert_true(mem_lazy_filled(vm->lazy, i * hdr.chunk_size));
		waiting += ent[i].kind != SNAP_CHUNK_ZERO && !is_hot &&
		           !mem_lazy_filled(vm->lazy, i * hdr.chunk_size);
	}
	assert_int_equal(waiting, cold);
	struct vm_result res;
	assert_int_equal(vm_run(vm, &res, &e), 0);
	assert_false(mem_lazy_failed(vm->lazy));
	vm_destroy(vm);
	close(out);
	free(ent);
	expect_restored(tmp("hot.out"), res.status);
	assert_int_equal(file_crc(snap), crc); /* the guest's writes stayed private */
}

/* A copy of the snapshot at `from` with chunk i's flags and the index
 * header's codec set, and the index's and header's CRCs made right again
 * (so that only the new fields' checks can refuse it). */
static void edit_index(const char *from, const char *to, uint64_t i, uint32_t flags, uint32_t codec)
{
	copy_with(from, to, "true ");
	struct snap_memz_hdr hdr;
	uint64_t n, at;
	struct snap_memz_stored *st = read_stored(to, &hdr, &n, &at);
	int fd = open(to, O_RDWR);
	assert_true(fd >= 0);
	struct snap_header h;
	assert_int_equal(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	struct snap_section *z = (struct snap_section *)snap_find(&h, SNAP_SEC_MEMZ);
	assert_non_null(z);
	hdr.codec = codec;
	for (uint64_t k = 0; k < n; k++)
		if (st[k].chunk == i)
			st[k].flags = (uint16_t)flags;
	uLong crc = crc32(0, (const Bytef *)&hdr, sizeof(hdr));
	crc = crc32(crc, (const Bytef *)&n, sizeof(n));
	z->crc = (uint32_t)crc32(crc, (const Bytef *)st, (uInt)(n * sizeof(*st)));
	h.header_crc = snap_header_crc(&h);
	assert_int_equal(pwrite(fd, &hdr, sizeof(hdr), (off_t)z->offset), (ssize_t)sizeof(hdr));
	assert_int_equal(pwrite(fd, st, n * sizeof(*st), (off_t)at), (ssize_t)(n * sizeof(*st)));
	assert_int_equal(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
	free(st);
}

/* The index's new fields are checked on every load: unknown chunk flags,
 * an unknown codec, a mapped chunk that is not raw, and LZ4 chunks under
 * the zstd-only codec. */
static void test_bad_index_fields(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char snap[4200], bad[4200];
	snprintf(snap, sizeof(snap), "%s", tmp("fields.snap"));
	snprintf(bad, sizeof(bad), "%s", tmp("badfields.snap"));
	make_snapshot(snap);
	struct snap_memz_hdr hdr;
	struct snap_memz_ent *ent = read_index(snap, &hdr);
	uint64_t data = hdr.nchunks, lz4 = hdr.nchunks, zstd = hdr.nchunks;
	for (uint64_t i = 0; i < hdr.nchunks; i++) {
		if (ent[i].kind != SNAP_CHUNK_ZERO && data == hdr.nchunks)
			data = i;
		if (ent[i].kind == SNAP_CHUNK_LZ4 && lz4 == hdr.nchunks)
			lz4 = i;
		if (ent[i].kind == SNAP_CHUNK_ZSTD && zstd == hdr.nchunks)
			zstd = i;
	}
	assert_true(data < hdr.nchunks);
	char want[64];
	edit_index(snap, bad, data, ent[data].flags | 0x80, SNAP_MEMZ_MIXED);
	snprintf(want, sizeof(want), "memory index entry %llu is corrupt",
	         (unsigned long long)data);
	expect_refused(bad, want);
	edit_index(snap, bad, data, ent[data].flags, 7);
	expect_refused(bad, "memory index has a bad geometry");
	/* only a raw chunk at a page-aligned offset can be mapped */
	assert_true(zstd < hdr.nchunks);
	edit_index(snap, bad, zstd, SNAP_CHUNK_HOT | SNAP_CHUNK_MAPPED, SNAP_MEMZ_MIXED);
	snprintf(want, sizeof(want), "memory index entry %llu is corrupt",
	         (unsigned long long)zstd);
	expect_refused(bad, want);
	if (lz4 < hdr.nchunks) { /* the software CPU's hot chunks */
		edit_index(snap, bad, lz4, ent[lz4].flags, SNAP_MEMZ_ZSTD);
		snprintf(want, sizeof(want), "memory index entry %llu is corrupt",
		         (unsigned long long)lz4);
		expect_refused(bad, want);
	}
	/* the file as written still loads and verifies */
	edit_index(snap, bad, data, ent[data].flags, SNAP_MEMZ_MIXED);
	struct run_result r;
	capsa_run(&r, 60, "vm", "snapshot", "verify", bad, NULL);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	free(ent);
}

/* A CPU model both accelerators can offer on this host (the software
 * CPU lacks some of KVM's features and paravirtual KVM some of its). */
#define COMMON_CPU                                                                                 \
	"--cpu-features=-x2apic,-vme,-de,-mce,-mtrr,-mca,-pse36,-tsc_adjust,-clflushopt,-clwb,"    \
	"-umip,-gfni,-sse3,-ssse3,-sse4_1,-sse4_2"

/* Save under `from` after line `at`, restore under `to`: the guest must
 * finish with the sum of an uninterrupted run. */
static void cross(const char *from, const char *to, unsigned lines, unsigned work, unsigned at)
{
	char cmdline[128], marker[64], snap[4200], accel[32];
	snprintf(cmdline, sizeof(cmdline), "test=count lines=%u work=%u", lines, work);
	snprintf(marker, sizeof(marker), "count: %u sum", at);
	snprintf(snap, sizeof(snap), "%s", tmp("cross.snap"));
	snprintf(accel, sizeof(accel), "--accel=%s", from);
	const char *sock = tmp("x.sock"), *out = tmp("x.out");
	unlink(sock);
	const char *argv[] = {"capsa",
	                      "vm",
	                      "run",
	                      accel,
	                      COMMON_CPU,
	                      "--kernel",
	                      guest_path("testguest.elf"),
	                      "--cmdline",
	                      cmdline,
	                      "--api-sock",
	                      sock,
	                      NULL};
	pid_t pid = spawn_capsa(out, tmp("x.err"), argv);
	assert_true(wait_api(sock));
	assert_true(wait_file_has(out, marker, 60));
	pause_save_kill(sock, snap, pid);
	assert_int_equal(file_count(out, "count: done"), 0);

	struct run_result r;
	snprintf(accel, sizeof(accel), "--accel=%s", to);
	capsa_run(&r, 120, "vm", "restore", snap, accel, NULL);
	if (r.status)
		printf("# note: restore under %s: %s\n", to, r.err);
	assert_int_equal(r.status, 0);
	char want[64];
	snprintf(want, sizeof(want), "count: done sum=0x%08x\n", count_expected(lines, work));
	assert_non_null(strstr(r.out, want));
	assert_null(strstr(r.out, "count: 0 sum="));
	run_result_free(&r);
}

static void test_emu_to_kvm(void **state)
{
	(void)state;
	if (!have_kvm())
		skip_because("host has no usable /dev/kvm");
	cross("emu", "kvm", 150, 100000, 3);
}

static void test_kvm_to_emu(void **state)
{
	(void)state;
	if (!have_kvm())
		skip_because("host has no usable /dev/kvm");
	cross("kvm", "emu", 200, 3000000, 185);
}

/* Linux (the demo kernel and initramfs) saved right after its first line
 * and restored in a new process goes on to user space and resets, without
 * starting over. Under the software CPU only: it boots in well under a
 * second there, while on the paravirtual KVM host guest kernel code is
 * emulated and a boot takes minutes (test_slow_linux_boot covers it). */
static void test_linux_snapshot(void **state)
{
	(void)state;
	char kernel[4200], initrd[4200], snap[4200];
	guest_kernel(kernel, sizeof(kernel));
	snprintf(initrd, sizeof(initrd), "%s/build/guest/initramfs-64.cpio", test_root());
	snprintf(snap, sizeof(snap), "%s", tmp("linux.snap"));
	const char *sock = tmp("l.sock"), *out = tmp("l.out");
	const char *argv[] = {
	    "capsa",      "vm",       "run",  "--accel=emu", "--kernel",
	    kernel,       "--initrd", initrd, "--cmdline",   "console=ttyS0 reboot=k panic=-1",
	    "--api-sock", sock,       NULL};
	pid_t pid = spawn_capsa(out, tmp("l.err"), argv);
	double t0 = now_secs();
	while (file_count(out, "Linux version") == 0 && now_secs() - t0 < 30)
		usleep(500);
	pause_save_kill(sock, snap, pid);
	assert_int_equal(file_count(out, "Linux is up"), 0); /* saved mid-boot */

	struct run_result r;
	restore_linux(&r, snap, 60, "capsa demo: Linux is up on 1 vCPUs");
	assert_non_null(strstr(r.out, "Run /init as init process"));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pause_resume),
	    cmocka_unit_test(test_api_errors),
	    cmocka_unit_test(test_cli_verbs),
	    cmocka_unit_test(test_snapshot_restore),
	    cmocka_unit_test(test_snapshot_load),
	    cmocka_unit_test(test_restore_refuses_bad_files),
	    cmocka_unit_test(test_mem_file),
	    cmocka_unit_test(test_raw_form),
	    cmocka_unit_test(test_restore_eager),
	    cmocka_unit_test(test_snapshot_of_restored),
	    cmocka_unit_test(test_corrupt_chunk_stops_vm),
	    cmocka_unit_test(test_hot_chunks),
	    cmocka_unit_test(test_bad_index_fields),
	};
	const struct CMUnitTest across[] = {
	    cmocka_unit_test(test_emu_to_kvm),
	    cmocka_unit_test(test_kvm_to_emu),
	    cmocka_unit_test(test_linux_snapshot),
	};
	int rc = RUN_VM_GROUPS("vm/snapshot", tests, setup, vm_tmp_teardown);
	unsetenv("CAPSA_ACCEL");
	return rc | cmocka_run_group_tests_name("vm/snapshot across accelerators", across, setup,
	                                        vm_tmp_teardown);
}
