/* SPDX-License-Identifier: Apache-2.0 */
/* MMX (and the SSE/SSE2/SSSE3 instructions on MMX registers): MMi is the
 * low 64 bits of x87 physical register i. An MMX instruction sets TOP to
 * 0 and every tag to valid, and a write to MMi sets the register's sign
 * and exponent bits to ones; EMMS empties the tags. The operations reuse
 * the 128-bit kernels on the low half, arranging the operands where the
 * MMX form's lanes differ (unpack high, pack, horizontal add). */
#include "vm/emu/sse_impl.h"
#include "vm/emu/x87_impl.h"

/* #UD with CR0.EM, #NM with CR0.TS, #MF for a pending x87 exception; then
 * the x87-to-MMX transition */
static void mmx_enter(struct emu_cpu *c)
{
	if (c->s.cr0 & EMU_CR0_EM)
		emu_ud(c);
	if (c->s.cr0 & EMU_CR0_TS)
		emu_raise(c, EMU_NM, EMU_NOERR, 0);
	if (x87_sw(c) & X87_ES)
		emu_raise(c, EMU_MF, EMU_NOERR, 0);
	x87_set_top(c, 0);
	c->s.fx.bytes[4] = 0xff;
}
static uint64_t mm_get(struct emu_cpu *c, unsigned n)
{
	uint64_t v;
	memcpy(&v, x87_st(c, n & 7), 8);
	return v;
}
static void mm_put(struct emu_cpu *c, unsigned n, uint64_t v)
{
	uint8_t *r = x87_st(c, n & 7);
	memcpy(r, &v, 8);
	r[8] = r[9] = 0xff;
	memset(r + 10, 0, 6);
}
/* the mm/m64 source */
static uint64_t mm_src(struct emu_cpu *c, const struct emu_insn *i)
{
	return i->mem ? emu_rd64(c, emu_ea(c, i)) : mm_get(c, i->rm);
}

static int op_emms(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	if (c->s.cr0 & EMU_CR0_EM)
		emu_ud(c);
	if (c->s.cr0 & EMU_CR0_TS)
		emu_raise(c, EMU_NM, EMU_NOERR, 0);
	if (x87_sw(c) & X87_ES)
		emu_raise(c, EMU_MF, EMU_NOERR, 0);
	c->s.fx.bytes[4] = 0;
	EMU_NEXT(c, i);
}

/* mm, mm/m64 with a 128-bit kernel */
static int op_k2(struct emu_cpu *c, struct emu_insn *i)
{
	mmx_enter(c);
	unsigned op = i->op;
	/* unpack low reads m32 */
	uint64_t s = (i->mem && i->map == 1 && op >= 0x60 && op <= 0x62) ? emu_rd32(c, emu_ea(c, i))
	                                                                 : mm_src(c, i);
	uint64_t d = mm_get(c, i->reg);
	sse_v a = {0}, b = {0};
	if (i->map == 2 && op != 0x00) { /* SSSE3 */
		a.q[0] = d, b.q[0] = s;
		if ((op >= 0x01 && op <= 0x03) || (op >= 0x05 && op <= 0x07))
			a.q[1] = s, b = a; /* horizontal: destination pairs, then source pairs */
		sse_v r;
		sse_ssse3_op(&r, &a, &b, op);
		mm_put(c, i->reg, r.q[0]);
		return 0;
	}
	if (i->map == 2) { /* PSHUFB: index bits 2:0 */
		uint8_t db[8], sb[8], rb[8];
		memcpy(db, &d, 8);
		memcpy(sb, &s, 8);
		for (int k = 0; k < 8; k++)
			rb[k] = (sb[k] & 0x80) ? 0 : db[sb[k] & 7];
		memcpy(&d, rb, 8);
		mm_put(c, i->reg, d);
		return 0;
	}
	int hi = 0;
	switch (op) {
	case 0x63:
	case 0x67:
	case 0x6b: /* packs: [d, s] packed with itself */
		a.q[0] = d, a.q[1] = s, b = a;
		break;
	case 0x68 ... 0x6a: /* unpack high: the high half of unpack low */
		op -= 8, hi = 1;
		/* fall through */
	default:
		a.q[0] = d, b.q[0] = s;
		break;
	}
	sse_int_kernel(op)(&a, &b);
	mm_put(c, i->reg, a.q[hi]);
	EMU_NEXT(c, i);
}

