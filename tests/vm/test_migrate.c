/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration (docs/vm.md, MIGRATION): the accelerator's dirty-page log
 * sees exactly the pages a guest writes (test=dirty) and those a device
 * notes; the counting guest moved over loopback while it runs finishes on
 * the target with the right checksum and no restart, after more than one
 * pre-copy round, and the source exits 0; a refused connection, a target
 * that dies mid-stream or answers garbage leave the source running to its
 * normal end; a target refuses a bad stream with one line. The guest
 * writing a shared virtio-blk disk finishes on the target with the disk
 * intact; a target refuses a disk that is not the source's and, on one
 * host, a vsock socket the source still listens on. */
#include "vm/snaptest.h"

#include "vm/migrate/stream.h"
#include "vm/snapshot/devices.h"
#include "vm/snapshot/format.h"
#include "vm/snapshot/sections.h"
#include "vm/vm_internal.h"

#include <netinet/in.h>
#include <pthread.h>
#include <zlib.h>

static int setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	return vm_tmp_setup(state);
}

/* ---- the dirty-page log, through the library ---- */

#define DIRTY_A       0x2000000ULL
#define DIRTY_B       0x2200000ULL
#define DIRTY_MAILBOX 0x1f00000ULL
#define DIRTY_DEVICE  0x2400000ULL /* a page only a "device" writes */
#define DIRTY_FAR     0x3000000ULL /* 48 MiB..64 MiB: never written */

struct run_job {
	struct vm *vm;
	struct vm_result res;
	int rc;
};

static void *run_job(void *arg)
{
	struct run_job *j = arg;
	struct err e = {0};
	j->rc = vm_run(j->vm, &j->res, &e);
	return NULL;
}

static int bit(const uint64_t *bits, uint64_t gpa)
{
	uint64_t p = gpa / 4096;
	return (int)((bits[p / 64] >> (p % 64)) & 1);
}

/* Pages [base, base+128 pages) with parity `odd` all set (want 1) or all
 * clear (want 0). */
static void expect_pages(const uint64_t *bits, uint64_t base, int odd, int want, const char *what)
{
	for (uint64_t i = (uint64_t)odd; i < 128; i += 2)
		if (bit(bits, base + i * 4096) != want)
			fail_msg("%s: page 0x%llx is %s", what,
			         (unsigned long long)(base + i * 4096), want ? "clear" : "set");
}

static void test_dirty_log(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *out = tmp("dirty.out");
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	struct vm_config cfg = {
	    .kernel = guest_path("testguest.elf"),
	    .cmdline = "test=dirty",
	    .cpus = 1,
	    .memory = 64ULL << 20,
	    .console_out = fd,
	    .console_in = -1,
	};
	struct err e = {0};
	assert_int_equal(accel_parse(vm_test_accel(), &cfg.accel, &e), 0);
	struct run_job j = {0};
	if (vm_create(&j.vm, &cfg, &e))
		fail_msg("vm_create: %s", e.msg);
	struct vm *vm = j.vm;
	const struct accel_ops *ops = vm->accel->ops;
	uint64_t words = (vm->ram_size / 4096 + 63) / 64;
	uint64_t *a = calloc(words, 8), *b = calloc(words, 8);
	assert_true(a && b);
	if (ops->dirty_start(vm->accel, &e))
		fail_msg("dirty_start: %s", e.msg);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, run_job, &j), 0);
	assert_true(wait_file_has(out, "dirty: a", 60));
	if (ops->dirty_fetch(vm->accel, a, &e))
		fail_msg("dirty_fetch: %s", e.msg);
	expect_pages(a, DIRTY_A, 0, 1, "first fetch, written pages");
	expect_pages(a, DIRTY_A, 1, 0, "first fetch, pages between them");
	expect_pages(a, DIRTY_B, 0, 0, "first fetch, the second range");
	expect_pages(a, DIRTY_B, 1, 0, "first fetch, the second range");
	/* a device's write counts, the host's own store (the mailbox) does not
	 * need to */
	gm_note_write(&vm->mem, DIRTY_DEVICE + 100, 8);
	uint32_t one = 1;
	assert_int_equal(gm_write(&vm->mem, DIRTY_MAILBOX, &one, 4), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(j.rc, 0);
	assert_int_equal(j.res.reason, VM_END_DEBUG_EXIT);
	assert_int_equal(file_count(out, "dirty: b"), 1);
	if (ops->dirty_fetch(vm->accel, b, &e))
		fail_msg("dirty_fetch: %s", e.msg);
	ops->dirty_stop(vm->accel);
	expect_pages(b, DIRTY_B, 1, 1, "second fetch, written pages");
	expect_pages(b, DIRTY_B, 0, 0, "second fetch, pages between them");
	expect_pages(b, DIRTY_A, 0, 1, "second fetch, pages written again");
	expect_pages(b, DIRTY_A, 1, 0, "second fetch, never written");
	assert_int_equal(bit(b, DIRTY_DEVICE), 1);
	assert_int_equal(bit(a, DIRTY_DEVICE), 0);
	for (uint64_t p = DIRTY_FAR; p < vm->ram_size; p += 4096)
		if (bit(a, p) || bit(b, p))
			fail_msg("page 0x%llx was never written", (unsigned long long)p);
	vm_destroy(vm);
	close(fd);
	free(a);
	free(b);
}

