/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The freestanding test guests (tests/guests) checked against a reference VMM: each
 * test=NAME is booted under QEMU microvm and its serial output and exit status are
 * verified, so that capsa's VM tests can rely on the guests. Also checks the image
 * formats (PVH note, no-PVH copy, bzImage header) and that no guest code uses SSE.
 */
#include "common/testutil.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guests/workload.h"

#define QEMU "/usr/bin/qemu-system-x86_64"

static char elf_path[4096], nopvh_path[4096], bz_path[4096];

static int setup(void **state)
{
	(void)state;
	snprintf(elf_path, sizeof(elf_path), "%s/build/guests/testguest.elf", test_root());
	snprintf(nopvh_path, sizeof(nopvh_path), "%s/build/guests/testguest-nopvh.elf",
	         test_root());
	snprintf(bz_path, sizeof(bz_path), "%s/build/guests/testguest.bzImage", test_root());
	return 0;
}

static void need_qemu(void)
{
	if (access(QEMU, X_OK))
		skip_because("no %s (apt-get install qemu-system-x86)", QEMU);
	if (access("/dev/kvm", R_OK | W_OK))
		skip_because("/dev/kvm is not usable on this host");
}

/* Boots KERNEL with APPEND under QEMU microvm; status is QEMU's exit status. */
static void qemu(struct run_result *r, const char *kernel, const char *append, int smp,
                 const char *initrd, double timeout)
{
	char smps[16];
	snprintf(smps, sizeof(smps), "%d", smp);
	char *argv[32] = {QEMU,
	                  "-M",
	                  "microvm,rtc=on",
	                  "-enable-kvm",
	                  "-cpu",
	                  "qemu64,-cx16,+xsaveerptr",
	                  "-m",
	                  "256",
	                  "-smp",
	                  smps,
	                  "-display",
	                  "none",
	                  "-serial",
	                  "stdio",
	                  "-no-reboot",
	                  "-nodefaults",
	                  "-no-user-config",
	                  "-device",
	                  "isa-debug-exit,iobase=0x501,iosize=1",
	                  "-kernel",
	                  (char *)kernel,
	                  "-append",
	                  (char *)append};
	int n = 0;
	while (argv[n])
		n++;
	if (initrd) {
		argv[n++] = "-initrd";
		argv[n++] = (char *)initrd;
	}
	argv[n] = NULL;
	run_cmd(r, argv, timeout);
}

/* QEMU's isa-debug-exit turns guest value V into exit status (V << 1) | 1. */
static int debug_exit(int v)
{
	return ((v << 1) | 1) & 0xff;
}

static void expect(const struct run_result *r, const char *line)
{
	if (!strstr(r->out, line))
		fail_msg("missing \"%s\" in guest output:\n%s\nstderr: %s", line, r->out, r->err);
}

static void test_hello(void **state)
{
	(void)state;
	need_qemu();
	struct run_result r;
	qemu(&r, elf_path, "test=hello", 1, NULL, 60);
	assert_false(r.timed_out);
	expect(&r, "capsa test guest: hello\n");
	assert_int_equal(r.status, 0); /* reset -> triple fault -> -no-reboot exits 0 */
	test_measured("qemu hello boot-to-exit %.0f ms", r.secs * 1000);
	run_result_free(&r);
}

static void test_exit_codes(void **state)
{
	(void)state;
	need_qemu();
	const int codes[] = {0, 7, 100, 255};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char app[64], line[64];
		snprintf(app, sizeof(app), "test=exit code=%d", codes[i]);
		struct run_result r;
		qemu(&r, elf_path, app, 1, NULL, 60);
		snprintf(line, sizeof(line), "capsa test guest: exit %d\n", codes[i]);
		expect(&r, "capsa test guest: test=exit entry=pvh\n");
		expect(&r, line);
		assert_int_equal(r.status, debug_exit(codes[i]));
		run_result_free(&r);
	}
	struct run_result r;
	qemu(&r, elf_path, "test=nosuch", 1, NULL, 60);
	expect(&r, "unknown test \"nosuch\"");
	assert_int_equal(r.status, debug_exit(2));
	run_result_free(&r);
}

