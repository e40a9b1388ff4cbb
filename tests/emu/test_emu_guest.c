/* SPDX-License-Identifier: Apache-2.0 */
/* The freestanding test guest (build/guests/testguest.elf, see
 * tests/guests/README.md) on the software CPU alone: loaded by the same
 * code capsa uses (PVH entry: 32-bit protected mode, paging off), with a
 * bus that has only COM1 and the exit port. It exercises the mode switch to
 * long mode, CPL3 with IOPL and the TSS, and the integer workload. */
#include "emu_harness.h"

#include "vm/x86/boot.h"
#include "vm/x86/vcpu_setup.h"

#include "../guests/workload.h"

#include <stdio.h>

#define GUEST_RAM (64u << 20)

struct gmach {
	struct guest_mem gm;
	uint8_t *ram;
	struct emu_mem *mem;
	struct emu_cpu *cpu;
	struct x86_clock clk;
	char out[8192];
	size_t nout;
	int exit_status; /* -1 until port 0x501 is written */
};

static void g_pio(void *ctx, uint16_t port, uint8_t *data, unsigned len, int wr)
{
	struct gmach *g = ctx;
	if (wr && port == 0x3f8) {
		if (g->nout + 1 < sizeof(g->out))
			g->out[g->nout++] = (char)data[0];
		g->out[g->nout] = 0;
	} else if (wr && port == 0x501) {
		g->exit_status = data[0];
		emu_cpu_kick(g->cpu);
	} else if (!wr && port == 0x3fd) {
		data[0] = 0x60; /* transmitter empty */
	} else if (!wr) {
		memset(data, 0xff, len);
	}
}

static void g_mmio(void *ctx, uint64_t gpa, uint8_t *data, unsigned len, int wr)
{
	(void)ctx;
	(void)gpa;
	if (!wr)
		memset(data, 0xff, len);
}

static struct emu_exit boot_guest(struct gmach *g, const char *cmdline, double *secs)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/build/guests/testguest.elf", test_root());
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s is missing: build it with `make guests`", path);
	fclose(f);
	memset(g, 0, sizeof(*g));
	g->exit_status = -1;
	g->ram = aligned_alloc(4096, GUEST_RAM);
	assert_non_null(g->ram);
	memset(g->ram, 0, GUEST_RAM);
	g->gm.r[0] = (struct guest_mem_region){.gpa = 0, .size = GUEST_RAM, .host = g->ram};
	g->gm.n = 1;
	g->gm.total = GUEST_RAM;
	struct err e;
	struct boot_config bc = {
	    .kernel = path, .cmdline = cmdline, .ram_size = GUEST_RAM, .ram_is_zero = 1};
	struct boot_entry be;
	if (x86_boot_load(&g->gm, &bc, &be, &e) < 0 || x86_boot_tables(&g->gm, &be, &e) < 0)
		fail_msg("loading the test guest: %s", e.msg);
	assert_int_equal(be.mode, BOOT_PVH);
	assert_int_equal(emu_mem_create(&g->mem, &g->gm, &e), 0);
	x86_clock_init(&g->clk, 1000000, 0);
	struct cpuid_entry model[32], cpuid[32 + CPUID_EXTRA_ENTRIES];
	size_t nm = emu_cpuid_model(model, 32, g->clk.khz);
	struct x86_cpu_template tpl = {.cpuid = model, .ncpuid = nm, .ncpus = 1};
	size_t nc = x86_vcpu_cpuid(&tpl, 0, cpuid, sizeof(cpuid) / sizeof(cpuid[0]));
	struct emu_cpu_config cfg = {.index = 0,
	                             .mem = g->mem,
	                             .bus = {.ctx = g, .pio = g_pio, .mmio = g_mmio},
	                             .clock = &g->clk,
	                             .cpuid = cpuid,
	                             .ncpuid = nc};
	assert_int_equal(emu_cpu_create(&g->cpu, &cfg, &e), 0);
	struct x86_vcpu_state s;
	emu_cpu_get_state(g->cpu, &s);
	x86_boot_state(&s, &be);
	assert_int_equal(emu_cpu_set_state(g->cpu, &s, &e), 0);
	struct emu_exit x;
	double t0 = now_secs();
	assert_int_equal(emu_cpu_run(g->cpu, 20000000000ULL, &x, &e), 0);
	*secs = now_secs() - t0;
	return x;
}

static void free_guest(struct gmach *g)
{
	emu_cpu_destroy(g->cpu);
	emu_mem_destroy(g->mem);
	free(g->ram);
}

static void test_guest_exit_code(void **st)
{
	(void)st;
	struct gmach g;
	double secs;
	struct emu_exit x = boot_guest(&g, "test=exit code=42", &secs);
	if (x.reason != EMU_EXIT_KICK)
		fail_msg("exit %d (%s); output: %s", (int)x.reason, x.msg, g.out);
	assert_int_equal(g.exit_status, 42);
	free_guest(&g);
}

static void test_guest_cpl3(void **st)
{
	(void)st;
	struct gmach g;
	double secs;
	/* EMU_GUEST_ITERS: a longer run for measuring (release builds) */
	unsigned long long iters = 200000;
	if (getenv("EMU_GUEST_ITERS"))
		iters = strtoull(getenv("EMU_GUEST_ITERS"), NULL, 0);
	char cmd[64], want[64];
	snprintf(cmd, sizeof(cmd), "test=cpl3 iters=%llu", iters);
	struct emu_exit x = boot_guest(&g, cmd, &secs);
	if (x.reason != EMU_EXIT_KICK)
		fail_msg("exit %d (%s); output: %s", (int)x.reason, x.msg, g.out);
	snprintf(want, sizeof(want), "cpl3: cpl=3 iters=%llu", iters);
	assert_non_null(strstr(g.out, want));
	snprintf(want, sizeof(want), "result=0x%016llx", (unsigned long long)workload_run(iters));
	assert_non_null(strstr(g.out, want));
	assert_int_equal(g.exit_status, 0);
	uint64_t n = emu_cpu_instructions(g.cpu);
	test_measured("test guest cpl3 iters=%llu under emu: %.3f s, %llu instructions, %.0f MIPS",
	              iters, secs, (unsigned long long)n, (double)n / secs / 1e6);
	free_guest(&g);
}

static void test_guest_triple(void **st)
{
	(void)st;
	struct gmach g;
	double secs;
	struct emu_exit x = boot_guest(&g, "test=triple", &secs);
	assert_int_equal(x.reason, EMU_EXIT_SHUTDOWN);
	assert_non_null(strstr(g.out, "triple: forcing a triple fault"));
	free_guest(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guest_exit_code),
	    cmocka_unit_test(test_guest_cpl3),
	    cmocka_unit_test(test_guest_triple),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