/* ---- migration through the CLI ---- */

/* The counting guest, long enough to be caught running on either
 * accelerator. */
static unsigned count_lines(void)
{
	return accel_is_kvm() ? 450 : 600;
}

static unsigned count_work(void)
{
	return accel_is_kvm() ? 3000000 : 100000;
}

/* The counting guest; with a disk image, it also writes line I to sector
 * I and reads them back at the end; with a vsock socket path, a vsock
 * device listens there. */
static pid_t start_source_dev(const char *sock, const char *out, const char *disk,
                              const char *vsock)
{
	static char cmdline[128], spec[4200], vspec[4200];
	snprintf(cmdline, sizeof(cmdline), "test=count lines=%u work=%u%s", count_lines(),
	         count_work(), disk ? " disk=1" : "");
	unlink(sock);
	const char *argv[16] = {
	    "capsa",     "vm",    "run",        "--kernel", guest_path("testguest.elf"),
	    "--cmdline", cmdline, "--api-sock", sock,       "--console",
	    "stdio"};
	int n = 11;
	if (disk) {
		snprintf(spec, sizeof(spec), "path=%s", disk);
		argv[n++] = "--disk";
		argv[n++] = spec;
	}
	if (vsock) {
		snprintf(vspec, sizeof(vspec), "cid=5,uds=%s", vsock);
		argv[n++] = "--vsock";
		argv[n++] = vspec;
	}
	return spawn_capsa_api(out, tmp("source.err"), argv, sock);
}

static pid_t start_source_disk(const char *sock, const char *out, const char *disk)
{
	return start_source_dev(sock, out, disk, NULL);
}

static pid_t start_source(const char *sock, const char *out)
{
	return start_source_disk(sock, out, NULL);
}

/* `capsa vm run --incoming tcp:127.0.0.1:0`; *port gets the port it took. */
static pid_t start_target(const char *out, const char *err, const char *console, int *port)
{
	const char *argv[] = {"capsa",           "vm",        "run",   "--incoming",
	                      "tcp:127.0.0.1:0", "--console", console, NULL};
	unlink(err); /* a previous target's line must not be read */
	pid_t pid = spawn_capsa(out, err, argv);
	assert_true(pid > 0);
	if (!wait_file_has(err, "waiting for a migration on tcp:127.0.0.1:", 20)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("the target never listened");
	}
	char *text = read_file(err, NULL);
	const char *p = strstr(text, "tcp:127.0.0.1:");
	*port = atoi(p + 14);
	free(text);
	assert_true(*port > 0);
	return pid;
}

