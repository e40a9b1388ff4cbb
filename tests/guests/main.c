/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The capsa test guest: one freestanding x86-64 program whose behaviour is chosen by
 * the kernel command line (test=NAME ...). Results go to COM1 as "key: value" lines;
 * the last line is "capsa test guest: exit N" before N is written to port 0x501.
 * See tests/guests/README.md.
 */
#include "guest.h"
#include "io.h"

static struct bootinfo boot;

/* virtio_vsock.c, virtio_console.c: return only if `test` is not one of theirs */
void test_virtio_vsock(const char *cmdline, const char *test);
void test_virtio_console(const char *cmdline, const char *test);

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Sum of the initrd's bytes mod 2^32, computed at CPL3 (native speed). */
static void initrd_sum_user(uint64_t unused)
{
	(void)unused;
	const uint8_t *p = (const uint8_t *)(uintptr_t)boot.initrd_addr;
	uint32_t sum = 0;
	uint64_t t0 = rdtsc();
	for (uint64_t i = 0; i < boot.initrd_size; i++)
		sum += p[i];
	uint64_t t1 = rdtsc();
	gprintf("initrd checksum: 0x%08x\n", sum);
	gprintf("initrd checksum cycles: %lu\n", t1 - t0);
	guest_exit(0);
}

void test_bootinfo(const struct bootinfo *bi)
{
	gprintf("entry: %s\n", boot_kind_name(bi->kind));
	gprintf("bootinfo: 0x%lx\n", bi->info_paddr);
	if (bi->problem)
		gprintf("bootinfo problem: %s\n", bi->problem);
	gprintf("cmdline: %s\n", bi->cmdline);
	gprintf("e820 entries: %u\n", bi->mem_total);
	/* START-END is inclusive, as Linux prints it; empty entries are marked. */
	for (uint32_t i = 0; i < bi->nmem; i++) {
		const struct memmap_entry *m = &bi->mem[i];
		gprintf("e820: 0x%016lx-0x%016lx %u%s\n", m->start,
		        m->start + (m->size ? m->size - 1 : 0), m->type, m->size ? "" : " empty");
	}
	if (!bi->initrd_size) {
		gputs("initrd: none\n");
		guest_exit(bi->problem ? 1 : 0);
	}
	gprintf("initrd: 0x%lx size=%lu\n", bi->initrd_addr, bi->initrd_size);
	if (bi->initrd_addr >= 0x100000000ull ||
	    bi->initrd_size > 0x100000000ull - bi->initrd_addr) {
		gputs("initrd checksum: unreachable (above 4 GiB)\n");
		guest_exit(1);
	}
	run_user(initrd_sum_user, 0);
}

void guest_main(uint32_t kind, uint64_t info)
{
	char test[32];
	bootinfo_parse(kind, info, &boot);
	if (!cmdline_get(boot.cmdline, "test", test, sizeof(test))) {
		gprintf("capsa test guest: no test= on the command line \"%s\"\n", boot.cmdline);
		guest_exit(2);
	}
	if (streq(test, "hello")) {
		gputs("capsa test guest: hello\n");
		guest_reset();
	}
	gprintf("capsa test guest: test=%s entry=%s\n", test, boot_kind_name(kind));
	if (streq(test, "exit"))
		guest_exit((uint32_t)cmdline_num(boot.cmdline, "code", 0));
	if (streq(test, "triple")) {
		gputs("triple: forcing a triple fault\n");
		triple_fault();
	}
	if (streq(test, "bootinfo"))
		test_bootinfo(&boot);
	if (streq(test, "ports"))
		test_ports();
	if (streq(test, "cpl3"))
		test_cpl3(cmdline_num(boot.cmdline, "iters", 100000000));
	if (streq(test, "smp"))
		test_smp(&boot, 0);
	if (streq(test, "hlt"))
		test_smp(&boot, 1);
	if (streq(test, "cpuid"))
		test_cpuid();
	if (streq(test, "count"))
		test_count(cmdline_num(boot.cmdline, "lines", 50),
		           cmdline_num(boot.cmdline, "work", 100000), boot.cmdline);
	if (streq(test, "dirty"))
		test_dirty();
	if (streq(test, "spam")) {
		uint64_t n = cmdline_num(boot.cmdline, "lines", 1000);
		for (uint64_t i = 0; i < n; i++)
			gprintf("spam: line %lu of %lu, filling the console\n", i, n);
		guest_exit(0);
	}
	if (streq(test, "prompt")) {
		gputs("prompt: a line\n");
		gputs("prompt> "); /* no newline: shown once the guest halts or ends */
		if (cmdline_num(boot.cmdline, "exit", 0))
			outb(EXIT_PORT, (uint8_t)cmdline_num(boot.cmdline, "exit", 0));
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	test_virtio(boot.cmdline, test);
	test_virtio_net(boot.cmdline, test); /* virtio_net.c */
	test_virtio_vsock(boot.cmdline, test);
	test_virtio_console(boot.cmdline, test);
	gprintf("capsa test guest: unknown test \"%s\"\n", test);
	guest_exit(2);
}
