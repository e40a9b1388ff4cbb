/* SPDX-License-Identifier: Apache-2.0 */
/* x87 arithmetic and comparisons: FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR in all
 * register, memory, pop and integer forms, FCOM/FUCOM/FCOMI/FUCOMI and
 * their pop forms, FTST/FXAM, the D9 E0-FF group (FCHS, FABS, constants,
 * FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM/FPREM1, transcendentals), FXCH
 * and FCMOVcc. */
#include "vm/emu/x87_impl.h"

/* Load ST(a) and ST(b) into the kernel operands; an empty register reads as
 * the indefinite QNaN. Returns X87_UNDER if one was empty. */
static unsigned load2(struct emu_cpu *c, struct x87k *k, unsigned a, unsigned b)
{
	unsigned fault = 0;
	memset(k, 0, sizeof(*k));
	if (x87_empty(c, a))
		fault = X87_UNDER, memcpy(k->r0, x87_indefinite, 10);
	else
		memcpy(k->r0, x87_st(c, a), 10);
	if (x87_empty(c, b))
		fault = X87_UNDER, memcpy(k->r1, x87_indefinite, 10);
	else
		memcpy(k->r1, x87_st(c, b), 10);
	return fault;
}

/* D8/DC/DE with a register operand; the compare forms go to op_fcom */
static int op_arith_reg(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	unsigned n = i->modrm & 7, row = i->op == 0xd8 ? 0 : i->op == 0xdc ? 1 : 2;
	struct x87k k;
	unsigned fault = load2(c, &k, 0, n);
	if (!x87_exec(c, x87_k_reg[row][i->ext], &k, fault, X87_C1))
		return 0;
	const uint8_t *r = fault ? x87_indefinite : row == 1 ? k.r1 : k.r0;
	x87_put(c, row ? n : 0, r);
	if (row == 2)
		x87_pop(c);
	return 0;
}

/* D8 /r, DC /r, DA /r, DE /r with a memory operand */
static int op_arith_mem(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	static const uint8_t size[4] = {4, 8, 4, 2};
	unsigned t = i->op == 0xd8 ? 0 : i->op == 0xdc ? 1 : i->op == 0xda ? 2 : 3;
	struct x87k k;
	unsigned fault = load2(c, &k, 0, 0);
	emu_rdn(c, emu_ea(c, i), k.m, size[t]);
	uint16_t cc = (i->ext == 2 || i->ext == 3) ? X87_CC | X87_CMPCC : X87_C1;
	if (!x87_exec(c, x87_k_mem[t][i->ext], &k, fault, cc))
		return 0;
	if (i->ext == 3)
		x87_pop(c);
	else if (i->ext != 2)
		x87_put(c, 0, fault ? x87_indefinite : k.r0);
	return 0;
}

/* FCOM/FCOMP ST(i) (D8 D0/D8), FCOMPP (DE D9), FUCOM/FUCOMP (DD E0/E8),
 * FUCOMPP (DA E9), FCOMI/FUCOMI (DB F0/E8), FCOMIP/FUCOMIP (DF F0/E8) */
static int op_fcom(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	unsigned n = i->modrm & 7, reg = i->modrm & 0xf8, pops;
	int unordered = (i->op == 0xdd || i->op == 0xda || reg == 0xe8);
	int eflags = i->op == 0xdb || i->op == 0xdf;
	if (i->op == 0xde || i->op == 0xda)
		pops = 2;
	else if (i->op == 0xdf || reg == 0xd8 || (i->op == 0xdd && reg == 0xe8))
		pops = 1;
	else
		pops = 0;
	struct x87k k;
	unsigned fault = load2(c, &k, 0, n);
	int done = x87_exec(c, unordered ? x87_k_fucom : x87_k_fcom, &k, fault,
	                    X87_CMPCC | (eflags ? X87_C1 : X87_CC));
	if (eflags) { /* set even when the exception is unmasked */
		uint16_t s = fault ? (X87_C0 | X87_C2 | X87_C3) : k.hsw;
		uint64_t f = emu_flags(c) & ~(uint64_t)EMU_F_ARITH;
		f |= (s & X87_C3 ? EMU_F_ZF : 0) | (s & X87_C2 ? EMU_F_PF : 0) |
		     (s & X87_C0 ? EMU_F_CF : 0);
		emu_set_flags(c, f);
	}
	if (!done)
		return 0;
	while (pops--)
		x87_pop(c);
	return 0;
}