static void expect_exit(pid_t pid, int status, double timeout)
{
	int st;
	double took;
	assert_int_equal(wait_with_deadline(pid, timeout, &st, &took), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), status);
}

static void expect_count_done(const char *out, int restarts)
{
	char want[64];
	snprintf(want, sizeof(want), "count: done sum=0x%08x\n",
	         count_expected(count_lines(), count_work()));
	if (file_count(out, want) != 1) {
		char *s = read_file(out, NULL);
		printf("# note: want \"%s\" in:\n%s\n", want, s ? s : "");
		free(s);
	}
	assert_int_equal(file_count(out, want), 1);
	assert_int_equal(file_count(out, "count: 0 sum="), restarts);
}

/* Run `capsa vm migrate --json`; returns its exit status, the last line in
 * last (the result) and the number of lines. */
static int migrate(const char *sock, int port, char *last, size_t cap, int *lines, char *err,
                   size_t err_cap)
{
	char to[64];
	snprintf(to, sizeof(to), "tcp:127.0.0.1:%d", port);
	struct run_result r;
	capsa_run(&r, 120, "vm", "migrate", "--api-sock", sock, "--to", to, "--json", NULL);
	*lines = 0;
	last[0] = '\0';
	for (char *l = r.out; l && *l;) {
		char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		snprintf(last, cap, "%.*s", (int)n, l);
		++*lines;
		l = nl ? nl + 1 : NULL;
	}
	snprintf(err, err_cap, "%s", r.err);
	int st = r.status;
	run_result_free(&r);
	return st;
}

static double json_num(const char *text, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "\"%s\":", key);
	const char *p = strstr(text, k);
	return p ? atof(p + strlen(k)) : -1;
}

/* The counting guest (with a disk: writing it) moved over loopback while
 * it runs: the target finishes it, the source exits 0. */
static void migrate_counting_guest(const char *disk)
{
	int port;
	const char *tout = tmp("target.out"), *terr = tmp("target.err");
	pid_t target = start_target(tout, terr, "stdio", &port);
	const char *sock = tmp("src.sock"), *sout = tmp("source.out");
	pid_t source = start_source_disk(sock, sout, disk);
	assert_true(wait_file_has(sout, "count: 3 sum", 60));
	char last[4096], err[4096];
	int lines;
	int st = migrate(sock, port, last, sizeof(last), &lines, err, sizeof(err));
	if (st)
		printf("# note: migrate: %s\n", err);
	assert_int_equal(st, 0);
	double total = json_num(last, "total_ms"), down = json_num(last, "downtime_ms");
	double sent = json_num(last, "downtime_sent_ms");
	printf("# note: %s%s: %d rounds, total %.1f ms, downtime %.2f ms (%.2f ms to the last "
	       "byte sent); %s\n",
	       vm_test_accel(), disk ? " with a disk" : "", (int)json_num(last, "round"), total,
	       down, sent, last);
	assert_non_null(strstr(last, "\"state\":\"completed\""));
	/* round 1, at least one round of pages written meanwhile, the last */
	assert_true(json_num(last, "round") >= 3);
	assert_true(lines >= 1);
	assert_non_null(strstr(last, "\"downtime_sent_ms\":"));
	/* the last byte leaves before the target's answer that it runs */
	assert_true(sent > 0 && sent <= down && total >= down);
	expect_exit(source, 0, 30);
	assert_int_equal(file_count(sout, "count: done"), 0);
	expect_exit(target, 0, 120);
	expect_count_done(tout, 0);
	assert_int_equal(file_count(tout, "capsa test guest: test="), 0);
	assert_int_equal(file_count(tout, "count: disk ok\n"), disk ? 1 : 0);
}

static void test_migrate_running_guest(void **state)
{
	(void)state;
	REQUIRE_KVM();
	migrate_counting_guest(NULL);
}

