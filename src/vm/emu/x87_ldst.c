/* SPDX-License-Identifier: Apache-2.0 */
/* x87 loads and stores: FLD/FST/FSTP (m32, m64, m80, ST(i)), FILD, FIST,
 * FISTP, FISTTP (m16, m32, m64), FBLD/FBSTP, and the environment and state
 * images of FLDENV/FNSTENV/FRSTOR/FNSAVE (protected-mode layouts, 16- and
 * 32-bit operand size). */
#include "vm/emu/x87_impl.h"

/* FLD m32/m64, FILD m16/m32/m64, FBLD m80 */
static int op_fld_mem(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	static const uint8_t size[X87_NLD] = {4, 8, 2, 4, 8, 10};
	unsigned t;
	switch (i->op) {
	case 0xd9:
		t = X87_LD_F32;
		break;
	case 0xdd:
		t = X87_LD_F64;
		break;
	case 0xdb:
		t = X87_LD_I32;
		break;
	default:
		t = i->ext == 0 ? X87_LD_I16 : i->ext == 4 ? X87_LD_BCD : X87_LD_I64;
		break;
	}
	struct x87k k;
	memset(&k, 0, sizeof(k));
	emu_rdn(c, emu_ea(c, i), k.m, size[t]);
	if (!x87_empty(c, 7)) {
		if (x87_stack_fault(c, X87_OVER))
			x87_push(c, x87_indefinite);
		return 0;
	}
	/* an unmasked denormal-operand exception does not stop a load */
	x87_exec(c, x87_k_ld[t], &k, 0, X87_C1);
	if (!(k.hsw & ~x87_cw(c) & (X87_IE | X87_ZE)))
		x87_push(c, k.r0);
	return 0;
}

/* FLD m80 (DB /5) and FLD ST(i) (D9 C0+i): no conversion, no exceptions
 * but the stack's */
static int op_fld_raw(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	uint8_t v[10];
	int under = 0;
	if (i->mem) {
		emu_rdn(c, emu_ea(c, i), v, 10);
	} else if (x87_empty(c, i->modrm & 7)) {
		under = 1;
	} else {
		memcpy(v, x87_st(c, i->modrm & 7), 10);
	}
	if (!x87_empty(c, 7)) {
		if (x87_stack_fault(c, X87_OVER))
			x87_push(c, x87_indefinite);
		return 0;
	}
	if (under) {
		if (x87_stack_fault(c, X87_UNDER))
			x87_push(c, x87_indefinite);
		return 0;
	}
	x87_set_sw(c, x87_sw(c) & (uint16_t)~X87_C1);
	x87_push(c, v);
	return 0;
}

/* FST/FSTP m32/m64, FIST/FISTP/FISTTP m16/m32/m64, FBSTP: the value
 * (the format's indefinite after a masked stack underflow) comes from the
 * host store */
static int op_fst_mem(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	static const uint8_t size[X87_NST] = {4, 8, 2, 4, 8, 2, 4, 8, 10};
	unsigned t, pop = i->ext != 2;
	switch (i->op << 4 | i->ext) {
	case 0xd92:
	case 0xd93:
		t = X87_ST_F32;
		break;
	case 0xdd2:
	case 0xdd3:
		t = X87_ST_F64;
		break;
	case 0xdd1:
		t = X87_ST_T64;
		break;
	case 0xdb1:
		t = X87_ST_T32;
		break;
	case 0xdb2:
	case 0xdb3:
		t = X87_ST_I32;
		break;
	case 0xdf1:
		t = X87_ST_T16;
		break;
	case 0xdf2:
	case 0xdf3:
		t = X87_ST_I16;
		break;
	case 0xdf6:
		t = X87_ST_BCD;
		break;
	default: /* DF /7 */
		t = X87_ST_I64;
		break;
	}
	struct x87k k;
	memset(&k, 0, sizeof(k));
	unsigned fault = 0;
	if (x87_empty(c, 0))
		fault = X87_UNDER, memcpy(k.r0, x87_indefinite, 10);
	else
		memcpy(k.r0, x87_st(c, 0), 10);
	uint64_t la = emu_ea(c, i);
	if (!x87_exec(c, x87_k_st[t], &k, fault, X87_C1))
		return 0;
	emu_wrn(c, la, k.m, size[t]);
	if (pop)
		x87_pop(c);
	return 0;
}

/* FSTP m80 (DB /7), FST ST(i) (DD D0+i), FSTP ST(i) (DD D8+i) */
static int op_fst_raw(struct emu_cpu *c, struct emu_insn *i)
{
	x87_begin(c, i);
	uint8_t v[10];
	if (x87_empty(c, 0)) {
		if (!x87_stack_fault(c, X87_UNDER))
			return 0;
		memcpy(v, x87_indefinite, 10);
	} else {
		memcpy(v, x87_st(c, 0), 10);
		x87_set_sw(c, x87_sw(c) & (uint16_t)~X87_C1);
	}
	if (i->mem)
		emu_wrn(c, emu_ea(c, i), v, 10);
	else
		x87_put(c, i->modrm & 7, v);
	if (i->mem || (i->modrm & 0xf8) == 0xd8)
		x87_pop(c);
	return 0;
}

/* ---- environment and state images ---- */

