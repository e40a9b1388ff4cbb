/* SPDX-License-Identifier: Apache-2.0 */
/* capsa vm run on the freestanding test guests (tests/guests): boot paths,
 * devices, exit statuses, crash reports, SMP, CPL3 speed, clean stops. */
#include "vm/vmtest.h"

#include <signal.h>
#include <sys/wait.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <time.h>

static void hello_pvh(void **state)
{
	(void)state;
	REQUIRE_KVM();
	struct run_result r;
	run_testguest(&r, 30, "test=hello", "--memory", "64M", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "capsa test guest: hello\n"));
	test_measured("hello guest exec->exit %.3f s", r.secs);
	run_result_free(&r);
}

static void debug_exit_codes(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const int codes[] = {0, 1, 42, 255};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char cl[64];
		snprintf(cl, sizeof(cl), "test=exit code=%d", codes[i]);
		struct run_result r;
		run_testguest(&r, 30, cl, NULL);
		assert_int_equal(r.status, codes[i]);
		char want[64];
		snprintf(want, sizeof(want), "capsa test guest: exit %d\n", codes[i]);
		assert_non_null(strstr(r.out, want));
		run_result_free(&r);
	}
}

static void triple_fault_report(void **state)
{
	(void)state;
	REQUIRE_KVM();
	struct run_result r;
	run_testguest(&r, 30, "test=triple", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "triple: forcing a triple fault"));
	assert_non_null(strstr(r.err, "triple fault"));
	assert_non_null(strstr(r.err, "rip="));
	assert_non_null(strstr(r.err, "cr0="));
	/* the guest faults on ud2 (0f 0b) */
	assert_non_null(strstr(r.err, "code at rip (gpa"));
	assert_non_null(strstr(r.err, ": 0f 0b"));
	run_result_free(&r);
}

static void ports_and_mmio(void **state)
{
	(void)state;
	REQUIRE_KVM();
	struct run_result r;
	run_testguest(&r, 30, "test=ports", NULL);
	assert_int_equal(r.status, 0);
	char v[128];
	static const char *const expect[][2] = {
	    {"port 0x300 inb", "0xff"},
	    {"port 0x300 inw", "0xffff"},
	    {"port 0x300 inl", "0xffffffff"},
	    {"pci 00:00.0 id", "0xffffffff"},
	    {"pci 00:1f.0 id", "0xffffffff"},
	    {"rtc status a", "0x26"},
	    {"rtc status b", "0x02"},
	    {"rtc status d", "0x80"},
	    {"rtc time valid", "yes (bcd)"},
	    {"uart scratch", "0x5a 0xa5"},
	    {"mmio 0xd0000000 read", "0xffffffff"},
	    {"mmio 0xd0000000 after write", "0xffffffff"},
	};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		assert_int_equal(line_value(r.out, expect[i][0], v, sizeof(v)), 0);
		assert_string_equal(v, expect[i][1]);
	}
	/* RTC time is the host's UTC time, within a minute */
	assert_int_equal(line_value(r.out, "rtc time", v, sizeof(v)), 0);
	int hh, mm, ss;
	assert_int_equal(sscanf(v, "%d:%d:%d", &hh, &mm, &ss), 3);
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	int guest = hh * 3600 + mm * 60 + ss, host = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	int d = abs(guest - host);
	assert_true(d < 60 || d > 86400 - 60);
	run_result_free(&r);
}

static uint32_t byte_sum(const char *path, size_t *len)
{
	char *d = read_file(path, len);
	assert_non_null(d);
	uint32_t s = 0;
	for (size_t i = 0; i < *len; i++)
		s += (uint8_t)d[i];
	free(d);
	return s;
}

