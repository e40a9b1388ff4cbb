/* SPDX-License-Identifier: Apache-2.0 */
/* The emulated side: the same code page and data buffer at the same
 * addresses in a guest whose 4-level page tables identity-map them as
 * user pages; the CPU starts at CPL 3 in 64-bit mode. The sequence is
 * followed by `out 0xf4, al`; an exception goes through the IDT to a stub
 * that does `out 0x80+vector, al` and the CPU frame on the kernel stack
 * gives the faulting RIP, RSP and RFLAGS. */
#include "dt.h"
#include "lm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/emu/cpu.h"

#define LOW_SIZE 0x100000ULL
#define HI_SIZE  (DT_CODE_SIZE + DT_DATA_SIZE)

static const struct dt_lm layout = {
    .pml4 = 0x1000,
    .gdt = 0x6000,
    .idt = 0x7000,
    .tss = 0x8000,
    .stubs = 0x9000,
    .rsp0 = 0x20000,
};

struct dt_emul {
	struct guest_mem gm;
	uint8_t *low, *hi;
	struct emu_mem *mem;
	struct emu_cpu *cpu;
	struct x86_clock clock;
	struct x86_vcpu_state base, st;
	int port; /* last port written, -1 none */
};

static void on_pio(void *ctx, uint16_t port, uint8_t *data, unsigned len, int is_write)
{
	struct dt_emul *em = ctx;
	if (!is_write) {
		memset(data, 0xff, len);
		return;
	}
	if (em->port < 0)
		em->port = port;
	emu_cpu_kick(em->cpu);
}

static void on_mmio(void *ctx, uint64_t gpa, uint8_t *data, unsigned len, int is_write)
{
	(void)ctx;
	(void)gpa;
	if (!is_write)
		memset(data, 0xff, len);
}

static void put64(uint8_t *mem, uint64_t off, uint64_t v)
{
	memcpy(mem + off, &v, 8);
}

/* PML4 -> PDPT -> PD; PD[0] -> PT of the first 1 MiB (supervisor), and
 * the PD entry of DT_CODE -> PT of the code (user, executable) and data
 * (user, no-execute) pages. */
static void page_tables(struct dt_emul *em)
{
	const uint64_t P = 1, RW = 2, US = 4, NX = 1ULL << 63;
	uint64_t pdpt = 0x2000, pd = 0x3000, pt_low = 0x4000, pt_hi = 0x5000;
	put64(em->low, layout.pml4, pdpt | P | RW | US);
	put64(em->low, pdpt + 8 * ((DT_CODE >> 30) & 511), pd | P | RW | US);
	put64(em->low, pd, pt_low | P | RW | US);
	put64(em->low, pd + 8 * ((DT_CODE >> 21) & 511), pt_hi | P | RW | US);
	for (uint64_t a = 0; a < LOW_SIZE; a += 4096)
		put64(em->low, pt_low + 8 * (a >> 12), a | P | RW);
	for (uint64_t a = 0; a < HI_SIZE; a += 4096) {
		uint64_t flags = P | RW | US | (a >= DT_CODE_SIZE ? NX : 0);
		put64(em->low, pt_hi + 8 * (((DT_CODE + a) >> 12) & 511), (DT_CODE + a) | flags);
	}
}

struct dt_emul *dt_emul_create(char *why, size_t whylen)
{
	struct dt_emul *em = calloc(1, sizeof(*em));
	struct err e = {0};
	if (!em || !(em->low = calloc(1, LOW_SIZE)) || !(em->hi = calloc(1, HI_SIZE))) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	em->gm.r[0] = (struct guest_mem_region){0, LOW_SIZE, em->low};
	em->gm.r[1] = (struct guest_mem_region){DT_CODE, HI_SIZE, em->hi};
	em->gm.n = 2;
	em->gm.total = LOW_SIZE + HI_SIZE;
	page_tables(em);
	if (dt_lm_tables(&em->gm, &layout, DT_STUB_OUT)) {
		snprintf(why, whylen, "tables outside guest memory");
		goto fail;
	}
	if (emu_mem_create(&em->mem, &em->gm, &e))
		goto fail_err;
	static struct cpuid_entry cpuid[64];
	size_t ncpuid = emu_cpuid_model(cpuid, 64, 1000000);
	x86_clock_init(&em->clock, 1000000, 0);
	struct emu_cpu_config cfg = {.index = 0,
	                             .mem = em->mem,
	                             .bus = {.ctx = em, .mmio = on_mmio, .pio = on_pio},
	                             .clock = &em->clock,
	                             .cpuid = cpuid,
	                             .ncpuid = ncpuid};
	if (emu_cpu_create(&em->cpu, &cfg, &e))
		goto fail_err;
	dt_lm_state(&em->base, &layout, 3);
	return em;
fail_err:
	snprintf(why, whylen, "%s", e.msg);
fail:
	dt_emul_destroy(em);
	return NULL;
}