/* ---- failures ---- */

/* A port nobody listens on. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

enum fake { FAKE_DIES_MID_STREAM, FAKE_GARBAGE };

/* A socket listening on a free loopback port (*port). */
static int listen_loopback(int *port)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return lfd;
}

/* A listening socket on loopback and a child that plays a broken target
 * for one connection. */
static pid_t fake_target(enum fake how, int *port)
{
	int lfd = listen_loopback(port);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = accept(lfd, NULL, NULL);
		struct err e = {0};
		if (how == FAKE_GARBAGE) {
			char buf[64];
			ssize_t n = read(fd, buf, sizeof(buf));
			static const char junk[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
			n = write(fd, junk, sizeof(junk) - 1);
			(void)n;
			usleep(200000);
			_exit(0);
		}
		uint32_t type;
		void *buf;
		size_t blen;
		if (mig_recv_preamble(fd, &e) || mig_recv(fd, &type, &buf, &blen, 1 << 20, &e) ||
		    type != MIG_HELLO || mig_send(fd, MIG_ACCEPT, NULL, 0, &e))
			_exit(1);
		/* take some of the pages, then die */
		static char sink[1 << 16];
		size_t got = 0;
		ssize_t n;
		while (got < (512u << 10) && (n = read(fd, sink, sizeof(sink))) > 0)
			got += (size_t)n;
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void expect_migrate_fails(const char *sock, int port, const char *why)
{
	char last[4096], err[4096];
	int lines;
	int st = migrate(sock, port, last, sizeof(last), &lines, err, sizeof(err));
	printf("# note: %s: %s", why, err);
	assert_int_equal(st, 1);
	assert_non_null(strstr(err, "the VM keeps running on the source"));
	char *body = NULL;
	assert_int_equal(api(sock, "GET", "/", NULL, &body), 200);
	assert_non_null(strstr(body, "\"state\":\"Running\""));
	free(body);
}

static void test_source_survives_failures(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("fail.sock"), *sout = tmp("fail.out");
	pid_t source = start_source(sock, sout);
	assert_true(wait_file_has(sout, "count: 2 sum", 60));
	expect_migrate_fails(sock, closed_port(), "refused connection");
	int port;
	pid_t fake = fake_target(FAKE_DIES_MID_STREAM, &port);
	expect_migrate_fails(sock, port, "target died mid-stream");
	waitpid(fake, NULL, 0);
	fake = fake_target(FAKE_GARBAGE, &port);
	expect_migrate_fails(sock, port, "target answered garbage");
	waitpid(fake, NULL, 0);
	/* a bad destination is refused before anything starts */
	char *body = NULL;
	assert_int_equal(api(sock, "PUT", "/migrate", "{\"destination\":\"udp:x\"}", &body), 400);
	assert_non_null(strstr(body, "tcp:HOST:PORT"));
	free(body);
	expect_exit(source, 0, 120);
	expect_count_done(sout, 1);
}

/* Connect to a target and send `len` bytes of `data`. */
static void send_to(int port, const void *data, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	usleep(300000);
	close(fd);
}

/* The target's last stderr line names the problem; it exits 2. */
static void expect_target_refuses(const void *data, size_t len, const char *needle)
{
	int port;
	const char *err = tmp("bad.err");
	pid_t target = start_target(tmp("bad.out"), err, "none", &port);
	send_to(port, data, len);
	expect_exit(target, 2, 30);
	char *text = read_file(err, NULL);
	char *line = strchr(text, '\n') + 1; /* after the "waiting" line */
	printf("# note: %s", line);
	assert_non_null(strstr(line, needle));
	assert_true(!strncmp(line, "capsa vm run: migration from 127.0.0.1:", 39));
	assert_int_equal(strchr(line, '\n') - line + 1, (long)strlen(line));
	free(text);
}

static void test_target_refuses_bad_streams(void **state)
{
	(void)state;
	REQUIRE_KVM();
	static const char http[] = "GET / HTTP/1.0\r\n\r\n";
	expect_target_refuses(http, sizeof(http) - 1, "not a capsa migration stream");
	struct {
		char magic[8];
		uint32_t version, pad;
		struct mig_record_header h;
		char payload[16];
	} s = {MIG_MAGIC, 9, 0, {MIG_HELLO, 16, 0, 0}, "0123456789abcdef"};
	expect_target_refuses(&s, sizeof(s), "version 9");
	s.version = MIG_VERSION;
	expect_target_refuses(&s, sizeof(s), "checksum mismatch");
	s.h.len = 0x7fffffff;
	expect_target_refuses(&s, sizeof(s), "at most");
	s.h.len = 16;
	s.h.crc = (uint32_t)crc32(0, (const unsigned char *)s.payload, 16);
	expect_target_refuses(&s, sizeof(s), "machine description has a bad size");
}

/* ---- a VM with a disk ---- */

/* The image holds the guest's last record: the last line and the sum. */
static void expect_image(const char *img)
{
	int fd = open(img, O_RDONLY);
	assert_true(fd >= 0);
	uint8_t rec[12];
	assert_int_equal(pread(fd, rec, sizeof(rec), (off_t)(count_lines() - 1) * 512),
	                 (ssize_t)sizeof(rec));
	close(fd);
	uint64_t line;
	uint32_t sum;
	memcpy(&line, rec, 8);
	memcpy(&sum, rec + 8, 4);
	assert_int_equal(line, count_lines() - 1);
	assert_int_equal(sum, count_expected(count_lines(), count_work()));
}

static void test_migrate_with_disk(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *disk = tmp("mig.img");
	make_disk(disk);
	migrate_counting_guest(disk);
	expect_image(disk);
}

/* A target that keeps the source's machine description (the payload of
 * its HELLO record) in the file at path and refuses it. */
static pid_t capture_hello(const char *path, int *port)
{
	int lfd = listen_loopback(port);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = accept(lfd, NULL, NULL);
		struct err e = {0};
		uint32_t type;
		void *buf;
		size_t blen;
		if (mig_recv_preamble(fd, &e) || mig_recv(fd, &type, &buf, &blen, 1 << 20, &e) ||
		    type != MIG_HELLO)
			_exit(1);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(buf, 1, blen, f) != blen || fclose(f))
			_exit(1);
		mig_send(fd, MIG_REFUSE, "captured", 8, &e);
		usleep(200000);
		_exit(0);
	}
	close(lfd);
	return pid;
}

