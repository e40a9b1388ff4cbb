/* SPDX-License-Identifier: Apache-2.0 */
/* SSE/SSE2/SSE3 floating point: arithmetic (PS/PD/SS/SD), the packed
 * conversions, CMPccPS/PD/SS/SD, COMISS/COMISD/UCOMISS/UCOMISD and
 * RCPPS/RSQRTPS. Results come from the host instruction under the guest's
 * MXCSR (sse_impl.h), so rounding, FTZ/DAZ, NaN propagation and the
 * exception flags are the hardware's. RCP/RSQRT are computed here instead:
 * the hardware's approximation differs between processors, and a guest
 * should see the same bits on every host. */
#include "vm/emu/sse_impl.h"

#include <math.h>

typedef void (*sse_kf)(sse_v *d, const sse_v *s);

#define KF(name, insn)                                                                             \
	static void k_##name(sse_v *d, const sse_v *s)                                             \
	{                                                                                          \
		__asm__ volatile(insn " %1, %0" : "+x"(d->x) : "x"(s->x));                         \
	}
#define KF4(op) KF(op##ps, #op "ps") KF(op##pd, #op "pd") KF(op##ss, #op "ss") KF(op##sd, #op "sd")
KF4(sqrt)
KF4(add)
KF4(mul)
KF4(sub)
KF4(min)
KF4(div)
KF4(max)
KF(cvtps2pd, "cvtps2pd")
KF(cvtpd2ps, "cvtpd2ps")
KF(cvtss2sd, "cvtss2sd")
KF(cvtsd2ss, "cvtsd2ss")
KF(cvtdq2ps, "cvtdq2ps")
KF(cvtps2dq, "cvtps2dq")
KF(cvttps2dq, "cvttps2dq")
KF(cvttpd2dq, "cvttpd2dq")
KF(cvtpd2dq, "cvtpd2dq")
KF(cvtdq2pd, "cvtdq2pd")
KF(addsubps, "addsubps")
KF(addsubpd, "addsubpd")
KF(haddps, "haddps")
KF(haddpd, "haddpd")
KF(hsubps, "hsubps")
KF(hsubpd, "hsubpd")

/* ---- RCP/RSQRT (no exceptions, no MXCSR) ---- */
static uint32_t f2u(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}
static float u2f(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}
/* Within the architectural 1.5 * 2^-12 bound: the correctly rounded value.
 * Denormal inputs count as zero and tiny results are flushed to zero, as
 * Intel processors do. */
static uint32_t rcp1(uint32_t x)
{
	uint32_t sign = x & 0x80000000u, mag = x & 0x7fffffffu;
	if (mag > 0x7f800000u)
		return x | 0x00400000u;
	if (mag < 0x00800000u)
		return sign | 0x7f800000u;
	if (mag == 0x7f800000u)
		return sign;
	uint32_t r = f2u((float)(1.0 / (double)u2f(x)));
	return (r & 0x7fffffffu) < 0x00800000u ? sign : r;
}
static uint32_t rsqrt1(uint32_t x)
{
	uint32_t sign = x & 0x80000000u, mag = x & 0x7fffffffu;
	if (mag > 0x7f800000u)
		return x | 0x00400000u;
	if (mag < 0x00800000u)
		return sign | 0x7f800000u;
	if (sign)
		return 0xffc00000u;
	if (mag == 0x7f800000u)
		return 0;
	return f2u((float)(1.0 / sqrt((double)u2f(x))));
}
static void k_rcpps(sse_v *d, const sse_v *s)
{
	for (int k = 0; k < 4; k++)
		d->d[k] = rcp1(s->d[k]);
}
static void k_rcpss(sse_v *d, const sse_v *s)
{
	d->d[0] = rcp1(s->d[0]);
}
static void k_rsqrtps(sse_v *d, const sse_v *s)
{
	for (int k = 0; k < 4; k++)
		d->d[k] = rsqrt1(s->d[k]);
}
static void k_rsqrtss(sse_v *d, const sse_v *s)
{
	d->d[0] = rsqrt1(s->d[0]);
}

