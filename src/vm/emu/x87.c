/* SPDX-License-Identifier: Apache-2.0 */
/* x87 dispatch (emu_x87_pick asks each group file), the register stack
 * and exception bookkeeping shared by the x87 files, and the control
 * instructions (FNINIT, FNCLEX, FLDCW/FNSTCW, FNSTSW, FWAIT, FFREE(P),
 * FINCSTP/FDECSTP, FNOP). */
#include "vm/emu/x87_impl.h"

void x87_dec_top(struct emu_cpu *c)
{
	uint8_t *r = x87_st(c, 0), last[16];
	memcpy(last, r + 112, 16);
	memmove(r + 16, r, 112);
	memcpy(r, last, 16);
	x87_set_sw(c, (uint16_t)((x87_sw(c) & ~0x3800u) | ((x87_top(c) - 1) & 7) << 11));
}
void x87_inc_top(struct emu_cpu *c)
{
	uint8_t *r = x87_st(c, 0), first[16];
	memcpy(first, r, 16);
	memmove(r, r + 16, 112);
	memcpy(r + 112, first, 16);
	x87_set_sw(c, (uint16_t)((x87_sw(c) & ~0x3800u) | ((x87_top(c) + 1) & 7) << 11));
}
void x87_set_top(struct emu_cpu *c, unsigned top)
{
	while (x87_top(c) != (top & 7))
		x87_inc_top(c);
}
void x87_init(struct emu_cpu *c)
{
	x87_set_top(c, 0);
	x87_put16(c, 0, 0x37f);
	x87_put16(c, 2, 0);
	c->s.fx.bytes[4] = 0;
	memset(&c->s.fx.bytes[6], 0, 18); /* FOP, FIP, FDP */
}
void x87_push(struct emu_cpu *c, const uint8_t v[10])
{
	x87_dec_top(c);
	x87_put(c, 0, v);
}
void x87_pop(struct emu_cpu *c)
{
	x87_set_tag(c, 0, 0);
	x87_inc_top(c);
}

void x87_begin(struct emu_cpu *c, const struct emu_insn *i)
{
	emu_fp_check(c, 1);
	if (x87_sw(c) & X87_ES)
		emu_raise(c, EMU_MF, EMU_NOERR, 0);
	uint16_t fop = (uint16_t)(((i->op & 7) << 8) | i->modrm);
	x87_put16(c, 6, fop);
	uint64_t ip = c->rip + i->off;
	memcpy(&c->s.fx.bytes[8], &ip, 8);
	if (i->mem) {
		uint64_t dp = emu_ea(c, i);
		memcpy(&c->s.fx.bytes[16], &dp, 8);
	}
}

static uint16_t fault_sw(uint16_t sw, unsigned fault)
{
	sw |= X87_IE | X87_SF;
	return (uint16_t)((sw & ~X87_C1) | (fault == X87_OVER ? X87_C1 : 0));
}

/* Sets ES and B if an exception flag is set and unmasked. */
static uint16_t summary(uint16_t sw, uint16_t cw)
{
	return (sw & ~cw & 0x3f) ? (uint16_t)(sw | X87_ES | X87_B) : sw;
}

int x87_stack_fault(struct emu_cpu *c, unsigned fault)
{
	uint16_t cw = x87_cw(c);
	x87_set_sw(c, summary(fault_sw(x87_sw(c), fault), cw));
	return cw & X87_IE;
}

int x87_exec(struct emu_cpu *c, x87_kfn fn, struct x87k *k, unsigned fault, uint16_t cc_mask)
{
	uint16_t cw = x87_cw(c);
	k->cw = cw | 0x3f;
	uint16_t hs = fn(k);
	k->hsw = hs;
	uint16_t sw = x87_sw(c);
	/* an unmasked invalid-operand, denormal or divide-by-zero exception
	 * stops the instruction before it computes: no result flags */
	uint16_t pre = hs & (X87_IE | X87_DE | X87_ZE);
	if (pre & ~cw) {
		hs = (uint16_t)((hs & ~(0x3fu | X87_C1)) | pre);
		if (!(cc_mask & X87_CMPCC))
			hs &= (uint16_t)~X87_CC; /* the codes it defines are cleared */
	}
	cc_mask &= X87_CC;
	sw = (uint16_t)((sw & ~cc_mask) | (hs & cc_mask) | (hs & 0x3f));
	if (fault)
		sw = fault_sw(sw, fault);
	sw = summary(sw, cw);
	x87_set_sw(c, sw);
	return !(sw & ~cw & (X87_IE | X87_DE | X87_ZE) & (hs | (fault ? X87_IE : 0)));
}