/* MOVD/MOVQ mm, r/m32|64 (0F 6E); MOVQ mm, mm/m64 (0F 6F) */
static int op_mov_to(struct emu_cpu *c, struct emu_insn *i)
{
	mmx_enter(c);
	uint64_t v;
	if (i->op == 0x6f) {
		v = mm_src(c, i);
	} else {
		unsigned n = (i->pfx & EMU_PFX_REXW) ? 8 : 4;
		v = i->mem ? emu_rd(c, emu_ea(c, i), n) : emu_getreg(c, i->rm, n);
	}
	mm_put(c, i->reg, v);
	EMU_NEXT(c, i);
}
/* MOVD/MOVQ r/m32|64, mm (0F 7E); MOVQ mm/m64, mm (0F 7F); MOVNTQ (0F E7) */
static int op_mov_from(struct emu_cpu *c, struct emu_insn *i)
{
	mmx_enter(c);
	uint64_t v = mm_get(c, i->reg);
	unsigned n = (i->op != 0x7e || (i->pfx & EMU_PFX_REXW)) ? 8 : 4;
	if (i->mem)
		emu_wr(c, emu_ea(c, i), n, v);
	else if (i->op == 0x7e)
		emu_setreg(c, i->rm, n, v);
	else
		mm_put(c, i->rm, v);
	EMU_NEXT(c, i);
}

/* 0F 71/72/73 /digit ib on mm */
static int op_shift_imm(struct emu_cpu *c, struct emu_insn *i)
{
	mmx_enter(c);
	static const uint8_t reg_op[3][8] = {
	    {[2] = 0xd1, [4] = 0xe1, [6] = 0xf1},
	    {[2] = 0xd2, [4] = 0xe2, [6] = 0xf2},
	    {[2] = 0xd3, [6] = 0xf3},
	};
	sse_v a = {0}, n = {0};
	a.q[0] = mm_get(c, i->rm);
	n.q[0] = i->imm & 0xff;
	sse_int_kernel(reg_op[i->op - 0x71][i->ext])(&a, &n);
	mm_put(c, i->rm, a.q[0]);
	EMU_NEXT(c, i);
}

/* PSHUFW mm, mm/m64, imm8 (0F 70) */
static int op_pshufw(struct emu_cpu *c, struct emu_insn *i)
{
	mmx_enter(c);
	uint64_t s = mm_src(c, i), r = 0;
	for (unsigned k = 0; k < 4; k++)
		r |= ((s >> (16 * ((i->imm >> (2 * k)) & 3))) & 0xffff) << (16 * k);
	mm_put(c, i->reg, r);
	EMU_NEXT(c, i);
}

/* PINSRW mm, r32/m16, imm8 (0F C4); PEXTRW r32, mm, imm8 (0F C5) */
static int op_pinsrw(struct emu_cpu *c, struct emu_insn *i)
{
	mmx_enter(c);
	uint64_t w = i->mem ? emu_rd16(c, emu_ea(c, i)) : (uint16_t)c->s.gpr[i->rm];
	unsigned sh = 16 * (i->imm & 3);
	uint64_t d = mm_get(c, i->reg);
	mm_put(c, i->reg, (d & ~(0xffffULL << sh)) | w << sh);
	EMU_NEXT(c, i);
}
static int op_pextrw(struct emu_cpu *c, struct emu_insn *i)
{
	mmx_enter(c);
	c->s.gpr[i->reg] = (mm_get(c, i->rm) >> (16 * (i->imm & 3))) & 0xffff;
	EMU_NEXT(c, i);
}

/* PMOVMSKB r32, mm (0F D7) */
static int op_pmovmskb(struct emu_cpu *c, struct emu_insn *i)
{
	mmx_enter(c);
	uint64_t v = mm_get(c, i->rm);
	uint32_t m = 0;
	for (int k = 0; k < 8; k++)
		m |= (uint32_t)((v >> (8 * k + 7)) & 1) << k;
	c->s.gpr[i->reg] = m;
	EMU_NEXT(c, i);
}

/* MASKMOVQ mm1, mm2 (0F F7): bytes of mm1 to DS:rDI where mm2's byte has its top bit */
static int op_maskmovq(struct emu_cpu *c, struct emu_insn *i)
{
	mmx_enter(c);
	uint64_t v = mm_get(c, i->reg), m = mm_get(c, i->rm);
	uint64_t a = c->s.gpr[X86_RDI];
	if (i->asz == 4)
		a = (uint32_t)a;
	else if (i->asz == 2)
		a = (uint16_t)a;
	for (unsigned k = 0; k < 8; k++)
		if ((m >> (8 * k + 7)) & 1)
			emu_wr8(c, (a + k + c->segbase[i->seg]) & c->la_mask,
			        (uint8_t)(v >> (8 * k)));
	EMU_NEXT(c, i);
}

/* PALIGNR mm, mm/m64, imm8 (0F 3A 0F) */
static int op_palignr(struct emu_cpu *c, struct emu_insn *i)
{
	mmx_enter(c);
	uint64_t s = mm_src(c, i), d = mm_get(c, i->reg), r = 0;
	unsigned n = (unsigned)(i->imm & 0xff);
	for (unsigned k = 0; k < 8; k++) {
		unsigned j = k + n;
		uint64_t b = j < 8    ? (s >> (8 * j)) & 0xff
		             : j < 16 ? (d >> (8 * (j - 8))) & 0xff
		                      : 0;
		r |= b << (8 * k);
	}
	mm_put(c, i->reg, r);
	EMU_NEXT(c, i);
}