/* push-type D9 ops need a free ST(7); with the fault masked, FPTAN,
 * FXTRACT and FSINCOS (`both`) also replace ST0 with the indefinite */
static int push_fault(struct emu_cpu *c, int both)
{
	if (x87_empty(c, 7))
		return 0;
	if (both) /* FPTAN/FSINCOS: not out of range */
		x87_set_sw(c, x87_sw(c) & (uint16_t)~X87_C2);
	if (x87_stack_fault(c, X87_OVER)) {
		if (both)
			x87_put(c, 0, x87_indefinite);
		x87_push(c, x87_indefinite);
	}
	return 1;
}

/* FXAM of an empty register: C3 and C0 set, C1 the sign */
static void fxam_empty(struct emu_cpu *c)
{
	uint16_t sw = x87_sw(c) & (uint16_t)~X87_CC;
	sw |= X87_C3 | X87_C0 | ((x87_st(c, 0)[9] & 0x80) ? X87_C1 : 0);
	x87_set_sw(c, sw);
}

/* The condition codes a D9 E0..FF operation sets; the processor leaves
 * the others (documented as undefined) as they were. */
static uint16_t cond_codes(unsigned modrm)
{
	switch (modrm) {
	case 0xe4: /* FTST, FXAM */
	case 0xe5:
		return X87_CC | X87_CMPCC;
	case 0xf5: /* FPREM1, FPREM: quotient bits and C2 */
	case 0xf8:
		return X87_CC;
	case 0xf2: /* FPTAN, FSINCOS, FSIN, FCOS: C2 says out of range */
	case 0xfb:
	case 0xfe:
	case 0xff:
		return X87_C1 | X87_C2;
	}
	return X87_C1;
}

/* D9 E0..FF (except FDECSTP/FINCSTP) */
static int op_d9(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	unsigned m = i->modrm;
	x87_kfn fn = x87_k_d9[m - 0xe0];
	struct x87k k;
	if (m >= 0xe8 && m <= 0xee) { /* constants */
		if (push_fault(c, 0))
			return 0;
		memset(&k, 0, sizeof(k));
		if (x87_exec(c, fn, &k, 0, X87_C1))
			x87_push(c, k.r0);
		return 0;
	}
	if (m == 0xe5 && x87_empty(c, 0)) {
		fxam_empty(c);
		return 0;
	}
	int two = m == 0xf1 || m == 0xf3 || m == 0xf5 || m == 0xf8 || m == 0xf9 || m == 0xfd;
	int push = m == 0xf2 || m == 0xf4 || m == 0xfb;
	if (push && push_fault(c, 1))
		return 0;
	unsigned fault = load2(c, &k, 0, two ? 1 : 0);
	uint16_t cc = cond_codes(m), before = x87_sw(c);
	int done = x87_exec(c, fn, &k, fault, cc);
	int nan = (k.r0[9] & 0x7f) == 0x7f && k.r0[8] == 0xff &&
	          ((k.r0[7] & 0x7f) | k.r0[6] | k.r0[5] | k.r0[4] | k.r0[3] | k.r0[2] | k.r0[1] |
	           k.r0[0]);
	if ((m == 0xf5 || m == 0xf8) && (!done || (k.hsw & X87_IE) || nan)) {
		/* FPREM/FPREM1 without a remainder (invalid operand, NaN, an
		 * unmasked exception): C1 and C2 cleared, C0 and C3 kept */
		uint16_t keep = X87_C0 | X87_C3;
		x87_set_sw(c, (uint16_t)((x87_sw(c) & ~X87_CC) | (before & keep)));
	}
	if (!done)
		return 0;
	if (m == 0xe4 || m == 0xe5)
		return 0;
	if (fault) {
		memcpy(k.r0, x87_indefinite, 10);
		memcpy(k.r1, x87_indefinite, 10);
	}
	if (push) {
		if (!fault && (m == 0xf2 || m == 0xfb) && (k.hsw & X87_C2))
			return 0; /* operand out of range: nothing changes */
		x87_put(c, 0, k.r1);
		x87_push(c, k.r0);
	} else if (m == 0xf1 || m == 0xf3 || m == 0xf9) {
		x87_put(c, 1, k.r0);
		x87_pop(c);
	} else {
		x87_put(c, 0, k.r0);
	}
	return 0;
}