/* bootinfo through one kernel format; checks entry, cmdline, e820 and initrd */
static void bootinfo_check(const char *image, const char *entry, const char *memory)
{
	char *dir = test_tmpdir();
	char initrd[4200];
	snprintf(initrd, sizeof(initrd), "%s/initrd.bin", dir);
	size_t n = 300000 + 123;
	char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7 + (i >> 9));
	assert_int_equal(write_file(initrd, data, n), 0);
	free(data);
	size_t len;
	uint32_t sum = byte_sum(initrd, &len);

	struct run_result r;
	char memarg[32];
	snprintf(memarg, sizeof(memarg), "%sM", memory);
	vm_run_args(&r, 60, "--kernel", guest_path(image), "--cmdline", "test=bootinfo marker=xyz",
	            "--initrd", initrd, "--memory", memarg, NULL);
	assert_int_equal(r.status, 0);
	char v[512];
	assert_int_equal(line_value(r.out, "entry", v, sizeof(v)), 0);
	assert_string_equal(v, entry);
	assert_int_equal(line_value(r.out, "cmdline", v, sizeof(v)), 0);
	assert_non_null(strstr(v, "test=bootinfo marker=xyz"));
	/* RAM at 1 MiB up to the end of low memory */
	char want[128];
	unsigned long long mem = strtoull(memory, NULL, 10) << 20;
	unsigned long long low = mem < 0xc0000000ULL ? mem : 0xc0000000ULL;
	snprintf(want, sizeof(want), "e820: 0x0000000000100000-0x%016llx 1\n", low - 1);
	assert_non_null(strstr(r.out, want));
	assert_non_null(strstr(r.out, "e820: 0x0000000000000000-0x000000000009fbff 1\n"));
	if (mem > 0xc0000000ULL) {
		snprintf(want, sizeof(want), "e820: 0x0000000100000000-0x%016llx 1\n",
		         0x100000000ULL + (mem - 0xc0000000ULL) - 1);
		assert_non_null(strstr(r.out, want));
	}
	assert_int_equal(line_value(r.out, "initrd", v, sizeof(v)), 0);
	snprintf(want, sizeof(want), "size=%zu", len);
	assert_non_null(strstr(v, want));
	assert_int_equal(line_value(r.out, "initrd checksum", v, sizeof(v)), 0);
	assert_int_equal(strtoul(v, NULL, 16), sum);
	run_result_free(&r);
	unlink(initrd);
	rmdir(dir);
	free(dir);
}

static void bootinfo_pvh(void **state)
{
	(void)state;
	REQUIRE_KVM();
	bootinfo_check("testguest.elf", "pvh", "128");
}

static void bootinfo_elf_64bit_entry(void **state)
{
	(void)state;
	REQUIRE_KVM();
	bootinfo_check("testguest-nopvh.elf", "linux64", "128");
}

static void bootinfo_bzimage(void **state)
{
	(void)state;
	REQUIRE_KVM();
	bootinfo_check("testguest.bzImage", "linux64", "256");
}

static void bootinfo_memory_above_4g(void **state)
{
	(void)state;
	REQUIRE_KVM();
	bootinfo_check("testguest.elf", "pvh", "5120"); /* 5 GiB: 2 GiB above 4 GiB */
}

static int run_capture(const char *prog, const char *arg, char *out, size_t cap)
{
	char *argv[] = {(char *)prog, (char *)arg, NULL};
	struct run_result r;
	run_cmd(&r, argv, 60);
	snprintf(out, cap, "%s", r.out);
	int st = r.status;
	run_result_free(&r);
	return st;
}

static unsigned long long cycles_of(const char *text, char *result, size_t cap)
{
	char v[256];
	if (line_value(text, "cpl3", v, sizeof(v)))
		return 0;
	const char *p = strstr(text, "cpl3: result=");
	if (!p)
		return 0;
	unsigned long long c = 0;
	char res[64];
	if (sscanf(p, "cpl3: result=%63s cycles=%llu", res, &c) != 2)
		return 0;
	snprintf(result, cap, "%s", res);
	return c;
}

/* CPL3 code in the guest runs at native speed: the same loop, same flags. */
static void cpl3_native_speed(void **state)
{
	(void)state;
	REQUIRE_KVM();
	/* The software CPU is measured on a shorter run; only KVM runs guest
	 * user code at native speed. */
	int kvm = accel_is_kvm();
	const char *iters = kvm ? "200000000" : "20000000";
	char cl[64];
	snprintf(cl, sizeof(cl), "test=cpl3 iters=%s", iters);
	char native_prog[4096];
	snprintf(native_prog, sizeof(native_prog), "%s", guest_path("workload-native"));
	unsigned long long best_native = ~0ULL, best_guest = ~0ULL;
	char rn[64] = "", rg[64] = "";
	for (int i = 0; i < 3; i++) {
		char out[4096];
		assert_int_equal(run_capture(native_prog, iters, out, sizeof(out)), 0);
		unsigned long long c = cycles_of(out, rn, sizeof(rn));
		assert_true(c > 0);
		if (c < best_native)
			best_native = c;
		struct run_result r;
		run_testguest(&r, 60, cl, NULL);
		assert_int_equal(r.status, 0);
		assert_non_null(strstr(r.out, "cpl3: cpl=3"));
		c = cycles_of(r.out, rg, sizeof(rg));
		assert_true(c > 0);
		if (c < best_guest)
			best_guest = c;
		run_result_free(&r);
	}
	assert_string_equal(rn, rg); /* same computation */
	double ratio = (double)best_guest / (double)best_native;
	test_measured("cpl3 loop: guest %llu cycles, native %llu cycles, ratio %.2f", best_guest,
	              best_native, ratio);
	/* Emulated code would be ~1000x slower; allow for a noisy shared host. */
	if (kvm)
		assert_true(ratio < 2.0);
}

