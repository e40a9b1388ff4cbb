/* SPDX-License-Identifier: Apache-2.0 */
/* Shared pieces of the SSE instruction files (sse*.c): the 128-bit value
 * type, operand access, the MXCSR and the per-group pickers that sse.c
 * asks in turn.
 *
 * Bit-exactness: the host is x86-64, so the SSE2 integer and floating-point
 * operations run as the host instruction itself on copies of the guest
 * operands (inline assembly, one tiny function per instruction). Floating
 * point runs with the guest's MXCSR rounding/FTZ/DAZ loaded into the host
 * MXCSR with every exception masked; the exception flags the host raised
 * are then merged into the guest MXCSR and, if one of them is unmasked
 * there, #XM (or #UD without CR4.OSXMMEXCPT) is raised before anything is
 * written, as the processor does. SSSE3/SSE4.1 operations are written in C
 * so that they do not depend on the host having them. */
#ifndef CAPSA_VM_EMU_SSE_IMPL_H
#define CAPSA_VM_EMU_SSE_IMPL_H

#include "vm/emu/sse.h"

#include <emmintrin.h>

typedef union {
	uint8_t b[16];
	int8_t sb[16];
	uint16_t w[8];
	int16_t sw[8];
	uint32_t d[4];
	int32_t sd[4];
	uint64_t q[2];
	int64_t sq[2];
	float f[4];
	double g[2];
	__m128i x;
} sse_v;

#define SSE_MXCSR_OFF  24
#define SSE_MXCSR_MASK 0xffffu

/* Mandatory-prefix index: 0 none, 1 66, 2 F3, 3 F2 (F2/F3 win over 66). */
static inline unsigned sse_pidx(const struct emu_insn *i)
{
	if (i->pfx & EMU_PFX_F3)
		return 2;
	if (i->pfx & EMU_PFX_F2)
		return 3;
	return (i->pfx & EMU_PFX_66) ? 1 : 0;
}

static inline uint32_t sse_mxcsr(const struct emu_cpu *c)
{
	uint32_t v;
	memcpy(&v, &c->s.fx.bytes[SSE_MXCSR_OFF], 4);
	return v;
}
static inline void sse_set_mxcsr(struct emu_cpu *c, uint32_t v)
{
	memcpy(&c->s.fx.bytes[SSE_MXCSR_OFF], &v, 4);
}

/* #UD without CR4.OSFXSR or with CR0.EM, #NM with CR0.TS. */
static inline void sse_check(struct emu_cpu *c)
{
	if (!(c->s.cr4 & EMU_CR4_OSFXSR))
		emu_ud(c);
	emu_fp_check(c, 0);
}

static inline void sse_get(struct emu_cpu *c, unsigned r, sse_v *v)
{
	memcpy(v, emu_xmm(c, r), 16);
}
static inline void sse_put(struct emu_cpu *c, unsigned r, const sse_v *v)
{
	memcpy(emu_xmm(c, r), v, 16);
}

/* n bytes of guest memory through the TLB when they lie in one page that
 * may be read (written) directly, else through the general path. */
static inline void sse_rd(struct emu_cpu *c, uint64_t la, void *dst, unsigned n)
{
	struct emu_tlb_entry *e = emu_tlbe(c, la);
	if (EMU_LIKELY(e->r == (la & ~0xfffULL) && (la & 0xfff) <= 0x1000 - n))
		memcpy(dst, (const void *)(e->addend + la), n);
	else
		emu_rdn(c, la, dst, n);
}
static inline void sse_wr(struct emu_cpu *c, uint64_t la, const void *src, unsigned n)
{
	struct emu_tlb_entry *e = emu_tlbe(c, la);
	if (EMU_LIKELY(e->w == (la & ~0xfffULL) && (la & 0xfff) <= 0x1000 - n &&
	               !atomic_load_explicit(e->code, memory_order_relaxed)))
		memcpy((void *)(e->addend + la), src, n);
	else
		emu_wrn(c, la, src, n);
}

/* The r/m source: the whole register, or `n` bytes of memory (the rest
 * zero); `aligned`: a 16-byte operand that must be aligned (#GP). */
static inline void sse_src(struct emu_cpu *c, const struct emu_insn *i, sse_v *v, unsigned n,
                           int aligned)
{
	if (!i->mem) {
		sse_get(c, i->rm, v);
		return;
	}
	uint64_t la = emu_ea(c, i);
	if (aligned && (la & 15))
		emu_gp0(c);
	if (n < 16)
		memset(v, 0, sizeof(*v));
	sse_rd(c, la, v, n);
}

/* Merge host exception flags into MXCSR; raise #XM/#UD when one is unmasked. */
void sse_fp_flags(struct emu_cpu *c, uint32_t flags);
/* Host MXCSR for a guest operation: the guest's rounding, FTZ and DAZ with
 * every exception masked and no flag set. Returns the host's own value to
 * restore; the (slow) LDMXCSR is left out when the two agree, which is the
 * usual case (both 0x1f80). */
static inline uint32_t sse_host_enter(const struct emu_cpu *c)
{
	uint32_t old, m = (sse_mxcsr(c) & 0xffc0u) | 0x1f80u;
	__asm__ volatile("stmxcsr %0" : "=m"(old)::"memory");
	if (old != m)
		__asm__ volatile("ldmxcsr %0" ::"m"(m) : "memory");
	return old;
}
/* Restores the host MXCSR and returns the exception flags raised. */
static inline uint32_t sse_host_leave(uint32_t old)
{
	uint32_t now;
	__asm__ volatile("stmxcsr %0" : "=m"(now)::"memory");
	if (now != old)
		__asm__ volatile("ldmxcsr %0" ::"m"(old) : "memory");
	return now & 0x3f;
}

/* The 128-bit kernels of sse_int.c (66 0F op) and sse_fp.c ([prefix
 * index][op], run under the host MXCSR set by sse_host_enter), for the MMX
 * forms that compute on the low half. */
typedef void (*sse_kern)(sse_v *d, const sse_v *s);
sse_kern sse_int_kernel(unsigned op);
sse_kern sse_fp_kernel(unsigned pidx, unsigned op);
/* the SSSE3 operation `op` (0F 38 map) on 128-bit values */
void sse_ssse3_op(sse_v *r, const sse_v *d, const sse_v *s, unsigned op);

emu_fn sse_move_pick(const struct emu_insn *i);
emu_fn sse_mmx_pick(const struct emu_insn *i);
emu_fn sse_int_pick(const struct emu_insn *i);
emu_fn sse_fp_pick(const struct emu_insn *i);
emu_fn sse_cvt_pick(const struct emu_insn *i);
emu_fn sse_ssse3_pick(const struct emu_insn *i);
emu_fn sse_sse41_pick(const struct emu_insn *i);
emu_fn sse_sse41fp_pick(const struct emu_insn *i);
emu_fn sse_sse42_pick(const struct emu_insn *i);

#endif
