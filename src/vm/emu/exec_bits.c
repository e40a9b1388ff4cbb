/* SPDX-License-Identifier: Apache-2.0 */
/* Shifts and rotates (incl. RCL/RCR, SHLD/SHRD), bit tests (BT/BTS/BTR/
 * BTC) and bit scans (BSF/BSR). */
#include "vm/emu/ops.h"

static uint64_t szmask(unsigned sz)
{
	return sz == 8 ? ~0ULL : (1ULL << (8 * sz)) - 1;
}

/* Set CF and OF explicitly (rotates): other flags keep their values. */
static void set_cf_of(struct emu_cpu *c, int cf, int of)
{
	emu_set_cf_of(c, cf, of);
}

/* One shift/rotate of `a` (size sz) by count (already masked, non-zero). */
static uint64_t shift(struct emu_cpu *c, unsigned kind, unsigned sz, uint64_t a, unsigned cnt)
{
	unsigned n = 8 * sz;
	uint64_t m = szmask(sz), r, sign = 1ULL << (n - 1);
	a &= m;
	switch (kind) {
	case 0: { /* ROL */
		unsigned k = cnt & (n - 1);
		r = k ? ((a << k) | (a >> (n - k))) & m : a;
		int cf = r & 1;
		set_cf_of(c, cf, !!(r & sign) ^ cf);
		return r;
	}
	case 1: { /* ROR */
		unsigned k = cnt & (n - 1);
		r = k ? ((a >> k) | (a << (n - k))) & m : a;
		set_cf_of(c, !!(r & sign), !!(r & sign) ^ !!(r & (sign >> 1)));
		return r;
	}
	case 2: { /* RCL: rotate through carry, n+1 bits */
		unsigned k = cnt % (n + 1);
		uint64_t cf = (uint64_t)emu_cf(c);
		r = a;
		for (unsigned j = 0; j < k; j++) {
			uint64_t out = (r >> (n - 1)) & 1;
			r = ((r << 1) | cf) & m;
			cf = out;
		}
		set_cf_of(c, (int)cf, (int)(((r >> (n - 1)) & 1) ^ cf));
		return r;
	}
	case 3: { /* RCR */
		unsigned k = cnt % (n + 1);
		uint64_t cf = (uint64_t)emu_cf(c);
		int of = (int)(((a >> (n - 1)) & 1) ^ cf);
		r = a;
		for (unsigned j = 0; j < k; j++) {
			uint64_t out = r & 1;
			r = (r >> 1) | (cf << (n - 1));
			cf = out;
		}
		set_cf_of(c, (int)cf, of);
		return r;
	}
	case 4:
	case 6: /* SHL/SAL */
		r = cnt < 64 ? (a << cnt) & m : 0;
		emu_lf_set(c, EMU_LF_SHL, sz, r, a, cnt);
		return r;
	case 5: /* SHR */
		r = cnt < 64 ? a >> cnt : 0;
		emu_lf_set(c, EMU_LF_SHR, sz, r, a, cnt);
		return r;
	default: { /* SAR */
		int64_t sa = (int64_t)(a << (64 - n)) >> (64 - n);
		r = (uint64_t)(sa >> (cnt < n ? cnt : n - 1)) & m;
		emu_lf_set(c, EMU_LF_SAR, sz, r, a, cnt);
		return r;
	}
	}
}

static int op_shift(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned cnt;
	if (i->op == 0xd0 || i->op == 0xd1)
		cnt = 1;
	else if (i->op == 0xd2 || i->op == 0xd3)
		cnt = (unsigned)c->s.gpr[X86_RCX] & 0xff;
	else
		cnt = (unsigned)i->imm;
	cnt &= i->osz == 8 ? 63 : 31;
	if (!i->mem) {
		uint64_t a = i->osz == 1 ? *emu_r8p(c, i->rm8) : emu_getreg(c, i->rm, i->osz);
		if (cnt == 0) {
			if (i->osz == 4)
				c->s.gpr[i->rm] = (uint32_t)c->s.gpr[i->rm];
			EMU_NEXT(c, i);
		}
		emu_wr_rm(c, i, shift(c, i->ext, i->osz, a, cnt));
		EMU_NEXT(c, i);
	}
	uint64_t la = emu_ea(c, i);
	uint64_t a = emu_rd(c, la, i->osz);
	if (cnt == 0)
		EMU_NEXT(c, i);
	uint64_t r = shift(c, i->ext, i->osz, a, cnt);
	emu_wr(c, la, i->osz, r);
	EMU_NEXT(c, i);
}