/* Registers of "cpuid LEAF.SUB:" as printed by test=cpuid; 0 on success. */
static int cpuid_line(const char *out, const char *leaf, unsigned r[4])
{
	char key[64];
	snprintf(key, sizeof(key), "cpuid %s: ", leaf);
	const char *p = strstr(out, key);
	if (!p)
		return -1;
	return sscanf(p + strlen(key), "eax=%x ebx=%x ecx=%x edx=%x", &r[0], &r[1], &r[2], &r[3]) ==
	               4
	           ? 0
	           : -1;
}

/* CPUID as the guest sees it: topology for --cpus, and --cpu-features edits
 * (cx16 is a bit every KVM host lets the VMM mask). */
static void cpuid_topology_and_edits(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *feats[] = {"-cx16", "+cx16"};
	for (int i = 0; i < 2; i++) {
		struct run_result r;
		run_testguest(&r, 30, "test=cpuid", "--cpus", "4", "--cpu-features", feats[i],
		              NULL);
		assert_int_equal(r.status, 0);
		unsigned l1[4], b1[4];
		assert_int_equal(cpuid_line(r.out, "0x1.0", l1), 0);
		assert_int_equal((l1[1] >> 16) & 0xff, 4);   /* logical processors */
		assert_int_equal(l1[1] >> 24, 0);            /* the BSP's APIC ID */
		assert_true(l1[2] & (1U << 31));             /* hypervisor present */
		assert_int_equal(!!(l1[2] & (1U << 13)), i); /* cx16 as edited */
		if (cpuid_line(r.out, "0xb.1", b1) == 0) {
			assert_int_equal(b1[1] & 0xffff, 4); /* cores at the core level */
			assert_int_equal(b1[0] & 0x1f, 2);   /* APIC ID bits */
		}
		run_result_free(&r);
	}
}

static void smp_counts(void **state)
{
	(void)state;
	REQUIRE_KVM();
	for (int n = 1; n <= 8; n++) {
		char cpus[16], want[64];
		snprintf(cpus, sizeof(cpus), "%d", n);
		struct run_result r;
		run_testguest(&r, 60, "test=smp", "--cpus", cpus, NULL);
		assert_int_equal(r.status, 0);
		snprintf(want, sizeof(want), "smp: %d/%d cpus up\n", n, n);
		assert_non_null(strstr(r.out, want));
		snprintf(want, sizeof(want), "cpus=%d ", n);
		assert_non_null(strstr(r.out, want)); /* count taken from capsa's MP table */
		for (int i = 1; i < n; i++) {
			snprintf(want, sizeof(want), "cpu %d up\n", i);
			assert_non_null(strstr(r.out, want));
		}
		run_result_free(&r);
	}
}

/* Stopping a VM whose vCPUs halt forever must never hang (kvmtool hangs on
 * exit with 2 vCPUs in about 1 run out of 13 here). */
static void stop_never_hangs(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const int runs = 26;
	double worst = 0;
	for (int i = 0; i < runs; i++) {
		int out[2];
		assert_int_equal(pipe(out), 0);
		pid_t pid = spawn_guest(out[1], "test=hlt", i % 2 ? "2" : "4");
		close(out[1]);
		char buf[8192];
		assert_true(read_until(out[0], buf, sizeof(buf), "halting forever", 30));
		/* vary the moment of the stop a little */
		usleep((useconds_t)(i * 1500));
		kill(pid, SIGTERM);
		int st = 0;
		double took;
		pid_t w = wait_with_deadline(pid, 10, &st, &took);
		close(out[0]);
		assert_int_equal(w, pid); /* it stopped by itself */
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 128 + SIGTERM);
		if (took > worst)
			worst = took;
	}
	test_measured("%d stops of halted 2/4-vCPU guests, slowest %.3f s", runs, worst);
	assert_true(worst < 5.0);
}