/* ---- CMPccPS/PD/SS/SD: one kernel per predicate ---- */
#define KC(sfx, n)                                                                                 \
	static void k_cmp##sfx##n(sse_v *d, const sse_v *s)                                        \
	{                                                                                          \
		__asm__ volatile("cmp" #sfx " $" #n ", %1, %0" : "+x"(d->x) : "x"(s->x));          \
	}
#define KC8(sfx)                                                                                   \
	KC(sfx, 0) KC(sfx, 1) KC(sfx, 2) KC(sfx, 3) KC(sfx, 4) KC(sfx, 5) KC(sfx, 6) KC(sfx, 7)
KC8(ps)
KC8(pd)
KC8(ss)
KC8(sd)
#define KCT(sfx)                                                                                   \
	{                                                                                          \
		k_cmp##sfx##0, k_cmp##sfx##1, k_cmp##sfx##2, k_cmp##sfx##3, k_cmp##sfx##4,         \
		    k_cmp##sfx##5, k_cmp##sfx##6, k_cmp##sfx##7                                    \
	}
static const sse_kf cmp_k[4][8] = {KCT(ps), KCT(pd), KCT(ss), KCT(sd)};

struct fp_ent {
	sse_kf k;
	uint8_t msz; /* memory operand bytes; 16 means aligned m128 */
	uint8_t mx;  /* runs under the guest MXCSR */
};

#define E(k, n)                                                                                    \
	{                                                                                          \
		k_##k, n, 1                                                                        \
	}
#define EN(k, n)                                                                                   \
	{                                                                                          \
		k_##k, n, 0                                                                        \
	}
/* [prefix index][opcode] */
static const struct fp_ent fp_tab[4][256] = {
    [0] = {[0x51] = E(sqrtps, 16),
           [0x52] = EN(rsqrtps, 16),
           [0x53] = EN(rcpps, 16),
           [0x58] = E(addps, 16),
           [0x59] = E(mulps, 16),
           [0x5a] = E(cvtps2pd, 8),
           [0x5b] = E(cvtdq2ps, 16),
           [0x5c] = E(subps, 16),
           [0x5d] = E(minps, 16),
           [0x5e] = E(divps, 16),
           [0x5f] = E(maxps, 16)},
    [1] = {[0x51] = E(sqrtpd, 16),
           [0x58] = E(addpd, 16),
           [0x59] = E(mulpd, 16),
           [0x5a] = E(cvtpd2ps, 16),
           [0x5b] = E(cvtps2dq, 16),
           [0x5c] = E(subpd, 16),
           [0x5d] = E(minpd, 16),
           [0x5e] = E(divpd, 16),
           [0x5f] = E(maxpd, 16),
           [0xe6] = E(cvttpd2dq, 16),
           [0xd0] = E(addsubpd, 16),
           [0x7c] = E(haddpd, 16),
           [0x7d] = E(hsubpd, 16)},
    [2] = {[0x51] = E(sqrtss, 4),
           [0x52] = EN(rsqrtss, 4),
           [0x53] = EN(rcpss, 4),
           [0x58] = E(addss, 4),
           [0x59] = E(mulss, 4),
           [0x5a] = E(cvtss2sd, 4),
           [0x5b] = E(cvttps2dq, 16),
           [0x5c] = E(subss, 4),
           [0x5d] = E(minss, 4),
           [0x5e] = E(divss, 4),
           [0x5f] = E(maxss, 4),
           [0xe6] = E(cvtdq2pd, 8)},
    [3] = {[0x51] = E(sqrtsd, 8),
           [0x58] = E(addsd, 8),
           [0x59] = E(mulsd, 8),
           [0x5a] = E(cvtsd2ss, 8),
           [0x5c] = E(subsd, 8),
           [0x5d] = E(minsd, 8),
           [0x5e] = E(divsd, 8),
           [0x5f] = E(maxsd, 8),
           [0xe6] = E(cvtpd2dq, 16),
           [0xd0] = E(addsubps, 16),
           [0x7c] = E(haddps, 16),
           [0x7d] = E(hsubps, 16)},
};
#undef E
#undef EN

sse_kern sse_fp_kernel(unsigned pidx, unsigned op)
{
	return fp_tab[pidx & 3][op & 0xff].k;
}

/* Result lanes of the arithmetic that can underflow: n floats (4 bytes)
 * or doubles (8 bytes) from lane 0; 0 for the rest */
static unsigned tiny_lanes(unsigned p, unsigned op, unsigned *size)
{
	static const uint8_t n[4] = {4, 2, 1, 1}, sz[4] = {4, 8, 4, 8};
	switch (op) {
	case 0x58:
	case 0x59:
	case 0x5c:
	case 0x5e:
		*size = sz[p];
		return n[p];
	case 0x5a: /* CVTPD2PS, CVTSD2SS */
		*size = 4;
		return p == 1 ? 2 : p == 3 ? 1 : 0;
	case 0x7c:
	case 0x7d:
	case 0xd0:
		*size = p == 1 ? 8 : 4;
		return p == 1 ? 2 : p == 3 ? 4 : 0;
	}
	return 0;
}

/* With underflow unmasked the processor reports a tiny result even when it
 * is exact (the host, running masked, flags only inexact ones): a denormal
 * result lane is one. */
static uint32_t tiny_exact(const struct emu_insn *i, const sse_v *d)
{
	unsigned size, n = tiny_lanes(sse_pidx(i), i->op, &size);
	for (unsigned k = 0; k < n; k++) {
		if (size == 4 && !(d->d[k] & 0x7f800000u) && (d->d[k] & 0x7fffffu))
			return 0x10;
		if (size == 8 && !(d->q[k] & 0x7ff0000000000000ULL) &&
		    (d->q[k] & 0xfffffffffffffULL))
			return 0x10;
	}
	return 0;
}

static void run_fp(struct emu_cpu *c, struct emu_insn *i, sse_kf k, unsigned msz, int mx)
{
	sse_check(c);
	sse_v d, s;
	sse_src(c, i, &s, msz, msz == 16);
	sse_get(c, i->reg, &d);
	if (mx) {
		uint32_t h = sse_host_enter(c);
		k(&d, &s);
		uint32_t fl = sse_host_leave(h);
		if (!(sse_mxcsr(c) & 0x800))
			fl |= tiny_exact(i, &d);
		sse_fp_flags(c, fl);
	} else {
		k(&d, &s);
	}
	sse_put(c, i->reg, &d);
}

static int op_fp(struct emu_cpu *c, struct emu_insn *i)
{
	const struct fp_ent *e = &fp_tab[sse_pidx(i)][i->op];
	run_fp(c, i, e->k, e->msz, e->mx);
	EMU_NEXT(c, i);
}

/* 0F C2 ib: the predicate is imm8[2:0] */
static int op_cmp(struct emu_cpu *c, struct emu_insn *i)
{
	static const uint8_t sz[4] = {16, 16, 4, 8};
	unsigned p = sse_pidx(i);
	run_fp(c, i, cmp_k[p][i->imm & 7], sz[p], 1);
	EMU_NEXT(c, i);
}

/* COMISS/UCOMISS (0F 2F/2E), COMISD/UCOMISD (66): ZF PF CF from the
 * comparison, OF SF AF cleared */
#define KCOMI(name)                                                                                \
	static unsigned k_##name(const sse_v *a, const sse_v *b)                                   \
	{                                                                                          \
		uint8_t z, p, cf;                                                                  \
		__asm__ volatile(#name " %4, %3\n\tsetz %0\n\tsetp %1\n\tsetc %2"                  \
		                 : "=q"(z), "=q"(p), "=q"(cf)                                      \
		                 : "x"(a->x), "x"(b->x)                                            \
		                 : "cc");                                                          \
		return (z ? EMU_F_ZF : 0) | (p ? EMU_F_PF : 0) | (cf ? EMU_F_CF : 0);              \
	}
KCOMI(comiss)
KCOMI(ucomiss)
KCOMI(comisd)
KCOMI(ucomisd)

static int op_comi(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	int dbl = (i->pfx & EMU_PFX_66) != 0;
	sse_v a, b;
	sse_src(c, i, &b, dbl ? 8 : 4, 0);
	sse_get(c, i->reg, &a);
	static unsigned (*const k[2][2])(const sse_v *, const sse_v *) = {
	    {k_ucomiss, k_comiss},
	    {k_ucomisd, k_comisd},
	};
	uint32_t h = sse_host_enter(c);
	unsigned f = k[dbl][i->op & 1](&a, &b);
	sse_fp_flags(c, sse_host_leave(h));
	uint64_t fl = emu_flags(c);
	emu_set_flags(c, (fl & ~(uint64_t)EMU_F_ARITH) | f);
	EMU_NEXT(c, i);
}

emu_fn sse_fp_pick(const struct emu_insn *i)
{
	if (i->map != 1)
		return NULL;
	unsigned p = sse_pidx(i);
	if (i->op == 0xc2)
		return op_cmp;
	if (i->op == 0x2e || i->op == 0x2f)
		return p <= 1 ? op_comi : NULL;
	return fp_tab[p][i->op].k ? op_fp : NULL;
}