/* SHLD/SHRD r/m, r, imm8/CL */
static int op_shxd(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned cnt = (i->op & 1) ? (unsigned)c->s.gpr[X86_RCX] : (unsigned)i->imm;
	unsigned sz = i->osz, n = 8 * sz;
	cnt &= sz == 8 ? 63 : 31;
	uint64_t la = i->mem ? emu_ea(c, i) : 0;
	uint64_t a = i->mem ? emu_rd(c, la, sz) : emu_getreg(c, i->rm, sz);
	uint64_t b = emu_getreg(c, i->reg, sz);
	if (cnt == 0) {
		if (!i->mem && sz == 4)
			c->s.gpr[i->rm] = (uint32_t)c->s.gpr[i->rm];
		EMU_NEXT(c, i);
	}
	uint64_t m = szmask(sz), r;
	int cf;
	if (i->op < 0xa8) { /* SHLD */
		unsigned __int128 w = ((unsigned __int128)a << n) | b;
		r = (uint64_t)(w >> (n - (cnt % (n + 1)))) & m;
		if (cnt > n) /* 16-bit with count 17..31: undefined */
			r = (uint64_t)((w << (cnt - n)) >> n) & m;
		cf = (int)((a >> (n - cnt)) & 1);
	} else { /* SHRD */
		unsigned __int128 w = ((unsigned __int128)b << n) | a;
		r = (uint64_t)(w >> cnt) & m;
		cf = (int)((a >> (cnt - 1)) & 1);
	}
	int of = (int)(((r ^ a) >> (n - 1)) & 1);
	emu_lf_set(c, EMU_LF_LOGIC, sz, r, 0, 0);
	emu_flags_materialize(c);
	c->s.rflags = (c->s.rflags & ~(uint64_t)(EMU_F_CF | EMU_F_OF)) | (cf ? EMU_F_CF : 0) |
	              (of ? EMU_F_OF : 0);
	if (i->mem)
		emu_wr(c, la, sz, r);
	else
		emu_setreg(c, i->rm, sz, r);
	EMU_NEXT(c, i);
}

static void set_cf(struct emu_cpu *c, int cf)
{
	emu_flags_materialize(c);
	c->s.rflags = (c->s.rflags & ~(uint64_t)EMU_F_CF) | (cf ? EMU_F_CF : 0);
}

/* BT/BTS/BTR/BTC: op 0 test, 1 set, 2 reset, 3 complement */
static int bit_op(struct emu_cpu *c, struct emu_insn *i, unsigned op, uint64_t bit, int from_reg)
{
	unsigned sz = i->osz, n = 8 * sz;
	if (!i->mem) {
		uint64_t a = emu_getreg(c, i->rm, sz);
		unsigned k = (unsigned)(bit & (n - 1));
		set_cf(c, (int)((a >> k) & 1));
		if (op == 1)
			a |= 1ULL << k;
		else if (op == 2)
			a &= ~(1ULL << k);
		else if (op == 3)
			a ^= 1ULL << k;
		if (op)
			emu_setreg(c, i->rm, sz, a);
		EMU_NEXT(c, i);
	}
	uint64_t la = emu_ea(c, i);
	if (from_reg) { /* the register offset is signed and may reach any byte */
		unsigned sh = 64 - n;
		int64_t sbit = (int64_t)(bit << sh) >> sh;
		la = (la + (uint64_t)((sbit >> 3) & ~(int64_t)(sz - 1))) & c->la_mask;
		bit = (uint64_t)sbit & (n - 1);
	} else {
		bit &= n - 1;
	}
	/* operate on the byte containing the bit */
	la += bit >> 3;
	unsigned k = bit & 7;
	if (op == 0) {
		set_cf(c, (emu_rd8(c, la) >> k) & 1);
		EMU_NEXT(c, i);
	}
	uint8_t *p = emu_rmw_begin(c, la, 1, (i->pfx & EMU_PFX_LOCK) != 0);
	uint8_t old, msk = (uint8_t)(1u << k);
	if (op == 1)
		old = __atomic_fetch_or(p, msk, __ATOMIC_SEQ_CST);
	else if (op == 2)
		old = __atomic_fetch_and(p, (uint8_t)~msk, __ATOMIC_SEQ_CST);
	else
		old = __atomic_fetch_xor(p, msk, __ATOMIC_SEQ_CST);
	emu_rmw_end(c, p);
	set_cf(c, (old >> k) & 1);
	EMU_NEXT(c, i);
}

static int op_bt_r(struct emu_cpu *c, struct emu_insn *i) /* 0F A3 AB B3 BB */
{
	static const uint8_t kind[4] = {0, 1, 2, 3};
	unsigned op = i->op == 0xa3 ? 0 : i->op == 0xab ? 1 : i->op == 0xb3 ? 2 : 3;
	return bit_op(c, i, kind[op], emu_getreg(c, i->reg, i->osz), 1);
}
static int op_bt_i(struct emu_cpu *c, struct emu_insn *i) /* 0F BA /4-7 */
{
	return bit_op(c, i, i->ext - 4u, i->imm, 0);
}