static void console_file_and_json_events(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char *dir = test_tmpdir();
	char path[4200], con[4300];
	snprintf(path, sizeof(path), "%s/console.log", dir);
	snprintf(con, sizeof(con), "file:%s", path);
	struct run_result r;
	run_testguest(&r, 30, "test=exit code=3", "--console", con, "--json-events", NULL);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out, ""); /* guest output went to the file */
	char *log = read_file(path, NULL);
	assert_non_null(log);
	assert_non_null(strstr(log, "capsa test guest: exit 3"));
	free(log);
	/* every stderr line is one JSON object; the last is the exit event */
	assert_non_null(strstr(r.err, "{\"event\":\"created\""));
	assert_non_null(strstr(r.err, "\"format\":\"elf+pvh\""));
	assert_non_null(
	    strstr(r.err, "{\"event\":\"exit\",\"reason\":\"debug-exit\",\"status\":3"));
	for (char *p = r.err; *p; p = strchr(p, '\n') + 1) {
		assert_int_equal(*p, '{');
		if (!strchr(p, '\n'))
			break;
	}
	run_result_free(&r);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* On a terminal the console is raw, Ctrl-A x ends the VM (status 0) and the
 * terminal's mode is restored afterwards. */
static void terminal_ctrl_a_x(void **state)
{
	(void)state;
	REQUIRE_KVM();
	int master;
	struct termios before;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(test_capsa_bin(), "capsa", "vm", "run", "--kernel",
		      guest_path("testguest.elf"), "--cmdline", "test=hlt", "--cpus", "2",
		      (char *)NULL);
		_exit(127);
	}
	char buf[16384];
	size_t got = 0;
	double t0 = now_secs();
	int raw_seen = 0;
	while (got < sizeof(buf) - 1 && now_secs() - t0 < 30) {
		struct pollfd p = {master, POLLIN, 0};
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t k = read(master, buf + got, sizeof(buf) - 1 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
		buf[got] = '\0';
		if (strstr(buf, "halting forever"))
			break;
	}
	assert_non_null(strstr(buf, "halting forever"));
	/* the slave side is in raw mode while the VM runs */
	assert_int_equal(tcgetattr(master, &before), 0);
	raw_seen = !(before.c_lflag & ICANON) && !(before.c_lflag & ECHO);
	assert_true(raw_seen);
	assert_int_equal(write(master, "\001x", 2), 2);
	int st = 0;
	double took;
	pid_t w = wait_with_deadline(pid, 10, &st, &took);
	assert_int_equal(w, pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(master);
}

/* A console nobody reads (a full pipe) blocks the guest's output, but never
 * the stop: SIGTERM still ends capsa promptly. */
static void stop_with_stuck_console(void **state)
{
	(void)state;
	REQUIRE_KVM();
	int out[2];
	assert_int_equal(pipe(out), 0);
	fcntl(out[1], F_SETPIPE_SZ, 4096);
	pid_t pid = spawn_guest(out[1], "test=spam lines=100000", "1");
	close(out[1]);
	usleep(1500000); /* the pipe fills within milliseconds; the guest is stuck now */
	int st = 0;
	assert_int_equal(waitpid(pid, &st, WNOHANG), 0); /* still running */
	kill(pid, SIGTERM);
	double took;
	pid_t w = wait_with_deadline(pid, 10, &st, &took);
	close(out[0]);
	assert_int_equal(w, pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 128 + SIGTERM);
	test_measured("stop with a stuck console took %.3f s", took);
	assert_true(took < 2.0);
}

/* The vCPU threads and the virtio devices' I/O threads run under a seccomp
 * filter (mode 2), the main thread, which still has set-up and teardown work,
 * does not. */
static void vcpu_threads_confined(void **state)
{
	(void)state;
	REQUIRE_KVM();
	char *dir = test_tmpdir(), disk[4200];
	snprintf(disk, sizeof(disk), "%s/d.raw", dir);
	assert_int_equal(write_file(disk, "\0\0\0\0", 4), 0);
	assert_int_equal(truncate(disk, 1 << 20), 0);
	int out[2];
	assert_int_equal(pipe(out), 0);
	pid_t pid = spawn_guest_with(out[1], "test=hlt", "2", "--rng", "--disk", disk);
	close(out[1]);
	char buf[8192];
	assert_true(read_until(out[0], buf, sizeof(buf), "halting forever", 30));
	int filtered = 0, names = 0, io = 0, io_filtered = 0;
	char path[256];
	for (int tid = pid; tid < pid + 64; tid++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
		char *st = read_file(path, NULL);
		if (!st)
			continue;
		int vcpu = strstr(st, "Name:\tvcpu") != NULL;
		int dev = strstr(st, "Name:\tvirtio-") != NULL;
		names += vcpu;
		io += dev;
		if (vcpu && strstr(st, "Seccomp:\t2"))
			filtered++;
		if (dev && strstr(st, "Seccomp:\t2"))
			io_filtered++;
		free(st);
	}
	kill(pid, SIGTERM);
	int st = 0;
	double took;
	assert_int_equal(wait_with_deadline(pid, 10, &st, &took), pid);
	close(out[0]);
	assert_int_equal(names, 2);
	assert_int_equal(filtered, 2);
	assert_int_equal(io, 2); /* virtio-blk, virtio-rng */
	assert_int_equal(io_filtered, 2);
	unlink(disk);
	rmdir(dir);
	free(dir);
}

static void console_none(void **state)
{
	(void)state;
	REQUIRE_KVM();
	struct run_result r;
	run_testguest(&r, 30, "test=hello", "--console", "none", NULL);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "hello"));
	run_result_free(&r);
}