/* FXCH ST(i) (D9 C8+i) */
static int op_fxch(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	unsigned n = i->modrm & 7;
	uint8_t a[10], b[10];
	if (x87_empty(c, 0) || x87_empty(c, n)) {
		if (!x87_stack_fault(c, X87_UNDER))
			return 0;
		if (x87_empty(c, 0))
			x87_put(c, 0, x87_indefinite);
		if (x87_empty(c, n))
			x87_put(c, n, x87_indefinite);
	} else {
		x87_set_sw(c, x87_sw(c) & (uint16_t)~X87_C1);
	}
	memcpy(a, x87_st(c, 0), 10);
	memcpy(b, x87_st(c, n), 10);
	x87_put(c, 0, b);
	x87_put(c, n, a);
	return 0;
}

/* FCMOVcc ST(0), ST(i): DA C0-DF (B, E, BE, U), DB C0-DF (the negations) */
static int op_fcmov(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	unsigned n = i->modrm & 7;
	uint64_t f = emu_flags(c);
	int cond;
	switch ((i->modrm >> 3) & 3) {
	case 0:
		cond = (f & EMU_F_CF) != 0;
		break;
	case 1:
		cond = (f & EMU_F_ZF) != 0;
		break;
	case 2:
		cond = (f & (EMU_F_CF | EMU_F_ZF)) != 0;
		break;
	default:
		cond = (f & EMU_F_PF) != 0;
		break;
	}
	if (i->op == 0xdb)
		cond = !cond;
	if (x87_empty(c, 0) || x87_empty(c, n)) {
		if (x87_stack_fault(c, X87_UNDER))
			x87_put(c, 0, x87_indefinite);
		return 0;
	}
	if (cond) { /* the condition codes are kept (C1 changes on a stack fault only) */
		uint8_t v[10];
		memcpy(v, x87_st(c, n), 10);
		x87_put(c, 0, v);
	}
	return 0;
}

emu_fn x87_arith_pick(const struct emu_insn *i)
{
	unsigned op = i->op, m = i->modrm;
	if (i->mem)
		return (op == 0xd8 || op == 0xdc || op == 0xda || op == 0xde) ? op_arith_mem : NULL;
	switch (op) {
	case 0xd8:
	case 0xdc:
		return (i->ext == 2 || i->ext == 3) ? op_fcom : op_arith_reg;
	case 0xde:
		if (m == 0xd9)
			return op_fcom;
		return (i->ext == 2 || i->ext == 3) ? NULL : op_arith_reg;
	case 0xd9:
		if ((m & 0xf8) == 0xc8)
			return op_fxch;
		if (m >= 0xe0 && m != 0xe2 && m != 0xe3 && m != 0xe6 && m != 0xe7 && m != 0xef &&
		    m != 0xf6 && m != 0xf7)
			return op_d9;
		return NULL;
	case 0xda:
		if (m == 0xe9)
			return op_fcom;
		return m < 0xe0 ? op_fcmov : NULL;
	case 0xdb:
		if (m < 0xe0)
			return op_fcmov;
		return (m >= 0xe8 && m < 0xf8) ? op_fcom : NULL;
	case 0xdd:
		return (m >= 0xe0 && m < 0xf0) ? op_fcom : NULL;
	case 0xdf:
		return (m >= 0xe8 && m < 0xf8) ? op_fcom : NULL;
	}
	return NULL;
}