void dt_emul_destroy(struct dt_emul *em)
{
	if (!em)
		return;
	if (em->cpu)
		emu_cpu_destroy(em->cpu);
	if (em->mem)
		emu_mem_destroy(em->mem);
	free(em->low);
	free(em->hi);
	free(em);
}

uint64_t dt_emul_instructions(const struct dt_emul *em)
{
	return emu_cpu_instructions(em->cpu);
}

static void regs_from_state(struct dt_regs *r, const struct x86_vcpu_state *s)
{
	memcpy(r->gpr, s->gpr, sizeof(r->gpr));
	r->rip = s->rip;
	r->rflags = s->rflags;
	memcpy(&r->mxcsr, s->fx.bytes + 24, 4);
	for (int i = 0; i < 16; i++)
		memcpy(r->xmm[i], s->fx.bytes + 160 + 16 * i, 16);
}

int dt_emul_run(struct dt_emul *em, const struct dt_seq *s, struct dt_result *out)
{
	static const uint8_t tail[4] = {0xe6, DT_PORT_DONE, 0xeb, 0xfe}; /* out; jmp $ */
	uint8_t *code = em->hi + (DT_SEQ - DT_CODE);
	memcpy(code, s->code, s->len);
	memcpy(code + s->len, tail, sizeof(tail));
	emu_mem_written(em->mem, DT_SEQ, s->len + sizeof(tail));
	memcpy(em->hi + DT_CODE_SIZE, s->data, DT_DATA_SIZE);
	emu_mem_written(em->mem, DT_DATA, DT_DATA_SIZE);
	em->st = em->base;
	memcpy(em->st.gpr, s->init.gpr, sizeof(em->st.gpr));
	em->st.rip = DT_SEQ;
	em->st.rflags = (s->init.rflags & (DT_ARITH | DT_DF)) | 0x3002;
	memcpy(em->st.fx.bytes + 24, &s->init.mxcsr, 4);
	for (int i = 0; i < 16; i++)
		memcpy(em->st.fx.bytes + 160 + 16 * i, s->init.xmm[i], 16);
	struct err e = {0};
	memset(out, 0, sizeof(*out));
	if (emu_cpu_set_state(em->cpu, &em->st, &e)) {
		out->end = DT_END_OTHER;
		snprintf(out->msg, sizeof(out->msg), "set_state: %.150s", e.msg);
		return 0;
	}
	em->port = -1;
	struct emu_exit x = {0};
	if (emu_cpu_run(em->cpu, 100000, &x, &e)) {
		out->end = DT_END_OTHER;
		snprintf(out->msg, sizeof(out->msg), "run: %.150s", e.msg);
		return 0;
	}
	emu_cpu_get_state(em->cpu, &em->st);
	regs_from_state(&out->r, &em->st);
	memcpy(out->data, em->hi + DT_CODE_SIZE, DT_DATA_SIZE);
	if (em->port == DT_PORT_DONE) {
		out->end = DT_END_DONE;
		out->r.rip = DT_SEQ + s->len; /* the OUT's own address */
		if (em->st.rip != DT_SEQ + s->len + 2) {
			out->end = DT_END_OTHER;
			snprintf(out->msg, sizeof(out->msg), "stopped at rip %#llx after the end",
			         (unsigned long long)em->st.rip);
		}
	} else if (em->port >= DT_PORT_VECTOR && em->port < DT_PORT_VECTOR + 32) {
		/* The CPU's frame: SS, RSP, RFLAGS, CS, RIP below RSP0. */
		uint64_t f[5];
		memcpy(f, em->low + layout.rsp0 - 40, sizeof(f));
		out->end = DT_END_EXCEPT;
		out->vector = em->port - DT_PORT_VECTOR;
		out->r.rip = f[0];
		out->r.rflags = f[2];
		out->r.gpr[4] = f[3];
		memcpy(&out->err, em->low + layout.rsp0 - 48, 8);
		out->cr2 = em->st.cr2;
	} else {
		out->end = DT_END_OTHER;
		snprintf(out->msg, sizeof(out->msg), "exit reason %d at rip %#llx, port %d: %.100s",
		         (int)x.reason, (unsigned long long)em->st.rip, em->port, x.msg);
	}
	return 0;
}