/* Read fd into buf (NUL-terminated) until `marker` shows up, EOF, or
 * `timeout` seconds, never blocking longer than that; 1 if seen. */
static int poll_until(int fd, char *buf, size_t cap, const char *marker, double timeout)
{
	size_t got = 0;
	double t0 = now_secs();
	buf[0] = '\0';
	while (got < cap - 1 && !strstr(buf, marker)) {
		double left = timeout - (now_secs() - t0);
		struct pollfd p = {fd, POLLIN, 0};
		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) != 1)
			break;
		ssize_t k = read(fd, buf + got, cap - 1 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
		buf[got] = '\0';
	}
	return strstr(buf, marker) != NULL;
}

/* Console output held back for its newline still shows a prompt without
 * one as soon as the guest halts, and the last bytes a guest wrote before
 * it ended the VM. */
static void console_prompt_and_last_bytes(void **state)
{
	(void)state;
	REQUIRE_KVM();
	int out[2];
	assert_int_equal(pipe(out), 0);
	pid_t pid = spawn_guest(out[1], "test=prompt", "1");
	close(out[1]);
	char buf[8192];
	int seen = poll_until(out[0], buf, sizeof(buf), "prompt> ", 30);
	kill(pid, SIGTERM);
	int st = 0;
	double took;
	assert_int_equal(wait_with_deadline(pid, 10, &st, &took), pid);
	close(out[0]);
	assert_non_null(strstr(buf, "prompt: a line\n"));
	assert_true(seen);
	struct run_result r;
	run_testguest(&r, 30, "test=prompt exit=5", NULL);
	assert_int_equal(r.status, 5);
	size_t n = strlen(r.out);
	assert_true(n >= 8);
	assert_string_equal(r.out + n - 8, "prompt> ");
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hello_pvh),
	    cmocka_unit_test(debug_exit_codes),
	    cmocka_unit_test(triple_fault_report),
	    cmocka_unit_test(ports_and_mmio),
	    cmocka_unit_test(bootinfo_pvh),
	    cmocka_unit_test(bootinfo_elf_64bit_entry),
	    cmocka_unit_test(bootinfo_bzimage),
	    cmocka_unit_test(bootinfo_memory_above_4g),
	    cmocka_unit_test(cpl3_native_speed),
	    cmocka_unit_test(smp_counts),
	    cmocka_unit_test(cpuid_topology_and_edits),
	    cmocka_unit_test(stop_never_hangs),
	    cmocka_unit_test(console_file_and_json_events),
	    cmocka_unit_test(console_none),
	    cmocka_unit_test(console_prompt_and_last_bytes),
	    cmocka_unit_test(terminal_ctrl_a_x),
	    cmocka_unit_test(stop_with_stuck_console),
	    cmocka_unit_test(vcpu_threads_confined),
	};
	return RUN_VM_GROUPS("vm guests", tests, NULL, NULL);
}