static void test_triple(void **state)
{
	(void)state;
	need_qemu();
	struct run_result r;
	qemu(&r, elf_path, "test=triple", 1, NULL, 60);
	expect(&r, "triple: forcing a triple fault\n");
	assert_null(strstr(r.out, "capsa test guest: exit"));
	assert_int_equal(r.status, 0);
	run_result_free(&r);
}

/* Writes a pseudo-random initrd of n bytes; returns the sum of its bytes mod 2^32. */
static uint32_t make_initrd(const char *path, size_t n)
{
	unsigned char *d = malloc(n);
	assert_non_null(d);
	uint32_t sum = 0, x = (uint32_t)getpid() | 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		d[i] = (unsigned char)x;
		sum += d[i];
	}
	assert_int_equal(write_file(path, d, n), 0);
	free(d);
	return sum;
}

static void check_bootinfo(const char *kernel, const char *entry, int want_e820)
{
	char *dir = test_tmpdir();
	assert_non_null(dir);
	char initrd[4200], line[128];
	snprintf(initrd, sizeof(initrd), "%s/initrd", dir);
	size_t size = 300001;
	uint32_t sum = make_initrd(initrd, size);
	struct run_result r;
	qemu(&r, kernel, "test=bootinfo alpha=1 beta=two", 1, initrd, 60);
	snprintf(line, sizeof(line), "entry: %s\n", entry);
	expect(&r, line);
	expect(&r, "cmdline: test=bootinfo alpha=1 beta=two\n");
	snprintf(line, sizeof(line), " size=%zu\n", size);
	expect(&r, line);
	snprintf(line, sizeof(line), "initrd checksum: 0x%08x\n", sum);
	expect(&r, line);
	/* The number of e820 lines matches the announced count. */
	const char *p = strstr(r.out, "e820 entries: ");
	assert_non_null(p);
	unsigned n = (unsigned)strtoul(p + 14, NULL, 10), lines = 0, ram_at_1m = 0;
	for (const char *q = r.out; (q = strstr(q, "\ne820: 0x")); q++) {
		unsigned long long s = strtoull(q + 9, NULL, 16);
		const char *dash = strchr(q + 9, '-');
		char *end;
		unsigned long long e = strtoull(dash + 1, &end, 16);
		unsigned type = (unsigned)strtoul(end, NULL, 10);
		ram_at_1m += type == 1 && s <= 0x100000 && e >= 0x1fffff;
		lines++;
	}
	assert_int_equal(lines, n);
	if (want_e820)
		assert_true(ram_at_1m >= 1);
	assert_int_equal(r.status, debug_exit(0));
	run_result_free(&r);
	unlink(initrd);
	rmdir(dir);
	free(dir);
}

static void test_bootinfo_pvh(void **state)
{
	(void)state;
	need_qemu();
	check_bootinfo(elf_path, "pvh", 1);
}

static void test_bootinfo_bzimage(void **state)
{
	(void)state;
	need_qemu();
	/* QEMU runs the bzImage's real-mode setup code, which builds the zero page
	 * (memory map from fw_cfg: microvm's firmware has no E820 call) and then enters
	 * the 64-bit entry. */
	check_bootinfo(bz_path, "linux64", 1);
}

static void test_ports(void **state)
{
	(void)state;
	need_qemu();
	struct run_result r;
	qemu(&r, elf_path, "test=ports", 1, NULL, 60);
	expect(&r, "port 0x300 inb: 0xff\n");
	expect(&r, "port 0x300 inw: 0xffff\n");
	expect(&r, "port 0x300 inl: 0xffffffff\n");
	expect(&r, "pci 00:00.0 id: 0xffffffff\n");
	expect(&r, "rtc time valid: yes (bcd)\n");
	expect(&r, "uart scratch: 0x5a 0xa5\n");
	expect(&r, "mmio 0xd0000000 read: 0x"); /* QEMU reads 0, capsa 0xffffffff */
	assert_int_equal(r.status, debug_exit(0));
	run_result_free(&r);
}