static int op_bsf(struct emu_cpu *c, struct emu_insn *i) /* 0F BC / BD */
{
	uint64_t a = emu_rd_rm(c, i);
	emu_flags_materialize(c);
	if (a == 0) {
		c->s.rflags |= EMU_F_ZF; /* destination unchanged (as Intel and AMD do) */
		EMU_NEXT(c, i);
	}
	c->s.rflags &= ~(uint64_t)EMU_F_ZF;
	unsigned r =
	    i->op == 0xbc ? (unsigned)__builtin_ctzll(a) : 63u - (unsigned)__builtin_clzll(a);
	emu_setreg(c, i->reg, i->osz, r);
	EMU_NEXT(c, i);
}

/* Register shifts by an immediate count (the common case in compiled
 * code), one handler per operation and size. The count is non-zero and
 * below the operand size. */
#define SHIFT_FAST(S)                                                                              \
	static int shl##S##_ri(struct emu_cpu *c, struct emu_insn *i)                              \
	{                                                                                          \
		uint##S##_t a = (uint##S##_t)c->s.gpr[i->rm], r = (uint##S##_t)(a << i->imm);      \
		emu_lf_set(c, EMU_LF_SHL, S / 8, r, a, i->imm);                                    \
		c->s.gpr[i->rm] = r;                                                               \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int shr##S##_ri(struct emu_cpu *c, struct emu_insn *i)                              \
	{                                                                                          \
		uint##S##_t a = (uint##S##_t)c->s.gpr[i->rm], r = (uint##S##_t)(a >> i->imm);      \
		emu_lf_set(c, EMU_LF_SHR, S / 8, r, a, i->imm);                                    \
		c->s.gpr[i->rm] = r;                                                               \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int sar##S##_ri(struct emu_cpu *c, struct emu_insn *i)                              \
	{                                                                                          \
		uint##S##_t a = (uint##S##_t)c->s.gpr[i->rm];                                      \
		uint##S##_t r = (uint##S##_t)((int##S##_t)a >> i->imm);                            \
		emu_lf_set(c, EMU_LF_SAR, S / 8, r, a, i->imm);                                    \
		c->s.gpr[i->rm] = r;                                                               \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int rol##S##_ri(struct emu_cpu *c, struct emu_insn *i)                              \
	{                                                                                          \
		uint##S##_t a = (uint##S##_t)c->s.gpr[i->rm];                                      \
		uint##S##_t r = (uint##S##_t)((a << i->imm) | (a >> (S - i->imm)));                \
		c->s.gpr[i->rm] = r;                                                               \
		int cf = r & 1;                                                                    \
		set_cf_of(c, cf, (int)(r >> (S - 1)) ^ cf);                                        \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int ror##S##_ri(struct emu_cpu *c, struct emu_insn *i)                              \
	{                                                                                          \
		uint##S##_t a = (uint##S##_t)c->s.gpr[i->rm];                                      \
		uint##S##_t r = (uint##S##_t)((a >> i->imm) | (a << (S - i->imm)));                \
		c->s.gpr[i->rm] = r;                                                               \
		set_cf_of(c, (int)(r >> (S - 1)), (int)((r >> (S - 1)) ^ (r >> (S - 2))) & 1);     \
		EMU_NEXT(c, i);                                                                    \
	}
SHIFT_FAST(32)
SHIFT_FAST(64)

static emu_fn shift_pick(struct emu_insn *i)
{
	if (i->mem || (i->osz != 4 && i->osz != 8) || i->op == 0xd2 || i->op == 0xd3 ||
	    i->op == 0xc0 || i->op == 0xd0)
		return op_shift;
	unsigned cnt = i->op == 0xd1 ? 1 : (unsigned)i->imm & (i->osz == 8 ? 63 : 31);
	if (cnt == 0)
		return op_shift;
	i->imm = cnt;
	static const emu_fn f32[8] = {rol32_ri, ror32_ri, NULL,     NULL,
	                              shl32_ri, shr32_ri, shl32_ri, sar32_ri};
	static const emu_fn f64[8] = {rol64_ri, ror64_ri, NULL,     NULL,
	                              shl64_ri, shr64_ri, shl64_ri, sar64_ri};
	emu_fn f = (i->osz == 8 ? f64 : f32)[i->ext];
	return f ? f : op_shift;
}

emu_fn emu_bits_pick(struct emu_insn *i)
{
	int lock = (i->pfx & EMU_PFX_LOCK) != 0;
	if (i->map == 0) {
		switch (i->op) {
		case 0xc0:
		case 0xc1:
		case 0xd0 ... 0xd3:
			return lock ? NULL : shift_pick(i);
		}
		return NULL;
	}
	if (i->map != 1)
		return NULL;
	switch (i->op) {
	case 0xa3:
		return lock ? NULL : op_bt_r;
	case 0xab:
	case 0xb3:
	case 0xbb:
		return lock && !i->mem ? NULL : op_bt_r;
	case 0xba:
		if (i->ext < 4 || (lock && (i->ext == 4 || !i->mem)))
			return NULL;
		return op_bt_i;
	case 0xa4:
	case 0xa5:
	case 0xac:
	case 0xad:
		return lock ? NULL : op_shxd;
	case 0xbc:
	case 0xbd:
		return lock ? NULL : op_bsf;
	}
	return NULL;
}