/* MOVQ2DQ xmm, mm (F3 0F D6) / MOVDQ2Q mm, xmm (F2 0F D6) */
static int op_movq2dq(struct emu_cpu *c, struct emu_insn *i)
{
	if (!(c->s.cr4 & EMU_CR4_OSFXSR))
		emu_ud(c);
	mmx_enter(c);
	sse_v v = {0};
	if (i->pfx & EMU_PFX_F3) {
		v.q[0] = mm_get(c, i->rm);
		sse_put(c, i->reg, &v);
	} else {
		sse_get(c, i->rm, &v);
		mm_put(c, i->reg, v.q[0]);
	}
	EMU_NEXT(c, i);
}

/* CVTPI2PS/CVTPI2PD xmm, mm/m64 (0F 2A, 66 0F 2A) and CVT(T)PS2PI /
 * CVT(T)PD2PI mm, xmm/m (0F 2C/2D, 66): the packed conversions on two
 * lanes, under the guest MXCSR */
static int op_cvtpi(struct emu_cpu *c, struct emu_insn *i)
{
	int pd = (i->pfx & EMU_PFX_66) != 0;
	if (i->op == 0x2a && pd && i->mem)
		sse_check(c); /* CVTPI2PD from memory does not touch the MMX state */
	else if (!(c->s.cr4 & EMU_CR4_OSFXSR))
		emu_ud(c);
	else
		mmx_enter(c);
	sse_v d, s = {0};
	sse_kern k;
	if (i->op == 0x2a) {
		s.q[0] = mm_src(c, i);
		sse_get(c, i->reg, &d);
		sse_v r = d;
		k = pd ? sse_fp_kernel(2, 0xe6) : sse_fp_kernel(0, 0x5b); /* CVTDQ2PD/PS */
		uint32_t h = sse_host_enter(c);
		k(&r, &s);
		sse_fp_flags(c, sse_host_leave(h));
		if (pd)
			d = r;
		else
			d.q[0] = r.q[0];
		sse_put(c, i->reg, &d);
		return 0;
	}
	sse_src(c, i, &s, pd ? 16 : 8, pd);
	if (!pd)
		s.q[1] = 0;
	int trunc = i->op == 0x2c;
	/* CVT(T)PD2DQ: F2 E6 / 66 E6; CVT(T)PS2DQ: 66 5B / F3 5B */
	k = pd ? (trunc ? sse_fp_kernel(1, 0xe6) : sse_fp_kernel(3, 0xe6))
	       : (trunc ? sse_fp_kernel(2, 0x5b) : sse_fp_kernel(1, 0x5b));
	d = s;
	uint32_t h = sse_host_enter(c);
	k(&d, &s);
	sse_fp_flags(c, sse_host_leave(h));
	mm_put(c, i->reg, d.q[0]);
	EMU_NEXT(c, i);
}

static int mmx_k2_op(unsigned op)
{
	return (op >= 0x60 && op <= 0x6b) || (op >= 0x74 && op <= 0x76) ||
	       (op >= 0xd1 && op <= 0xd5) || (op >= 0xd8 && op <= 0xe5) ||
	       (op >= 0xe8 && op <= 0xef) || (op >= 0xf1 && op <= 0xf6) ||
	       (op >= 0xf8 && op <= 0xfe);
}

emu_fn sse_mmx_pick(const struct emu_insn *i)
{
	unsigned p = sse_pidx(i), op = i->op;
	if (i->map == 2)
		return p == 0 && (op <= 0x0b || (op >= 0x1c && op <= 0x1e)) ? op_k2 : NULL;
	if (i->map == 3)
		return p == 0 && op == 0x0f ? op_palignr : NULL;
	if (i->map != 1)
		return NULL;
	if (op == 0xd6)
		return p >= 2 && !i->mem ? op_movq2dq : NULL;
	if (op == 0x2a || op == 0x2c || op == 0x2d)
		return p <= 1 ? op_cvtpi : NULL;
	if (p)
		return NULL;
	if (mmx_k2_op(op))
		return op_k2;
	switch (op) {
	case 0x77:
		return op_emms;
	case 0x6e:
	case 0x6f:
		return op_mov_to;
	case 0x7e:
	case 0x7f:
		return op_mov_from;
	case 0xe7:
		return i->mem ? op_mov_from : NULL;
	case 0x70:
		return op_pshufw;
	case 0x71:
	case 0x72:
	case 0x73: {
		static const uint8_t ok[3] = {0x54, 0x54, 0x44};
		return !i->mem && ((ok[op - 0x71] >> i->ext) & 1) ? op_shift_imm : NULL;
	}
	case 0xc4:
		return op_pinsrw;
	case 0xc5:
		return i->mem ? NULL : op_pextrw;
	case 0xd7:
		return i->mem ? NULL : op_pmovmskb;
	case 0xf7:
		return i->mem ? NULL : op_maskmovq;
	}
	return NULL;
}