/* The source's machine description, replayed to a target after the disk
 * changed size: refused, naming the disk. */
static void test_target_refuses_changed_disk(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *disk = tmp("chg.img"), *sock = tmp("chg.sock"), *hello = tmp("hello.bin");
	make_disk(disk);
	pid_t source = start_source_disk(sock, tmp("chg.out"), disk);
	assert_true(wait_file_has(tmp("chg.out"), "count: 1 sum", 60));
	int port, st;
	pid_t fake = capture_hello(hello, &port);
	char last[4096], err[4096];
	int lines;
	assert_int_equal(migrate(sock, port, last, sizeof(last), &lines, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "captured"));
	assert_int_equal(waitpid(fake, &st, 0), fake);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	kill(source, SIGKILL);
	waitpid(source, NULL, 0);
	size_t len;
	char *payload = read_file(hello, &len);
	assert_non_null(payload);
	assert_non_null(memmem(payload, len, disk, strlen(disk)));
	/* the devices' names go with the machine (a disk added by flags: drive0) */
	size_t at = sizeof(struct snap_header) + sizeof(struct snap_config) +
	            sizeof(struct mig_hello_devices) + sizeof(struct snap_devices_hdr);
	assert_true(len >= at + sizeof(struct vm_device_names));
	const struct vm_device_names *names = (const struct vm_device_names *)(payload + at);
	assert_string_equal(names->drive[0], "drive0");
	assert_int_equal(truncate(disk, 8 << 20), 0);
	struct {
		char magic[8];
		uint32_t version, pad;
		struct mig_record_header h;
	} pre = {MIG_MAGIC, MIG_VERSION, 0, {MIG_HELLO, (uint32_t)len, 0, 0}};
	pre.h.crc = (uint32_t)crc32(0, (const unsigned char *)payload, (uInt)len);
	char *stream = malloc(sizeof(pre) + len);
	memcpy(stream, &pre, sizeof(pre));
	memcpy(stream + sizeof(pre), payload, len);
	expect_target_refuses(stream, sizeof(pre) + len, "chg.img is not the source's");
	free(stream);
	free(payload);
}

