/* SPDX-License-Identifier: Apache-2.0 */
/* SSE/SSE2/SSE3 data movement: the 128-bit, scalar and half-register moves,
 * MOVD/MOVQ, the non-temporal stores, MASKMOVDQU and the sign-mask
 * extractions (MOVMSKPS/PD, PMOVMSKB). */
#include "vm/emu/sse_impl.h"

/* 16-byte loads and stores: the aligned forms are MOVAPS/MOVAPD (0F 28/29),
 * MOVDQA (66 0F 6F/7F), MOVNTPS/PD (0F 2B) and MOVNTDQ (66 0F E7). */
static int aligned16(const struct emu_insn *i)
{
	switch (i->op) {
	case 0x28:
	case 0x29:
	case 0x2b:
	case 0xe7:
		return 1;
	case 0x6f:
	case 0x7f:
		return (i->pfx & EMU_PFX_66) && !(i->pfx & (EMU_PFX_F2 | EMU_PFX_F3));
	}
	return 0;
}

static int op_load(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v v;
	sse_src(c, i, &v, 16, aligned16(i));
	sse_put(c, i->reg, &v);
	EMU_NEXT(c, i);
}

static int op_store(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v v;
	sse_get(c, i->reg, &v);
	if (!i->mem) {
		sse_put(c, i->rm, &v);
		return 0;
	}
	uint64_t la = emu_ea(c, i);
	if (aligned16(i) && (la & 15))
		emu_gp0(c);
	sse_wr(c, la, &v, 16);
	EMU_NEXT(c, i);
}

/* MOVSS/MOVSD (F3/F2 0F 10/11): a load from memory zeroes the rest, a
 * register move keeps it. */
static int op_movs(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	unsigned n = (i->pfx & EMU_PFX_F3) ? 4 : 8;
	if (i->op == 0x10) {
		if (i->mem) {
			sse_v v;
			sse_src(c, i, &v, n, 0);
			sse_put(c, i->reg, &v);
		} else {
			memmove(emu_xmm(c, i->reg), emu_xmm(c, i->rm), n);
		}
	} else if (i->mem) {
		sse_wr(c, emu_ea(c, i), emu_xmm(c, i->reg), n);
	} else {
		memmove(emu_xmm(c, i->rm), emu_xmm(c, i->reg), n);
	}
	EMU_NEXT(c, i);
}

/* 66 0F 6E: MOVD/MOVQ xmm, r/m32/64 */
static int op_movd_to(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	unsigned n = (i->pfx & EMU_PFX_REXW) ? 8 : 4;
	sse_v v = {0};
	v.q[0] = i->mem ? emu_rd(c, emu_ea(c, i), n) : emu_getreg(c, i->rm, n);
	sse_put(c, i->reg, &v);
	EMU_NEXT(c, i);
}
/* 66 0F 7E: MOVD/MOVQ r/m32/64, xmm */
static int op_movd_from(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	unsigned n = (i->pfx & EMU_PFX_REXW) ? 8 : 4;
	sse_v v;
	sse_get(c, i->reg, &v);
	if (i->mem)
		emu_wr(c, emu_ea(c, i), n, v.q[0]);
	else
		emu_setreg(c, i->rm, n, v.q[0]);
	EMU_NEXT(c, i);
}
/* F3 0F 7E: MOVQ xmm, xmm/m64 (upper half zeroed) */
static int op_movq_load(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v v;
	sse_src(c, i, &v, 8, 0);
	v.q[1] = 0;
	sse_put(c, i->reg, &v);
	EMU_NEXT(c, i);
}
/* 66 0F D6: MOVQ xmm/m64, xmm */
static int op_movq_store(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v v;
	sse_get(c, i->reg, &v);
	if (i->mem) {
		sse_wr(c, emu_ea(c, i), &v, 8);
	} else {
		v.q[1] = 0;
		sse_put(c, i->rm, &v);
	}
	EMU_NEXT(c, i);
}

/* 0F 12/16 and 66 0F 12/16: MOVLPS/MOVLPD/MOVHPS/MOVHPD loads, and with a
 * register source MOVHLPS (low = source high) / MOVLHPS (high = source low). */