/* The guest's CPL3 loop gives the same result as workload.h on the host, and as the
 * host twin built with the guest's flags; the cycle counts are reported. */
static void test_cpl3_matches_native(void **state)
{
	(void)state;
	need_qemu();
	const uint64_t iters = 100000007;
	char app[64], line[96], twin[4096];
	snprintf(app, sizeof(app), "test=cpl3 iters=%llu", (unsigned long long)iters);
	struct run_result r, n;
	qemu(&r, elf_path, app, 1, NULL, 120);
	expect(&r, "cpl3: cpl=3 iters=100000007\n");
	snprintf(line, sizeof(line),
	         "cpl3: result=0x%016llx cycles=", (unsigned long long)workload_run(iters));
	expect(&r, line);
	unsigned long long guest = strtoull(strstr(r.out, line) + strlen(line), NULL, 10);
	assert_true(guest > 0);
	assert_int_equal(r.status, debug_exit(0));

	snprintf(twin, sizeof(twin), "%s/build/guests/workload-native", test_root());
	char *argv[] = {twin, "100000007", NULL};
	run_cmd(&n, argv, 120);
	assert_int_equal(n.status, 0);
	expect(&n, line);
	unsigned long long native = strtoull(strstr(n.out, line) + strlen(line), NULL, 10);
	test_measured("cpl3 workload 1e8 iters: guest %llu cycles, host %llu cycles (ratio %.3f)",
	              guest, native, native ? (double)guest / (double)native : 0.0);
	run_result_free(&r);
	run_result_free(&n);
}

static void test_smp(void **state)
{
	(void)state;
	need_qemu();
	const int counts[] = {1, 2, 4};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		int n = counts[i];
		char line[64];
		struct run_result r;
		qemu(&r, elf_path, "test=smp", n, NULL, 120);
		snprintf(line, sizeof(line), "cpus=%d ", n);
		expect(&r, line);
		expect(&r, "cpu 0 up (bsp)\n");
		for (int c = 1; c < n; c++) {
			snprintf(line, sizeof(line), "cpu %d up\n", c);
			expect(&r, line);
		}
		snprintf(line, sizeof(line), "smp: %d/%d cpus up\n", n, n);
		expect(&r, line);
		assert_int_equal(r.status, debug_exit(0));
		run_result_free(&r);
	}
	struct run_result r;
	qemu(&r, bz_path, "test=smp", 2, NULL, 120);
	expect(&r, "entry=linux64");
	expect(&r, "smp: 2/2 cpus up\n");
	run_result_free(&r);
}

static void test_hlt_never_exits(void **state)
{
	(void)state;
	need_qemu();
	struct run_result r;
	qemu(&r, elf_path, "test=hlt", 2, NULL, 4);
	assert_true(r.timed_out);
	expect(&r, "hlt: 2 cpus halted, halting forever\n");
	run_result_free(&r);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *d = (unsigned char *)read_file(path, len);
	if (!d)
		fail_msg("cannot read %s (built by make)", path);
	return d;
}

/* Returns the description of the Xen note of type 18, or 0 if there is none. */
static uint32_t pvh_note(const unsigned char *d, size_t len)
{
	Elf64_Ehdr eh;
	memcpy(&eh, d, sizeof(eh));
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, d + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE || ph.p_offset + ph.p_filesz > len)
			continue;
		for (size_t o = ph.p_offset; o + 12 <= ph.p_offset + ph.p_filesz;) {
			uint32_t nsz, dsz, type;
			memcpy(&nsz, d + o, 4);
			memcpy(&dsz, d + o + 4, 4);
			memcpy(&type, d + o + 8, 4);
			size_t name = o + 12, desc = name + ((nsz + 3) & ~3u);
			if (type == 18 && nsz == 4 && !memcmp(d + name, "Xen", 4) && dsz == 4) {
				uint32_t v;
				memcpy(&v, d + desc, 4);
				return v;
			}
			o = desc + ((dsz + 3) & ~3u);
		}
	}
	return 0;
}

