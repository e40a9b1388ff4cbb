/* SPDX-License-Identifier: Apache-2.0 */
/* SSE4.1 floating point: ROUNDPS/PD/SS/SD (66 0F 3A 08-0B) and
 * DPPS/DPPD (66 0F 3A 40/41). Rounding to an integer is done on the bits
 * (the host need not have SSE4.1); the dot products use the host's SSE2
 * multiply and add, one step at a time in the architectural order, under
 * the guest's MXCSR. */
#include "vm/emu/sse_impl.h"

#define MX_IE 0x01u
#define MX_PE 0x20u

/* Round the float of `mb` mantissa and `eb` exponent bits in v to an
 * integer: mode 0 nearest-even, 1 down, 2 up, 3 toward zero. */
static uint64_t round_bits(uint64_t v, unsigned mb, unsigned eb, unsigned mode, int daz,
                           uint32_t *fl)
{
	uint64_t sign = v & (1ULL << (mb + eb)), emax = (1ULL << eb) - 1, bias = emax >> 1;
	uint64_t exp = (v >> mb) & emax, man = v & ((1ULL << mb) - 1);
	if (exp == emax) {
		if (man && !((man >> (mb - 1)) & 1)) {
			*fl |= MX_IE;
			return v | (1ULL << (mb - 1));
		}
		return v;
	}
	if (exp == 0 && man && daz)
		return sign;
	if (exp >= bias + mb)
		return v;
	uint64_t m = man | (exp ? 1ULL << mb : 0);
	uint64_t shift = bias + mb - (exp ? exp : 1), ip, rem, half;
	int above, at;
	if (shift >= 64) {
		ip = 0, rem = m;
		above = 0, at = 0;
	} else {
		ip = m >> shift, rem = m & ((1ULL << shift) - 1), half = 1ULL << (shift - 1);
		above = rem > half, at = rem == half;
	}
	if (!rem)
		return v;
	*fl |= MX_PE;
	int inc;
	switch (mode) {
	case 0:
		inc = above || (at && (ip & 1));
		break;
	case 1:
		inc = sign != 0;
		break;
	case 2:
		inc = sign == 0;
		break;
	default:
		inc = 0;
		break;
	}
	ip += (uint64_t)inc;
	if (!ip)
		return sign;
	unsigned p = 63 - (unsigned)__builtin_clzll(ip);
	return sign | (bias + p) << mb | ((ip << (mb - p)) & ((1ULL << mb) - 1));
}

static int op_round(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	unsigned op = i->op, imm = (unsigned)i->imm;
	uint32_t mx = sse_mxcsr(c), fl = 0;
	unsigned mode = (imm & 4) ? (mx >> 13) & 3 : imm & 3;
	int daz = (mx & 0x40) != 0;
	sse_v s, d;
	sse_src(c, i, &s, op == 0x0a ? 4 : op == 0x0b ? 8 : 16, op < 0x0a);
	sse_get(c, i->reg, &d);
	if (op == 0x08 || op == 0x0a) {
		for (int k = 0; k < (op == 0x08 ? 4 : 1); k++)
			d.d[k] = (uint32_t)round_bits(s.d[k], 23, 8, mode, daz, &fl);
	} else {
		for (int k = 0; k < (op == 0x09 ? 2 : 1); k++)
			d.q[k] = round_bits(s.q[k], 52, 11, mode, daz, &fl);
	}
	if (imm & 8)
		fl &= ~MX_PE;
	sse_fp_flags(c, fl);
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}

static float mulf(float a, float b)
{
	__asm__ volatile("mulss %1, %0" : "+x"(a) : "x"(b));
	return a;
}
static float addf(float a, float b)
{
	__asm__ volatile("addss %1, %0" : "+x"(a) : "x"(b));
	return a;
}
static double muld(double a, double b)
{
	__asm__ volatile("mulsd %1, %0" : "+x"(a) : "x"(b));
	return a;
}
static double addd(double a, double b)
{
	__asm__ volatile("addsd %1, %0" : "+x"(a) : "x"(b));
	return a;
}

/* DPPS / DPPD xmm, xmm/m128, imm8: imm[7:4] selects the products, imm[3:0]
 * the lanes that receive the sum */
static int op_dp(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	unsigned m = (unsigned)i->imm;
	sse_v s, d, r;
	sse_src(c, i, &s, 16, 1);
	sse_get(c, i->reg, &d);
	uint32_t h = sse_host_enter(c);
	if (i->op == 0x40) {
		float t[4];
		for (int k = 0; k < 4; k++)
			t[k] = ((m >> (4 + k)) & 1) ? mulf(d.f[k], s.f[k]) : 0.0f;
		float sum = addf(addf(t[0], t[1]), addf(t[2], t[3]));
		for (int k = 0; k < 4; k++)
			r.f[k] = ((m >> k) & 1) ? sum : 0.0f;
	} else {
		double t[2];
		for (int k = 0; k < 2; k++)
			t[k] = ((m >> (4 + k)) & 1) ? muld(d.g[k], s.g[k]) : 0.0;
		double sum = addd(t[0], t[1]);
		for (int k = 0; k < 2; k++)
			r.g[k] = ((m >> k) & 1) ? sum : 0.0;
	}
	sse_fp_flags(c, sse_host_leave(h));
	sse_put(c, i->reg, &r);
	EMU_NEXT(c, i);
}

emu_fn sse_sse41fp_pick(const struct emu_insn *i)
{
	if (sse_pidx(i) != 1 || i->map != 3)
		return NULL;
	if (i->op >= 0x08 && i->op <= 0x0b)
		return op_round;
	if (i->op == 0x40 || i->op == 0x41)
		return op_dp;
	return NULL;
}
