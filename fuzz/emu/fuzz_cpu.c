/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: random bytes as guest kernel code. The software CPU
 * runs them at CPL 0 in long mode (identity-mapped 4 GiB, an IDT whose
 * handlers count and return, or halt) for an instruction budget. The host
 * must never crash and every run must end with an exit reason; the guest
 * may do anything to itself (rewrite its tables, fault, triple-fault). */
#include "lm.h"
#include "mem/guest_mem.h"
#include "vm/emu/cpu.h"
#include "vm/x86/pagetables.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAM    (4ULL << 20)
#define CODE   0x100000ULL
#define BUDGET 3000

static const struct dt_lm layout = {
    .pml4 = 0x1000,
    .gdt = 0x8000,
    .idt = 0x9000,
    .tss = 0xa000,
    .stubs = 0xb000,
    .counter = 0xe000,
    .rsp0 = 0x80000,
};

static void on_pio(void *ctx, uint16_t port, uint8_t *data, unsigned len, int is_write)
{
	(void)ctx;
	(void)port;
	if (len < 1 || len > 8)
		abort();
	if (!is_write)
		memset(data, 0xff, len);
}

static void on_mmio(void *ctx, uint64_t gpa, uint8_t *data, unsigned len, int is_write)
{
	(void)ctx;
	if (len < 1 || len > 8 || gm_contains(ctx, gpa, len))
		abort(); /* RAM must never be routed to MMIO */
	if (!is_write)
		memset(data, 0xff, len);
}

static int on_msr(void *ctx, uint32_t index, uint64_t *value, int is_write)
{
	(void)ctx;
	(void)index;
	if (!is_write)
		*value = 0;
	return -1;
}

static int on_intr_ack(void *ctx)
{
	(void)ctx;
	return -1;
}

/* One guest for the whole run (creating the CPU and its caches per input
 * would dominate): each input rewrites RAM, tells the CPU so and sets a
 * fresh architectural state. */
static struct guest_mem fz_gm;
static struct emu_mem *fz_mem;
static struct emu_cpu *fz_cpu;
static struct x86_clock fz_clock;

/* A REP instruction counts once against the budget however many
 * elements it moves, so the wall time of one input is bounded by a
 * watchdog that kicks the CPU after DEADLINE_NS. */
#define DEADLINE_NS 50000000LL
static _Atomic int64_t fz_deadline;

static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		usleep(2000);
		int64_t d = atomic_load(&fz_deadline);
		if (d && x86_clock_host_ns() > d &&
		    atomic_compare_exchange_strong(&fz_deadline, &d, 0))
			emu_cpu_kick(fz_cpu);
	}
	return NULL;
}

static void setup(void)
{
	static struct cpuid_entry cpuid[64];
	uint8_t *ram = malloc(RAM);
	if (!ram)
		abort();
	fz_gm = (struct guest_mem){.r = {{0, RAM, ram}}, .n = 1, .total = RAM};
	struct err e = {0};
	if (emu_mem_create(&fz_mem, &fz_gm, &e))
		abort();
	x86_clock_init(&fz_clock, 1000000, 0);
	struct emu_cpu_config cfg = {.mem = fz_mem,
	                             .bus = {.ctx = &fz_gm,
	                                     .mmio = on_mmio,
	                                     .pio = on_pio,
	                                     .msr = on_msr,
	                                     .intr_ack = on_intr_ack},
	                             .clock = &fz_clock,
	                             .cpuid = cpuid,
	                             .ncpuid = emu_cpuid_model(cpuid, 64, 1000000)};
	if (emu_cpu_create(&fz_cpu, &cfg, &e))
		abort();
	pthread_t t;
	if (pthread_create(&t, NULL, watchdog, NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz_cpu)
		setup();
	uint8_t *ram = fz_gm.r[0].host;
	memset(ram, 0, RAM);
	/* The first byte picks the handlers, the rest is code. */
	enum dt_stub kind = size && (data[0] & 1) ? DT_STUB_HLT : DT_STUB_IRET;
	const uint8_t *code = size ? data + 1 : data;
	size_t len = size ? size - 1 : 0;
	if (len > 0x10000)
		len = 0x10000;
	memcpy(ram + CODE, code, len);
	if (pagetables_identity_4g(&fz_gm, layout.pml4, 0x2000, 0x3000) ||
	    dt_lm_tables(&fz_gm, &layout, kind))
		abort();
	emu_mem_written(fz_mem, 0, RAM);
	struct err e = {0};
	static struct x86_vcpu_state s;
	dt_lm_state(&s, &layout, 0);
	s.rip = CODE;
	for (int i = 0; i < X86_NGPR; i++)
		if (i != X86_RSP)
			s.gpr[i] = 0x200000 + 0x1000 * (uint64_t)i;
	s.gpr[X86_RCX] = 0x100; /* REP counts stay short: more inputs per second */
	if (emu_cpu_set_state(fz_cpu, &s, &e))
		abort();
	/* Two rounds: a halted CPU stays halted (no interrupt comes). */
	atomic_store(&fz_deadline, x86_clock_host_ns() + DEADLINE_NS);
	for (int round = 0; round < 2; round++) {
		struct emu_exit x = {0};
		if (emu_cpu_run(fz_cpu, BUDGET, &x, &e))
			abort(); /* a host failure */
		if ((unsigned)x.reason > EMU_EXIT_INTERNAL || x.reason == EMU_EXIT_WAIT_SIPI)
			abort();
		if (x.reason != EMU_EXIT_BUDGET)
			break;
	}
	atomic_store(&fz_deadline, 0);
	emu_cpu_get_state(fz_cpu, &s);
	return 0;
}