static void test_image_formats(void **state)
{
	(void)state;
	size_t el, nl, bl;
	unsigned char *e = slurp(elf_path, &el), *n = slurp(nopvh_path, &nl),
	              *b = slurp(bz_path, &bl);
	Elf64_Ehdr eh, nh;
	memcpy(&eh, e, sizeof(eh));
	memcpy(&nh, n, sizeof(nh));
	assert_int_equal(eh.e_entry, 0x100200);
	assert_int_equal(nh.e_entry, 0x100200);
	uint32_t pvh = pvh_note(e, el);
	assert_true(pvh > 0x100000 && pvh < 0x200000);
	assert_int_equal(pvh_note(n, nl), 0);
	/* The lowest PT_LOAD is at physical 1 MiB in both. */
	Elf64_Phdr ph;
	memcpy(&ph, n + nh.e_phoff, sizeof(ph));
	assert_int_equal(ph.p_type, PT_LOAD);
	assert_int_equal(ph.p_paddr, 0x100000);

	/* bzImage header. */
	assert_true(bl > 0x1000);
	assert_int_equal(b[0x1fe] | b[0x1ff] << 8, 0xaa55);
	assert_memory_equal(b + 0x202, "HdrS", 4);
	assert_int_equal(b[0x206] | b[0x207] << 8, 0x020f);
	assert_int_equal(b[0x211] & 1, 1); /* LOADED_HIGH */
	assert_int_equal(b[0x236] & 1, 1); /* XLF_KERNEL_64 */
	assert_int_equal(b[0x234], 0);     /* not relocatable */
	uint32_t code32, align, init_size;
	uint64_t pref;
	memcpy(&code32, b + 0x214, 4);
	memcpy(&align, b + 0x230, 4);
	memcpy(&pref, b + 0x258, 8);
	memcpy(&init_size, b + 0x260, 4);
	assert_int_equal(code32, 0x100000);
	assert_int_equal(align, 0x200000);
	assert_int_equal(pref, 0x100000);
	/* Payload at (setup_sects + 1) * 512 is the no-PVH image's first segment. */
	size_t off = ((size_t)b[0x1f1] + 1) * 512;
	assert_true(off + ph.p_filesz <= bl);
	assert_true(init_size >= ph.p_memsz);
	assert_memory_equal(b + off, n + ph.p_offset, ph.p_filesz);
	free(e);
	free(n);
	free(b);
}

/* SSE raises #UD in guest user mode on paravirtual KVM hosts: none anywhere. */
static void test_no_sse(void **state)
{
	(void)state;
	if (access("/usr/bin/objdump", X_OK))
		skip_because("no objdump (apt-get install binutils)");
	const char *files[] = {"build/guests/testguest.elf", "build/guest/init-32",
	                       "build/guest/init-64"};
	for (size_t i = 0; i < 3; i++) {
		char cmd[8192];
		snprintf(cmd, sizeof(cmd), "objdump -d '%s/%s' | grep -cE '%%[xy]mm|%%mm[0-7]'",
		         test_root(), files[i]);
		char *argv[] = {"/bin/sh", "-c", cmd, NULL};
		struct run_result r;
		run_cmd(&r, argv, 60);
		if (strcmp(r.out, "0\n"))
			fail_msg("%s uses SSE/MMX registers (%s)", files[i], r.out);
		run_result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_image_formats),
	    cmocka_unit_test(test_no_sse),
	    cmocka_unit_test(test_hello),
	    cmocka_unit_test(test_exit_codes),
	    cmocka_unit_test(test_triple),
	    cmocka_unit_test(test_bootinfo_pvh),
	    cmocka_unit_test(test_bootinfo_bzimage),
	    cmocka_unit_test(test_ports),
	    cmocka_unit_test(test_cpl3_matches_native),
	    cmocka_unit_test(test_smp),
	    cmocka_unit_test(test_hlt_never_exits),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
