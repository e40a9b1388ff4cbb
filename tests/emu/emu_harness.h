/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny machine for the software CPU's tests: RAM at 0, a bus that logs
 * port writes, and helpers that set up long mode (identity paging, a GDT
 * with kernel/user segments and a TSS, an IDT) so a test can copy a code
 * snippet in and run it until HLT. Snippets are written in assembly in
 * .rodata between global labels and are position independent. */
#ifndef CAPSA_TESTS_EMU_HARNESS_H
#define CAPSA_TESTS_EMU_HARNESS_H

#include "common/testutil.h"
#include "vm/emu/cpu.h"

#include <stdlib.h>
#include <string.h>

#define TM_RAM    (8u << 20)
#define TM_PML4   0x1000u
#define TM_PDPT   0x2000u
#define TM_PD     0x3000u
#define TM_PT     0x4000u /* 4 KiB pages for the first 2 MiB */
#define TM_GDT    0x5000u
#define TM_IDT    0x6000u
#define TM_TSS    0x7000u
#define TM_CODE   0x10000u
#define TM_DATA   0x40000u
#define TM_KSTACK 0x80000u
#define TM_ISTACK 0x90000u
#define TM_USTACK 0xa0000u

/* GDT selectors */
#define TM_KCODE   0x08
#define TM_KDATA   0x10
#define TM_UCODE32 0x18
#define TM_UDATA   0x20
#define TM_UCODE64 0x28
#define TM_TSSSEL  0x30
#define TM_KCODE32 0x40

struct tmach {
	struct guest_mem gm;
	uint8_t *ram;
	struct emu_mem *mem;
	struct emu_cpu *cpu;
	struct x86_clock clk;
	struct cpuid_entry cpuid[32];
	size_t ncpuid;
	/* port writes */
	uint16_t out_port[64];
	uint32_t out_val[64];
	unsigned nout;
	uint8_t in_val; /* what IN reads */
	int intr_vec;   /* what intr_ack returns next (-1: none) */
	unsigned nack;
};

static inline void tm_pio(void *ctx, uint16_t port, uint8_t *data, unsigned len, int wr)
{
	struct tmach *t = ctx;
	if (wr) {
		uint32_t v = 0;
		memcpy(&v, data, len);
		if (t->nout < 64) {
			t->out_port[t->nout] = port;
			t->out_val[t->nout] = v;
		}
		t->nout++;
	} else {
		memset(data, t->in_val, len);
	}
}

static inline int tm_intr_ack(void *ctx)
{
	struct tmach *t = ctx;
	int v = t->intr_vec;
	t->intr_vec = -1;
	t->nack++;
	return v;
}

static inline void tm_init(struct tmach *t)
{
	memset(t, 0, sizeof(*t));
	t->intr_vec = -1;
	t->ram = aligned_alloc(4096, TM_RAM);
	assert_non_null(t->ram);
	memset(t->ram, 0, TM_RAM);
	t->gm.r[0] = (struct guest_mem_region){.gpa = 0, .size = TM_RAM, .host = t->ram};
	t->gm.n = 1;
	t->gm.total = TM_RAM;
	struct err e;
	assert_int_equal(emu_mem_create(&t->mem, &t->gm, &e), 0);
	x86_clock_init(&t->clk, 1000000, 0);
	t->ncpuid = emu_cpuid_model(t->cpuid, 32, 1000000);
	struct emu_cpu_config cfg = {
	    .index = 0,
	    .mem = t->mem,
	    .bus = {.ctx = t, .pio = tm_pio, .intr_ack = tm_intr_ack},
	    .clock = &t->clk,
	    .cpuid = t->cpuid,
	    .ncpuid = t->ncpuid,
	};
	assert_int_equal(emu_cpu_create(&t->cpu, &cfg, &e), 0);
}

static inline void tm_fini(struct tmach *t)
{
	emu_cpu_destroy(t->cpu);
	emu_mem_destroy(t->mem);
	free(t->ram);
}

static inline void tm_w64(struct tmach *t, uint64_t gpa, uint64_t v)
{
	memcpy(t->ram + gpa, &v, 8);
}
static inline uint64_t tm_r64(struct tmach *t, uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, t->ram + gpa, 8);
	return v;
}

/* Copy [start, end) to gpa. */
static inline void tm_load(struct tmach *t, uint64_t gpa, const void *start, const void *end)
{
	size_t n = (size_t)((const uint8_t *)end - (const uint8_t *)start);
	memcpy(t->ram + gpa, start, n);
	emu_mem_written(t->mem, gpa, n);
}

static inline uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, int l,
                                int db)
{
	return (limit & 0xffffULL) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)type << 40) |
	       (1ULL << 44) | ((uint64_t)dpl << 45) | (1ULL << 47) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)l << 53) |
	       ((uint64_t)db << 54) | (1ULL << 55) | ((uint64_t)(base >> 24) << 56);
}

/* Identity paging: 4 KiB pages (user, writable) for the first 2 MiB, 2 MiB
 * pages for the rest of the first GiB. */
static inline void tm_paging(struct tmach *t)
{
	tm_w64(t, TM_PML4, TM_PDPT | 7);
	tm_w64(t, TM_PDPT, TM_PD | 7);
	tm_w64(t, TM_PD, TM_PT | 7);
	for (uint64_t k = 1; k < 512; k++)
		tm_w64(t, TM_PD + 8 * k, (k << 21) | 0x87);
	for (uint64_t k = 0; k < 512; k++)
		tm_w64(t, TM_PT + 8 * k, (k << 12) | 7);
}

static inline uint64_t *tm_pte(struct tmach *t, uint64_t va)
{
	return (uint64_t *)(t->ram + TM_PT + 8 * ((va >> 12) & 511));
}

