/* SPDX-License-Identifier: Apache-2.0 */
/* Lazy arithmetic flags: instructions record their operation, operands and
 * result (emu_lf_set); the flags are computed only when something reads
 * them (Jcc, PUSHF, ADC, an interrupt). */
#include "vm/emu/internal.h"

static uint64_t parity(uint64_t r)
{
	return (__builtin_popcount((unsigned)(r & 0xff)) & 1) ? 0 : EMU_F_PF;
}

static uint64_t compute_op(uint32_t op, uint32_t sz, uint64_t res, uint64_t a_in, uint64_t b_in)
{
	unsigned n = 8 * sz;
	uint64_t mask = n == 64 ? ~0ULL : (1ULL << n) - 1, sign = 1ULL << (n - 1);
	uint64_t r = res & mask, a = a_in & mask, b = b_in & mask, f = 0, cin;
	switch (op) {
	case EMU_LF_ADD:
		f |= r < a ? EMU_F_CF : 0;
		f |= ((a ^ r) & (b ^ r) & sign) ? EMU_F_OF : 0;
		f |= (a ^ b ^ r) & EMU_F_AF;
		break;
	case EMU_LF_ADC:
		cin = (r - a - b) & mask;
		f |= (cin ? r <= a : r < a) ? EMU_F_CF : 0;
		f |= ((a ^ r) & (b ^ r) & sign) ? EMU_F_OF : 0;
		f |= (a ^ b ^ r) & EMU_F_AF;
		break;
	case EMU_LF_SUB:
		f |= a < b ? EMU_F_CF : 0;
		f |= ((a ^ b) & (a ^ r) & sign) ? EMU_F_OF : 0;
		f |= (a ^ b ^ r) & EMU_F_AF;
		break;
	case EMU_LF_SBB:
		cin = (a - b - r) & mask;
		f |= (cin ? a <= b : a < b) ? EMU_F_CF : 0;
		f |= ((a ^ b) & (a ^ r) & sign) ? EMU_F_OF : 0;
		f |= (a ^ b ^ r) & EMU_F_AF;
		break;
	case EMU_LF_LOGIC:
		break;
	case EMU_LF_INC:
		f |= b_in ? EMU_F_CF : 0;
		f |= r == sign ? EMU_F_OF : 0;
		f |= (r & 0xf) == 0 ? EMU_F_AF : 0;
		break;
	case EMU_LF_DEC:
		f |= b_in ? EMU_F_CF : 0;
		f |= r == sign - 1 ? EMU_F_OF : 0;
		f |= (r & 0xf) == 0xf ? EMU_F_AF : 0;
		break;
	case EMU_LF_SHL: {
		unsigned k = (unsigned)b_in;
		uint64_t cf = k <= n ? (a >> (n - k)) & 1 : 0;
		f |= cf ? EMU_F_CF : 0;
		f |= (!!(r & sign) ^ cf) ? EMU_F_OF : 0;
		break;
	}
	case EMU_LF_SHR: {
		unsigned k = (unsigned)b_in;
		f |= (k <= n && ((a >> (k - 1)) & 1)) ? EMU_F_CF : 0;
		f |= (k == 1 && (a & sign)) ? EMU_F_OF : 0;
		break;
	}
	case EMU_LF_SAR: {
		unsigned k = (unsigned)b_in;
		int64_t sa = (int64_t)(a << (64 - n)) >> (64 - n);
		f |= ((sa >> (k < n ? k - 1 : n - 1)) & 1) ? EMU_F_CF : 0;
		break;
	}
	case EMU_LF_MUL:
		f |= b_in ? (EMU_F_CF | EMU_F_OF) : 0;
		break;
	}
	f |= r == 0 ? EMU_F_ZF : 0;
	f |= (r & sign) ? EMU_F_SF : 0;
	f |= parity(r);
	return f;
}

static uint64_t compute(const struct emu_cpu *c)
{
	if (c->lf_op != EMU_LF_ROT)
		return compute_op(c->lf_op, c->lf_sz, c->lf_res, c->lf_a, c->lf_b);
	uint64_t f = compute_op(c->lf2_op, c->lf_sz, c->lf_res, c->lf2_a, c->lf2_b);
	f &= ~(uint64_t)(EMU_F_CF | EMU_F_OF);
	return f | ((c->lf_b & 1) ? EMU_F_CF : 0) | ((c->lf_b & 2) ? EMU_F_OF : 0);
}

void emu_flags_materialize(struct emu_cpu *c)
{
	if (c->lf_op == EMU_LF_NONE)
		return;
	c->s.rflags = (c->s.rflags & ~(uint64_t)EMU_F_ARITH) | compute(c);
	c->lf_op = EMU_LF_NONE;
}

uint64_t emu_flags(struct emu_cpu *c)
{
	emu_flags_materialize(c);
	return c->s.rflags;
}

void emu_set_flags(struct emu_cpu *c, uint64_t v)
{
	c->s.rflags = v | 2;
	c->lf_op = EMU_LF_NONE;
}

int emu_cf(struct emu_cpu *c)
{
	unsigned sh = 64 - 8 * c->lf_sz;
	switch (c->lf_op) {
	case EMU_LF_NONE:
		return (c->s.rflags & EMU_F_CF) != 0;
	case EMU_LF_ADD:
		return (c->lf_res << sh) < (c->lf_a << sh);
	case EMU_LF_SUB:
		return (c->lf_a << sh) < (c->lf_b << sh);
	case EMU_LF_LOGIC:
		return 0;
	case EMU_LF_INC:
	case EMU_LF_DEC:
		return c->lf_b != 0;
	case EMU_LF_ROT:
		return (int)(c->lf_b & 1);
	default:
		return (compute(c) & EMU_F_CF) != 0;
	}
}

int emu_cond_slow(struct emu_cpu *c, unsigned cc)
{
	uint64_t f = emu_flags(c);
	int r;
	switch (cc >> 1) {
	case 0:
		r = (f & EMU_F_OF) != 0;
		break;
	case 1:
		r = (f & EMU_F_CF) != 0;
		break;
	case 2:
		r = (f & EMU_F_ZF) != 0;
		break;
	case 3:
		r = (f & (EMU_F_CF | EMU_F_ZF)) != 0;
		break;
	case 4:
		r = (f & EMU_F_SF) != 0;
		break;
	case 5:
		r = (f & EMU_F_PF) != 0;
		break;
	case 6:
		r = !!(f & EMU_F_SF) != !!(f & EMU_F_OF);
		break;
	default:
		r = (f & EMU_F_ZF) || (!!(f & EMU_F_SF) != !!(f & EMU_F_OF));
		break;
	}
	return (cc & 1) ? !r : r;
}
