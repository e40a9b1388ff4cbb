/* SPDX-License-Identifier: Apache-2.0 */
/* SSE4.1 integer, blend, insert/extract and test instructions on XMM
 * registers (66 0F 38 10-41, 66 0F 3A 0C-22, 42), written in C so that the
 * host need not have SSE4.1. ROUNDxx and DPPS/DPPD are in sse_sse41fp.c. */
#include "vm/emu/sse_impl.h"

/* ---- 66 0F 38: xmm, xmm/m128 ---- */
static void minmax(sse_v *d, const sse_v *s, unsigned op)
{
	int mx = op >= 0x3c;
	switch (op & 3) {
	case 0: /* PMINSB / PMAXSB */
		for (int k = 0; k < 16; k++)
			if ((s->sb[k] < d->sb[k]) != mx && s->sb[k] != d->sb[k])
				d->sb[k] = s->sb[k];
		break;
	case 1: /* PMINSD / PMAXSD */
		for (int k = 0; k < 4; k++)
			if ((s->sd[k] < d->sd[k]) != mx && s->sd[k] != d->sd[k])
				d->sd[k] = s->sd[k];
		break;
	case 2: /* PMINUW / PMAXUW */
		for (int k = 0; k < 8; k++)
			if ((s->w[k] < d->w[k]) != mx && s->w[k] != d->w[k])
				d->w[k] = s->w[k];
		break;
	default: /* PMINUD / PMAXUD */
		for (int k = 0; k < 4; k++)
			if ((s->d[k] < d->d[k]) != mx && s->d[k] != d->d[k])
				d->d[k] = s->d[k];
		break;
	}
}

static uint16_t satu16(int32_t v)
{
	return (uint16_t)(v < 0 ? 0 : v > 0xffff ? 0xffff : v);
}

/* PHMINPOSUW: the smallest word and its index */
static void phminposuw(sse_v *d, const sse_v *s)
{
	unsigned idx = 0;
	for (unsigned k = 1; k < 8; k++)
		if (s->w[k] < s->w[idx])
			idx = k;
	uint16_t m = s->w[idx];
	memset(d, 0, sizeof(*d));
	d->w[0] = m;
	d->w[1] = (uint16_t)idx;
}

static void op38(struct emu_cpu *c, sse_v *d, const sse_v *s, unsigned op)
{
	sse_v x0, r;
	switch (op) {
	case 0x10: /* PBLENDVB */
	case 0x14: /* BLENDVPS */
	case 0x15: /* BLENDVPD */
		sse_get(c, 0, &x0);
		for (int k = 0; k < 16; k++) {
			unsigned top = op == 0x10 ? (unsigned)k : op == 0x14 ? (k | 3u) : (k | 7u);
			if (x0.b[top] & 0x80)
				d->b[k] = s->b[k];
		}
		break;
	case 0x28: /* PMULDQ */
		r.sq[0] = (int64_t)d->sd[0] * s->sd[0];
		r.sq[1] = (int64_t)d->sd[2] * s->sd[2];
		*d = r;
		break;
	case 0x29: /* PCMPEQQ */
		for (int k = 0; k < 2; k++)
			d->q[k] = d->q[k] == s->q[k] ? ~0ULL : 0;
		break;
	case 0x2a: /* MOVNTDQA */
		*d = *s;
		break;
	case 0x2b: /* PACKUSDW */
		for (int k = 0; k < 4; k++) {
			r.w[k] = satu16(d->sd[k]);
			r.w[4 + k] = satu16(s->sd[k]);
		}
		*d = r;
		break;
	case 0x38 ... 0x3f:
		minmax(d, s, op);
		break;
	case 0x40: /* PMULLD */
		for (int k = 0; k < 4; k++)
			d->d[k] = d->d[k] * s->d[k];
		break;
	case 0x41:
		phminposuw(d, s);
		break;
	}
}

static int op_38(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v d, s;
	sse_src(c, i, &s, 16, 1);
	sse_get(c, i->reg, &d);
	op38(c, &d, &s, i->op);
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}

/* PMOVSX (66 0F 38 20-25) / PMOVZX (30-35): BW BD BQ WD WQ DQ */
static int op_pmovx(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	static const uint8_t from[6] = {1, 1, 1, 2, 2, 4}, to[6] = {2, 4, 8, 4, 8, 8};
	unsigned k = i->op & 7, f = from[k], t = to[k], n = 16 / t;
	int sx = i->op < 0x30;
	sse_v s, r;
	sse_src(c, i, &s, n * f, 0);
	for (unsigned j = 0; j < n; j++) {
		uint64_t v = 0;
		memcpy(&v, &s.b[j * f], f);
		if (sx && (v >> (8 * f - 1)) & 1)
			v |= ~0ULL << (8 * f);
		memcpy(&r.b[j * t], &v, t);
	}
	sse_put(c, i->reg, &r);
	EMU_NEXT(c, i);
}