/* ---- control instructions ---- */
static int op_fninit(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	emu_fp_check(c, 1);
	x87_init(c);
	return 0;
}
static int op_fnclex(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	emu_fp_check(c, 1);
	x87_set_sw(c, x87_sw(c) & 0x7f00);
	return 0;
}
static int op_fnstcw(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	emu_wr16(c, emu_ea(c, i), x87_cw(c));
	return 0;
}
static int op_fldcw(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	uint16_t cw = (uint16_t)((emu_rd16(c, emu_ea(c, i)) & 0x1f3f) | 0x40);
	x87_put16(c, 0, cw);
	uint16_t sw = x87_sw(c) & (uint16_t) ~(X87_ES | X87_B);
	x87_set_sw(c, summary(sw, cw));
	return 0;
}
static int op_fnstsw(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	if (i->mem)
		emu_wr16(c, emu_ea(c, i), x87_sw(c));
	else
		emu_setreg(c, X86_RAX, 2, x87_sw(c));
	return 0;
}
static int op_fwait(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	if ((c->s.cr0 & (EMU_CR0_TS | EMU_CR0_MP)) == (EMU_CR0_TS | EMU_CR0_MP))
		emu_raise(c, EMU_NM, EMU_NOERR, 0);
	if (x87_sw(c) & X87_ES)
		emu_raise(c, EMU_MF, EMU_NOERR, 0);
	return 0;
}
/* FNOP, and FENI/FDISI/FSETPM (no-ops since the 80387) */
static int op_fnop(struct emu_cpu *c, struct emu_insn *i)
{
	if (i->op == 0xdb)
		emu_fp_check(c, 1);
	else
		x87_begin(c, i);
	return 0;
}
/* FFREE ST(i) (DD C0+i) and FFREEP ST(i) (DF C0+i) */
static int op_ffree(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	x87_set_tag(c, i->modrm & 7, 0);
	if (i->op == 0xdf)
		x87_pop(c);
	return 0;
}
/* FDECSTP (D9 F6) / FINCSTP (D9 F7): C1 cleared */
static int op_fxxcstp(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	if (i->modrm == 0xf6)
		x87_dec_top(c);
	else
		x87_inc_top(c);
	x87_set_sw(c, x87_sw(c) & (uint16_t)~X87_C1);
	return 0;
}

emu_fn x87_ctl_pick(const struct emu_insn *i)
{
	if (i->op == 0x9b)
		return op_fwait;
	if (i->mem) {
		if (i->op == 0xd9 && i->ext == 7)
			return op_fnstcw;
		if (i->op == 0xd9 && i->ext == 5)
			return op_fldcw;
		if (i->op == 0xdd && i->ext == 7)
			return op_fnstsw;
		return NULL;
	}
	switch (i->op << 8 | i->modrm) {
	case 0xdbe3:
		return op_fninit;
	case 0xdbe2:
		return op_fnclex;
	case 0xdfe0:
		return op_fnstsw;
	case 0xd9d0:
	case 0xdbe0:
	case 0xdbe1:
	case 0xdbe4:
		return op_fnop;
	case 0xd9f6:
	case 0xd9f7:
		return op_fxxcstp;
	}
	if ((i->op == 0xdd || i->op == 0xdf) && (i->modrm & 0xf8) == 0xc0)
		return op_ffree;
	return NULL;
}

emu_fn emu_x87_pick(const struct emu_insn *i)
{
	if (i->pfx & EMU_PFX_LOCK)
		return NULL;
	static emu_fn (*const pickers[])(const struct emu_insn *) = {
	    x87_ctl_pick,
	    x87_arith_pick,
	    x87_ldst_pick,
	};
	for (size_t k = 0; k < sizeof(pickers) / sizeof(pickers[0]); k++) {
		emu_fn f = pickers[k](i);
		if (f)
			return f;
	}
	return NULL;
}