static inline void tm_gdt(struct tmach *t)
{
	tm_w64(t, TM_GDT + 0x08, seg_desc(0, 0xfffff, 0xb, 0, 1, 0));
	tm_w64(t, TM_GDT + 0x10, seg_desc(0, 0xfffff, 0x3, 0, 0, 1));
	tm_w64(t, TM_GDT + 0x18, seg_desc(0, 0xfffff, 0xb, 3, 0, 1));
	tm_w64(t, TM_GDT + 0x20, seg_desc(0, 0xfffff, 0x3, 3, 0, 1));
	tm_w64(t, TM_GDT + 0x28, seg_desc(0, 0xfffff, 0xb, 3, 1, 0));
	/* 64-bit TSS: base TM_TSS, limit 0x67 + I/O bitmap (8 KiB + 1) */
	uint32_t lim = 0x68 + 8192;
	uint64_t tss = (lim & 0xffff) | ((uint64_t)TM_TSS << 16) | (0x9ULL << 40) | (1ULL << 47) |
	               ((uint64_t)(lim >> 16) << 48);
	tm_w64(t, TM_GDT + 0x30, tss);
	tm_w64(t, TM_GDT + 0x38, 0);
	tm_w64(t, TM_GDT + 0x40, seg_desc(0, 0xfffff, 0xb, 0, 0, 1));
	tm_w64(t, TM_GDT + 0x48, seg_desc(0, 0xfffff, 0x3, 0, 0, 1));
	/* TSS: RSP0, IST1, I/O bitmap at 0x68 (all ports allowed) */
	tm_w64(t, TM_TSS + 4, TM_KSTACK);
	tm_w64(t, TM_TSS + 0x24, TM_ISTACK);
	t->ram[TM_TSS + 0x66] = 0x68;
	t->ram[TM_TSS + 0x67] = 0;
	memset(t->ram + TM_TSS + 0x68, 0, 8192);
	t->ram[TM_TSS + 0x68 + 8192] = 0xff;
}

/* IDT gate: 64-bit interrupt (type 0xe) or trap (0xf) gate. */
static inline void tm_gate(struct tmach *t, unsigned vec, uint64_t handler, unsigned ist,
                           unsigned dpl, unsigned type)
{
	uint64_t lo = (handler & 0xffff) | ((uint64_t)TM_KCODE << 16) | ((uint64_t)ist << 32) |
	              ((uint64_t)type << 40) | ((uint64_t)dpl << 45) | (1ULL << 47) |
	              ((handler >> 16) & 0xffff) << 48;
	tm_w64(t, TM_IDT + 16 * vec, lo);
	tm_w64(t, TM_IDT + 16 * vec + 8, handler >> 32);
}

static inline struct x86_segment tm_seg(uint16_t sel, unsigned type, unsigned dpl, int l, int db)
{
	return (struct x86_segment){.base = 0,
	                            .limit = 0xffffffff,
	                            .selector = sel,
	                            .type = (uint8_t)type,
	                            .s = 1,
	                            .dpl = (uint8_t)dpl,
	                            .present = 1,
	                            .l = (uint8_t)l,
	                            .db = (uint8_t)db,
	                            .g = 1};
}

/* 64-bit mode at CPL0, RIP = rip, RSP = TM_KSTACK, IF = 0. */
static inline void tm_long_mode(struct tmach *t, uint64_t rip)
{
	tm_paging(t);
	tm_gdt(t);
	struct x86_vcpu_state s;
	emu_cpu_get_state(t->cpu, &s);
	s.cr0 = 0x80050033; /* PG WP NE ET MP PE */
	s.cr3 = TM_PML4;
	s.cr4 = 0x6a0;  /* PAE PGE OSFXSR OSXMMEXCPT */
	s.efer = 0xd01; /* SCE LME LMA NXE */
	s.seg[X86_CS] = tm_seg(TM_KCODE, 0xb, 0, 1, 0);
	for (int k = 0; k < 6; k++)
		if (k != X86_CS)
			s.seg[k] = tm_seg(TM_KDATA, 0x3, 0, 0, 1);
	s.seg[X86_TR] = (struct x86_segment){
	    .base = TM_TSS, .limit = 0x68 + 8192, .selector = TM_TSSSEL, .type = 0xb, .present = 1};
	s.gdt = (struct x86_dtable){.base = TM_GDT, .limit = 0x4f};
	s.idt = (struct x86_dtable){.base = TM_IDT, .limit = 0xfff};
	s.rip = rip;
	s.rflags = 2;
	s.gpr[X86_RSP] = TM_KSTACK;
	s.ev.run_state = X86_RUNNABLE;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t->cpu, &s, &e), 0);
}

static inline struct emu_exit tm_run(struct tmach *t, uint64_t max)
{
	struct emu_exit x;
	struct err e;
	assert_int_equal(emu_cpu_run(t->cpu, max, &x, &e), 0);
	return x;
}

static inline struct x86_vcpu_state tm_state(struct tmach *t)
{
	struct x86_vcpu_state s;
	memset(&s, 0, sizeof(s));
	emu_cpu_get_state(t->cpu, &s);
	return s;
}

/* Run to HLT and return the state. */
static inline struct x86_vcpu_state tm_run_halt(struct tmach *t)
{
	struct emu_exit x = tm_run(t, 10000000);
	if (x.reason != EMU_EXIT_HALT)
		fail_msg("expected HLT, got exit %d (%s)", (int)x.reason, x.msg);
	return tm_state(t);
}

#define SNIP(name)                   extern const uint8_t name[], name##_end[]
#define SNIP_ADDR(base, name, label) ((base) + (uint64_t)((label) - (name)))

#endif