/* PTEST: ZF = (dest AND src) == 0, CF = (NOT dest AND src) == 0 */
static int op_ptest(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v d, s;
	sse_src(c, i, &s, 16, 1);
	sse_get(c, i->reg, &d);
	int z = !((d.q[0] & s.q[0]) | (d.q[1] & s.q[1]));
	int cf = !((~d.q[0] & s.q[0]) | (~d.q[1] & s.q[1]));
	uint64_t f = emu_flags(c) & ~(uint64_t)EMU_F_ARITH;
	emu_set_flags(c, f | (z ? EMU_F_ZF : 0) | (cf ? EMU_F_CF : 0));
	EMU_NEXT(c, i);
}

/* ---- 66 0F 3A ---- */
/* BLENDPS/BLENDPD/PBLENDW/MPSADBW xmm, xmm/m128, imm8 */
static int op_3a_imm(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v d, s, r;
	sse_src(c, i, &s, 16, 1);
	sse_get(c, i->reg, &d);
	unsigned m = (unsigned)i->imm & 0xff;
	switch (i->op) {
	case 0x0c:
		for (int k = 0; k < 4; k++)
			if ((m >> k) & 1)
				d.d[k] = s.d[k];
		break;
	case 0x0d:
		for (int k = 0; k < 2; k++)
			if ((m >> k) & 1)
				d.q[k] = s.q[k];
		break;
	case 0x0e:
		for (int k = 0; k < 8; k++)
			if ((m >> k) & 1)
				d.w[k] = s.w[k];
		break;
	case 0x42: { /* MPSADBW */
		unsigned so = 4 * (m & 3), dof = 4 * ((m >> 2) & 1);
		for (unsigned k = 0; k < 8; k++) {
			unsigned sum = 0;
			for (unsigned j = 0; j < 4; j++) {
				int a = d.b[dof + k + j], b = s.b[so + j];
				sum += (unsigned)(a > b ? a - b : b - a);
			}
			r.w[k] = (uint16_t)sum;
		}
		d = r;
		break;
	}
	}
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}

/* PEXTRB/PEXTRW/PEXTRD/PEXTRQ/EXTRACTPS r/m, xmm, imm8 (66 0F 3A 14-17) */
static int op_pextr(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v s;
	sse_get(c, i->reg, &s);
	unsigned n = i->op == 0x14                                ? 1
	             : i->op == 0x15                              ? 2
	             : (i->op == 0x16 && (i->pfx & EMU_PFX_REXW)) ? 8
	                                                          : 4;
	unsigned idx = (unsigned)i->imm & (16 / n - 1);
	uint64_t v = 0;
	memcpy(&v, &s.b[idx * n], n);
	if (i->mem)
		emu_wr(c, emu_ea(c, i), n, v);
	else
		emu_setreg(c, i->rm, n == 8 ? 8 : 4, v);
	EMU_NEXT(c, i);
}

/* PINSRB/PINSRD/PINSRQ xmm, r/m, imm8 (66 0F 3A 20, 22) */
static int op_pinsr(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	unsigned n = i->op == 0x20 ? 1 : (i->pfx & EMU_PFX_REXW) ? 8 : 4;
	uint64_t v = i->mem ? emu_rd(c, emu_ea(c, i), n) : c->s.gpr[i->rm];
	sse_v d;
	sse_get(c, i->reg, &d);
	memcpy(&d.b[((unsigned)i->imm & (16 / n - 1)) * n], &v, n);
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}

/* INSERTPS xmm, xmm/m32, imm8 (66 0F 3A 21) */
static int op_insertps(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	unsigned m = (unsigned)i->imm & 0xff;
	uint32_t v;
	if (i->mem) {
		v = emu_rd32(c, emu_ea(c, i));
	} else {
		sse_v s;
		sse_get(c, i->rm, &s);
		v = s.d[m >> 6];
	}
	sse_v d;
	sse_get(c, i->reg, &d);
	d.d[(m >> 4) & 3] = v;
	for (int k = 0; k < 4; k++)
		if ((m >> k) & 1)
			d.d[k] = 0;
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}

emu_fn sse_sse41_pick(const struct emu_insn *i)
{
	if (sse_pidx(i) != 1)
		return NULL;
	if (i->map == 2) {
		switch (i->op) {
		case 0x10:
		case 0x14:
		case 0x15:
		case 0x28:
		case 0x29:
		case 0x2b:
		case 0x38 ... 0x41:
			return op_38;
		case 0x2a:
			return i->mem ? op_38 : NULL;
		case 0x17:
			return op_ptest;
		case 0x20 ... 0x25:
		case 0x30 ... 0x35:
			return op_pmovx;
		}
		return NULL;
	}
	if (i->map != 3)
		return NULL;
	switch (i->op) {
	case 0x0c ... 0x0e:
	case 0x42:
		return op_3a_imm;
	case 0x14 ... 0x17:
		return op_pextr;
	case 0x20:
	case 0x22:
		return op_pinsr;
	case 0x21:
		return op_insertps;
	}
	return NULL;
}