/* Full tag of physical register j: 0 valid, 1 zero, 2 special, 3 empty */
static unsigned full_tag(struct emu_cpu *c, unsigned j)
{
	if (!((c->s.fx.bytes[4] >> j) & 1))
		return 3;
	const uint8_t *r = x87_st(c, (j - x87_top(c)) & 7);
	uint64_t mant;
	memcpy(&mant, r, 8);
	unsigned exp = (r[8] | r[9] << 8) & 0x7fff;
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return mant ? 2 : 1;
	return (mant >> 63) ? 0 : 2;
}

static unsigned env_size(const struct emu_insn *i)
{
	return i->osz == 2 ? 14 : 28;
}

static void env_store(struct emu_cpu *c, const struct emu_insn *i, uint8_t *e)
{
	unsigned tw = 0;
	for (unsigned j = 0; j < 8; j++)
		tw |= full_tag(c, j) << (2 * j);
	uint32_t fip, fdp;
	memcpy(&fip, &c->s.fx.bytes[8], 4);
	memcpy(&fdp, &c->s.fx.bytes[16], 4);
	uint16_t fop = x87_get16(c, 6) & 0x7ff;
	if (i->osz == 2) {
		uint16_t w[7] = {x87_cw(c),     x87_sw(c), (uint16_t)tw, (uint16_t)fip, 0,
		                 (uint16_t)fdp, 0};
		memcpy(e, w, 14);
		return;
	}
	uint32_t d[7] = {0xffff0000u | x87_cw(c),
	                 0xffff0000u | x87_sw(c),
	                 0xffff0000u | tw,
	                 fip,
	                 (uint32_t)fop << 16,
	                 fdp,
	                 0xffff0000u};
	memcpy(e, d, 28);
}

static void env_load(struct emu_cpu *c, const struct emu_insn *i, const uint8_t *e)
{
	uint16_t cw, sw, tw;
	unsigned step = i->osz == 2 ? 2 : 4;
	memcpy(&cw, e, 2);
	memcpy(&sw, e + step, 2);
	memcpy(&tw, e + 2 * step, 2);
	x87_put16(c, 0, (uint16_t)((cw & 0x1f3f) | 0x40));
	x87_set_top(c, sw >> 11);
	x87_set_sw(c, sw);
	uint8_t ab = 0;
	for (unsigned j = 0; j < 8; j++)
		if (((tw >> (2 * j)) & 3) != 3)
			ab |= (uint8_t)(1u << j);
	c->s.fx.bytes[4] = ab;
}

/* FNSTENV (D9 /6): stores the environment, then masks all exceptions */
static int op_fnstenv(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	uint8_t e[28];
	env_store(c, i, e);
	emu_wrn(c, emu_ea(c, i), e, env_size(i));
	x87_put16(c, 0, x87_cw(c) | 0x3f);
	return 0;
}
/* FLDENV (D9 /4) */
static int op_fldenv(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	uint8_t e[28];
	emu_rdn(c, emu_ea(c, i), e, env_size(i));
	env_load(c, i, e);
	return 0;
}
/* FNSAVE (DD /6): environment and ST0..ST7, then FNINIT */
static int op_fnsave(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	uint8_t buf[108];
	unsigned n = env_size(i);
	env_store(c, i, buf);
	for (unsigned k = 0; k < 8; k++)
		memcpy(buf + n + 10 * k, x87_st(c, k), 10);
	emu_wrn(c, emu_ea(c, i), buf, n + 80);
	x87_init(c);
	return 0;
}
/* FRSTOR (DD /4) */
static int op_frstor(struct emu_cpu *c, struct emu_insn *i)
{
	emu_fp_check(c, 1);
	uint8_t buf[108];
	unsigned n = env_size(i);
	emu_rdn(c, emu_ea(c, i), buf, n + 80);
	env_load(c, i, buf);
	for (unsigned k = 0; k < 8; k++) {
		memcpy(x87_st(c, k), buf + n + 10 * k, 10);
		memset(x87_st(c, k) + 10, 0, 6);
	}
	return 0;
}

emu_fn x87_ldst_pick(const struct emu_insn *i)
{
	if (!i->mem) {
		if (i->op == 0xd9 && (i->modrm & 0xf8) == 0xc0)
			return op_fld_raw;
		if (i->op == 0xdd && (i->modrm & 0xf0) == 0xd0)
			return op_fst_raw;
		return NULL;
	}
	switch (i->op << 4 | i->ext) {
	case 0xd90:
	case 0xdd0:
	case 0xdb0:
	case 0xdf0:
	case 0xdf4:
	case 0xdf5:
		return op_fld_mem;
	case 0xd92:
	case 0xd93:
	case 0xdd1:
	case 0xdd2:
	case 0xdd3:
	case 0xdb1:
	case 0xdb2:
	case 0xdb3:
	case 0xdf1:
	case 0xdf2:
	case 0xdf3:
	case 0xdf6:
	case 0xdf7:
		return op_fst_mem;
	case 0xdb5:
		return op_fld_raw;
	case 0xdb7:
		return op_fst_raw;
	case 0xd94:
		return op_fldenv;
	case 0xd96:
		return op_fnstenv;
	case 0xdd4:
		return op_frstor;
	case 0xdd6:
		return op_fnsave;
	}
	return NULL;
}
