/* SPDX-License-Identifier: Apache-2.0 */
/* SSE/SSE2 conversions between a general register (or memory) and a
 * scalar: CVTSI2SS/SD, CVTSS2SI/CVTSD2SI and the truncating
 * CVTTSS2SI/CVTTSD2SI, 32- and 64-bit. They run as the host instruction
 * under the guest's MXCSR (rounding mode, integer indefinite on overflow
 * or NaN, exception flags). */
#include "vm/emu/sse_impl.h"

#define KSI(name, insn, T)                                                                         \
	static void k_##name(sse_v *d, uint64_t v)                                                 \
	{                                                                                          \
		T x = (T)v;                                                                        \
		__asm__ volatile(insn " %1, %0" : "+x"(d->x) : "rm"(x));                           \
	}
KSI(si2ss32, "cvtsi2ssl", int32_t)
KSI(si2ss64, "cvtsi2ssq", int64_t)
KSI(si2sd32, "cvtsi2sdl", int32_t)
KSI(si2sd64, "cvtsi2sdq", int64_t)

#define KIS(name, insn, T)                                                                         \
	static uint64_t k_##name(const sse_v *s)                                                   \
	{                                                                                          \
		T r;                                                                               \
		__asm__ volatile(insn " %1, %0" : "=r"(r) : "x"(s->x));                            \
		return (uint64_t)r;                                                                \
	}
KIS(ss2si32, "cvtss2si", uint32_t)
KIS(ss2si64, "cvtss2si", uint64_t)
KIS(tss2si32, "cvttss2si", uint32_t)
KIS(tss2si64, "cvttss2si", uint64_t)
KIS(sd2si32, "cvtsd2si", uint32_t)
KIS(sd2si64, "cvtsd2si", uint64_t)
KIS(tsd2si32, "cvttsd2si", uint32_t)
KIS(tsd2si64, "cvttsd2si", uint64_t)

/* F3/F2 0F 2A: CVTSI2SS/CVTSI2SD xmm, r/m32|64 */
static int op_cvtsi2s(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	unsigned n = (i->pfx & EMU_PFX_REXW) ? 8 : 4;
	uint64_t v = i->mem ? emu_rd(c, emu_ea(c, i), n) : c->s.gpr[i->rm];
	static void (*const k[2][2])(sse_v *, uint64_t) = {
	    {k_si2ss32, k_si2ss64},
	    {k_si2sd32, k_si2sd64},
	};
	sse_v d;
	sse_get(c, i->reg, &d);
	uint32_t h = sse_host_enter(c);
	k[(i->pfx & EMU_PFX_F2) != 0][n == 8](&d, v);
	sse_fp_flags(c, sse_host_leave(h));
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}

/* F3/F2 0F 2C (truncating) and 2D: CVT(T)SS2SI / CVT(T)SD2SI r32|64, xmm/m */
static int op_cvts2si(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	int dbl = (i->pfx & EMU_PFX_F2) != 0, w = (i->pfx & EMU_PFX_REXW) != 0;
	sse_v s;
	sse_src(c, i, &s, dbl ? 8 : 4, 0);
	static uint64_t (*const k[2][2][2])(const sse_v *) = {
	    {{k_tss2si32, k_tss2si64}, {k_ss2si32, k_ss2si64}},
	    {{k_tsd2si32, k_tsd2si64}, {k_sd2si32, k_sd2si64}},
	};
	uint32_t h = sse_host_enter(c);
	uint64_t r = k[dbl][i->op & 1][w](&s);
	sse_fp_flags(c, sse_host_leave(h));
	emu_setreg(c, i->reg, w ? 8 : 4, r);
	EMU_NEXT(c, i);
}

emu_fn sse_cvt_pick(const struct emu_insn *i)
{
	if (i->map != 1 || !(i->pfx & (EMU_PFX_F2 | EMU_PFX_F3)))
		return NULL;
	switch (i->op) {
	case 0x2a:
		return op_cvtsi2s;
	case 0x2c:
	case 0x2d:
		return op_cvts2si;
	}
	return NULL;
}