/* On one host the source's vsock socket is in use: the target refuses,
 * naming it, and the source goes on. */
static void test_target_refuses_vsock_in_use(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("vs.sock"), *sout = tmp("vs.out"), *uds = tmp("mv.sock");
	pid_t source = start_source_dev(sock, sout, NULL, uds);
	assert_true(wait_file_has(sout, "count: 1 sum", 60));
	int port;
	const char *terr = tmp("vtarget.err");
	pid_t target = start_target(tmp("vtarget.out"), terr, "none", &port);
	char last[4096], err[4096];
	int lines;
	assert_int_equal(migrate(sock, port, last, sizeof(last), &lines, err, sizeof(err)), 1);
	printf("# note: %s", err);
	assert_non_null(strstr(err, "mv.sock is in use"));
	expect_exit(target, 2, 30);
	expect_exit(source, 0, 120);
	expect_count_done(sout, 1);
}

/* A VM restored a moment ago from a compressed snapshot, most of its
 * memory not loaded yet, moved at once: the source reads the chunks not
 * yet filled through its lazy fill, so they reach the target with their
 * data, and the target finishes the count the snapshot was taken in. */
static void test_migrate_restored_vm(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("first.sock"), *out = tmp("first.out");
	pid_t first = start_source(sock, out);
	assert_true(wait_file_has(out, "count: 3 sum", 60));
	char snap[4200];
	snprintf(snap, sizeof(snap), "%s", tmp("moved.snap"));
	pause_save_kill(sock, snap, first);
	const char *rsock = tmp("restored.sock"), *rout = tmp("restored.out");
	unlink(rsock);
	const char *argv[] = {"capsa", "vm",        "restore", snap, "--api-sock",
	                      rsock,   "--console", "stdio",   NULL};
	pid_t source = spawn_capsa(rout, tmp("restored.err"), argv);
	assert_true(wait_api(rsock));
	int port;
	const char *tout = tmp("rtarget.out");
	pid_t target = start_target(tout, tmp("rtarget.err"), "stdio", &port);
	char last[4096], err[4096];
	int lines;
	int st = migrate(rsock, port, last, sizeof(last), &lines, err, sizeof(err));
	if (st)
		printf("# note: migrate: %s\n", err);
	assert_int_equal(st, 0);
	assert_non_null(strstr(last, "\"state\":\"completed\""));
	expect_exit(source, 0, 30);
	assert_int_equal(file_count(rout, "count: done"), 0);
	expect_exit(target, 0, 120);
	expect_count_done(tout, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dirty_log),
	    cmocka_unit_test(test_migrate_running_guest),
	    cmocka_unit_test(test_source_survives_failures),
	    cmocka_unit_test(test_target_refuses_bad_streams),
	    cmocka_unit_test(test_migrate_with_disk),
	    cmocka_unit_test(test_target_refuses_changed_disk),
	    cmocka_unit_test(test_target_refuses_vsock_in_use),
	    cmocka_unit_test(test_migrate_restored_vm),
	};
	return RUN_VM_GROUPS("vm migrate", tests, setup, vm_tmp_teardown);
}