static int op_movlh_load(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v d, s;
	sse_get(c, i->reg, &d);
	unsigned hi = i->op == 0x16;
	if (i->mem) {
		sse_src(c, i, &s, 8, 0);
		d.q[hi] = s.q[0];
	} else {
		sse_get(c, i->rm, &s);
		d.q[hi] = s.q[!hi];
	}
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}
/* 0F 13/17 (and 66): store the low / high quadword */
static int op_movlh_store(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v v;
	sse_get(c, i->reg, &v);
	sse_wr(c, emu_ea(c, i), &v.q[i->op == 0x17], 8);
	EMU_NEXT(c, i);
}

/* SSE3: MOVDDUP (F2 0F 12), MOVSLDUP (F3 0F 12), MOVSHDUP (F3 0F 16) */
static int op_movdup(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v s, d;
	if (i->pfx & EMU_PFX_F2) {
		sse_src(c, i, &s, 8, 0);
		d.q[0] = d.q[1] = s.q[0];
	} else {
		sse_src(c, i, &s, 16, 1);
		unsigned o = i->op == 0x16;
		d.d[0] = d.d[1] = s.d[o];
		d.d[2] = d.d[3] = s.d[2 + o];
	}
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}

/* MOVMSKPS/MOVMSKPD (0F 50, 66 0F 50), PMOVMSKB (66 0F D7) */
static int op_movmsk(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v v;
	sse_get(c, i->rm, &v);
	int m;
	if (i->op == 0xd7)
		m = _mm_movemask_epi8(v.x);
	else if (i->pfx & EMU_PFX_66)
		m = _mm_movemask_pd(_mm_castsi128_pd(v.x));
	else
		m = _mm_movemask_ps(_mm_castsi128_ps(v.x));
	c->s.gpr[i->reg] = (uint32_t)m;
	EMU_NEXT(c, i);
}

/* MOVNTI m32/64, r (0F C3) */
static int op_movnti(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned n = (i->pfx & EMU_PFX_REXW) ? 8 : 4;
	emu_wr(c, emu_ea(c, i), n, c->s.gpr[i->reg]);
	EMU_NEXT(c, i);
}

/* MASKMOVDQU xmm1, xmm2 (66 0F F7): bytes of xmm1 whose mask byte in xmm2
 * has its top bit set go to DS:rDI (segment override allowed). */
static int op_maskmov(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v v, m;
	sse_get(c, i->reg, &v);
	sse_get(c, i->rm, &m);
	uint64_t a = c->s.gpr[X86_RDI];
	if (i->asz == 4)
		a = (uint32_t)a;
	else if (i->asz == 2)
		a = (uint16_t)a;
	for (unsigned k = 0; k < 16; k++)
		if (m.b[k] & 0x80)
			emu_wr8(c, (a + k + c->segbase[i->seg]) & c->la_mask, v.b[k]);
	EMU_NEXT(c, i);
}

emu_fn sse_move_pick(const struct emu_insn *i)
{
	if (i->map != 1)
		return NULL;
	unsigned p = sse_pidx(i);
	switch (i->op) {
	case 0x10:
	case 0x11:
		if (p >= 2)
			return op_movs;
		return i->op == 0x10 ? op_load : op_store;
	case 0x12:
	case 0x16:
		if (p == 0 || (p == 1 && i->mem))
			return op_movlh_load;
		if (p == 3 && i->op == 0x12)
			return op_movdup;
		return p == 2 ? op_movdup : NULL;
	case 0x13:
	case 0x17:
		return p <= 1 && i->mem ? op_movlh_store : NULL;
	case 0x28:
		return p <= 1 ? op_load : NULL;
	case 0x29:
		return p <= 1 ? op_store : NULL;
	case 0x2b:
		return p <= 1 && i->mem ? op_store : NULL;
	case 0x50:
		return p <= 1 && !i->mem ? op_movmsk : NULL;
	case 0xd7:
		return p == 1 && !i->mem ? op_movmsk : NULL;
	case 0x6f:
		return p == 1 || p == 2 ? op_load : NULL;
	case 0x7f:
		return p == 1 || p == 2 ? op_store : NULL;
	case 0xe7:
		return p == 1 && i->mem ? op_store : NULL;
	case 0xf0:
		return p == 3 && i->mem ? op_load : NULL; /* LDDQU */
	case 0x6e:
		return p == 1 ? op_movd_to : NULL;
	case 0x7e:
		return p == 1 ? op_movd_from : p == 2 ? op_movq_load : NULL;
	case 0xd6:
		return p == 1 ? op_movq_store : NULL;
	case 0xc3:
		return p == 0 && i->mem ? op_movnti : NULL;
	case 0xf7:
		return p == 1 && !i->mem ? op_maskmov : NULL;
	}
	return NULL;
}
