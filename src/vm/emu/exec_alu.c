/* SPDX-License-Identifier: Apache-2.0 */
/* Integer arithmetic: the eight ALU operations and TEST in every form,
 * INC/DEC/NOT/NEG, MUL/IMUL/DIV/IDIV. The hot two-operand forms are
 * specialized by operand size and register/memory by macros. */
#include "vm/emu/ops.h"

#define T8  uint8_t
#define T16 uint16_t
#define T32 uint32_t
#define T64 uint64_t

/* register access by size; 8-bit registers are byte offsets in gpr[] */
#define RR8(o)     (*emu_r8p(c, (o)))
#define RR16(r)    ((uint16_t)c->s.gpr[r])
#define RR32(r)    ((uint32_t)c->s.gpr[r])
#define RR64(r)    (c->s.gpr[r])
#define RW8(o, v)  (*emu_r8p(c, (o)) = (uint8_t)(v))
#define RW16(r, v) (c->s.gpr[r] = (c->s.gpr[r] & ~0xffffULL) | (uint16_t)(v))
#define RW32(r, v) (c->s.gpr[r] = (uint32_t)(v))
#define RW64(r, v) (c->s.gpr[r] = (v))
#define REGF8      reg8
#define REGF16     reg
#define REGF32     reg
#define REGF64     reg
#define RMF8       rm8
#define RMF16      rm
#define RMF32      rm
#define RMF64      rm

/* r = a OP b with lazy flags; WB says whether the result is written */
#define CALC_add(S)  r = a + b, emu_lf_set(c, EMU_LF_ADD, S / 8, r, a, b)
#define CALC_or(S)   r = a | b, emu_lf_logic(c, S / 8, r)
#define CALC_adc(S)  r = a + b + (T##S)emu_cf(c), emu_lf_set(c, EMU_LF_ADC, S / 8, r, a, b)
#define CALC_sbb(S)  r = a - b - (T##S)emu_cf(c), emu_lf_set(c, EMU_LF_SBB, S / 8, r, a, b)
#define CALC_and(S)  r = a & b, emu_lf_logic(c, S / 8, r)
#define CALC_sub(S)  r = a - b, emu_lf_set(c, EMU_LF_SUB, S / 8, r, a, b)
#define CALC_xor(S)  r = a ^ b, emu_lf_logic(c, S / 8, r)
#define CALC_cmp(S)  CALC_sub(S)
#define CALC_test(S) CALC_and(S)
#define WB_add       1
#define WB_or        1
#define WB_adc       1
#define WB_sbb       1
#define WB_and       1
#define WB_sub       1
#define WB_xor       1
#define WB_cmp       0
#define WB_test      0

/* dst = register rm, src = register reg / imm; dst = reg, src = rm */
#define ALU_FORMS(OP, S)                                                                           \
	static int OP##S##_rmr(struct emu_cpu *c, struct emu_insn *i)                              \
	{                                                                                          \
		T##S a = RR##S(i->RMF##S), b = RR##S(i->REGF##S), r;                               \
		CALC_##OP(S);                                                                      \
		if (WB_##OP)                                                                       \
			RW##S(i->RMF##S, r);                                                       \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int OP##S##_rrm(struct emu_cpu *c, struct emu_insn *i)                              \
	{                                                                                          \
		T##S a = RR##S(i->REGF##S), b = RR##S(i->RMF##S), r;                               \
		CALC_##OP(S);                                                                      \
		if (WB_##OP)                                                                       \
			RW##S(i->REGF##S, r);                                                      \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int OP##S##_rmem(struct emu_cpu *c, struct emu_insn *i)                             \
	{                                                                                          \
		T##S a = RR##S(i->REGF##S), b = emu_rd##S(c, emu_ea(c, i)), r;                     \
		CALC_##OP(S);                                                                      \
		if (WB_##OP)                                                                       \
			RW##S(i->REGF##S, r);                                                      \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int OP##S##_rmi(struct emu_cpu *c, struct emu_insn *i)                              \
	{                                                                                          \
		T##S a = RR##S(i->RMF##S), b = (T##S)i->imm, r;                                    \
		CALC_##OP(S);                                                                      \
		if (WB_##OP)                                                                       \
			RW##S(i->RMF##S, r);                                                       \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static inline int OP##S##_memop(struct emu_cpu *c, struct emu_insn *i, T##S b)             \
	{                                                                                          \
		uint64_t la = emu_ea(c, i);                                                        \
		T##S a, r;                                                                         \
		if (!WB_##OP) {                                                                    \
			a = emu_rd##S(c, la);                                                      \
			CALC_##OP(S);                                                              \
			EMU_NEXT(c, i);                                                            \
		}                                                                                  \
		int lk = (i->pfx & EMU_PFX_LOCK) != 0;                                             \
		T##S *p = emu_rmw_begin(c, la, S / 8, lk);                                         \
		if (lk) {                                                                          \
			a = __atomic_load_n(p, __ATOMIC_RELAXED);                                  \
			do {                                                                       \
				CALC_##OP(S);                                                      \
			} while (!__atomic_compare_exchange_n(p, &a, r, 0, __ATOMIC_SEQ_CST,       \
			                                      __ATOMIC_RELAXED));                  \
		} else {                                                                           \
			memcpy(&a, p, sizeof(a));                                                  \
			CALC_##OP(S);                                                              \
			memcpy(p, &r, sizeof(r));                                                  \
		}                                                                                  \
		emu_rmw_end(c, p);                                                                 \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int OP##S##_memr(struct emu_cpu *c, struct emu_insn *i)                             \
	{                                                                                          \
		return OP##S##_memop(c, i, RR##S(i->REGF##S));                                     \
	}                                                                                          \
	static int OP##S##_memi(struct emu_cpu *c, struct emu_insn *i)                             \
	{                                                                                          \
		return OP##S##_memop(c, i, (T##S)i->imm);                                          \
	}

#define ALU_OP(OP) ALU_FORMS(OP, 8) ALU_FORMS(OP, 16) ALU_FORMS(OP, 32) ALU_FORMS(OP, 64)
ALU_OP(add)
ALU_OP(or)
ALU_OP(adc)
ALU_OP(sbb)
ALU_OP(and)
ALU_OP(sub)
ALU_OP(xor)
ALU_OP(cmp)
ALU_OP(test)

enum { F_RMR, F_RRM, F_RMEM, F_RMI, F_MEMR, F_MEMI, F_N };
#define FORMS(OP, S)                                                                               \
	{                                                                                          \
		OP##S##_rmr, OP##S##_rrm, OP##S##_rmem, OP##S##_rmi, OP##S##_memr, OP##S##_memi    \
	}
#define SIZES(OP)                                                                                  \
	{                                                                                          \
		FORMS(OP, 8), FORMS(OP, 16), FORMS(OP, 32), FORMS(OP, 64)                          \
	}
static const emu_fn alu_tab[9][4][F_N] = {SIZES(add), SIZES(or),  SIZES(adc),
                                          SIZES(sbb), SIZES(and), SIZES(sub),
                                          SIZES(xor), SIZES(cmp), SIZES(test)};

/* CMP/TEST followed by Jcc, fused at decode time (emu_fuse_jcc): the
 * compare sets the lazy flags as usual and the branch is taken in the same
 * handler, without a dispatch for the Jcc (i + 1), which never runs. */
#define JCC_TAIL                                                                                   \
	do {                                                                                       \
		struct emu_insn *j = i + 1;                                                        \
		if (emu_cond(c, j->op & 15)) {                                                     \
			uint64_t t = c->rip + j->end + j->imm;                                     \
			c->rip = j->osz == 2 ? (uint16_t)t : c->code_sz != 8 ? (uint32_t)t : t;    \
		} else {                                                                           \
			c->rip += j->end;                                                          \
		}                                                                                  \
		return 1;                                                                          \
	} while (0)
#define JCC_FORMS(OP, S)                                                                           \
	static int OP##S##_rmr_jcc(struct emu_cpu *c, struct emu_insn *i)                          \
	{                                                                                          \
		T##S a = RR##S(i->RMF##S), b = RR##S(i->REGF##S), r;                               \
		CALC_##OP(S);                                                                      \
		JCC_TAIL;                                                                          \
	}                                                                                          \
	static int OP##S##_rrm_jcc(struct emu_cpu *c, struct emu_insn *i)                          \
	{                                                                                          \
		T##S a = RR##S(i->REGF##S), b = RR##S(i->RMF##S), r;                               \
		CALC_##OP(S);                                                                      \
		JCC_TAIL;                                                                          \
	}                                                                                          \
	static int OP##S##_rmem_jcc(struct emu_cpu *c, struct emu_insn *i)                         \
	{                                                                                          \
		T##S a = RR##S(i->REGF##S), b = emu_rd##S(c, emu_ea(c, i)), r;                     \
		CALC_##OP(S);                                                                      \
		JCC_TAIL;                                                                          \
	}                                                                                          \
	static int OP##S##_rmi_jcc(struct emu_cpu *c, struct emu_insn *i)                          \
	{                                                                                          \
		T##S a = RR##S(i->RMF##S), b = (T##S)i->imm, r;                                    \
		CALC_##OP(S);                                                                      \
		JCC_TAIL;                                                                          \
	}                                                                                          \
	static int OP##S##_memr_jcc(struct emu_cpu *c, struct emu_insn *i)                         \
	{                                                                                          \
		T##S a = emu_rd##S(c, emu_ea(c, i)), b = RR##S(i->REGF##S), r;                     \
		CALC_##OP(S);                                                                      \
		JCC_TAIL;                                                                          \
	}                                                                                          \
	static int OP##S##_memi_jcc(struct emu_cpu *c, struct emu_insn *i)                         \
	{                                                                                          \
		T##S a = emu_rd##S(c, emu_ea(c, i)), b = (T##S)i->imm, r;                          \
		CALC_##OP(S);                                                                      \
		JCC_TAIL;                                                                          \
	}
#define JCC_OP(OP) JCC_FORMS(OP, 8) JCC_FORMS(OP, 16) JCC_FORMS(OP, 32) JCC_FORMS(OP, 64)
JCC_OP(cmp)
JCC_OP(test)
#define JFORMS(OP, S)                                                                              \
	{                                                                                          \
		OP##S##_rmr_jcc, OP##S##_rrm_jcc, OP##S##_rmem_jcc, OP##S##_rmi_jcc,               \
		    OP##S##_memr_jcc, OP##S##_memi_jcc                                             \
	}
#define JSIZES(OP)                                                                                 \
	{                                                                                          \
		JFORMS(OP, 8), JFORMS(OP, 16), JFORMS(OP, 32), JFORMS(OP, 64)                      \
	}
static const emu_fn jcc_tab[2][4][F_N] = {JSIZES(cmp), JSIZES(test)};

emu_fn emu_fuse_jcc(emu_fn f)
{
	for (int op = 0; op < 2; op++)
		for (int sz = 0; sz < 4; sz++)
			for (int k = 0; k < F_N; k++)
				if (alu_tab[7 + op][sz][k] == f)
					return jcc_tab[op][sz][k];
	return NULL;
}

static unsigned size_index(unsigned osz)
{
	return osz == 1 ? 0 : osz == 2 ? 1 : osz == 4 ? 2 : 3;
}

/* ---- INC/DEC/NOT/NEG on r/m (generic size) ---- */
static uint64_t rd_rm(struct emu_cpu *c, struct emu_insn *i)
{
	if (i->mem)
		return emu_rd(c, emu_ea(c, i), i->osz);
	return i->osz == 1 ? *emu_r8p(c, i->rm8) : emu_getreg(c, i->rm, i->osz);
}

static void wr_rm_reg(struct emu_cpu *c, struct emu_insn *i, uint64_t v)
{
	if (i->osz == 1)
		*emu_r8p(c, i->rm8) = (uint8_t)v;
	else
		emu_setreg(c, i->rm, i->osz, v);
}

/* Unary r/m operation: op 0 INC, 1 DEC, 2 NOT, 3 NEG. Memory forms go
 * through a CAS loop when LOCKed. */
static uint64_t unary(struct emu_cpu *c, unsigned op, unsigned sz, uint64_t a)
{
	uint64_t r;
	switch (op) {
	case 0:
		r = a + 1;
		emu_lf_set(c, EMU_LF_INC, sz, r, a, (uint64_t)emu_cf(c));
		break;
	case 1:
		r = a - 1;
		emu_lf_set(c, EMU_LF_DEC, sz, r, a, (uint64_t)emu_cf(c));
		break;
	case 2:
		r = ~a;
		break;
	default:
		r = -a;
		emu_lf_set(c, EMU_LF_SUB, sz, r, 0, a);
		break;
	}
	return r;
}

static uint64_t mask_sz(unsigned sz)
{
	return sz == 8 ? ~0ULL : (1ULL << (8 * sz)) - 1;
}

static int rmw_unary(struct emu_cpu *c, struct emu_insn *i, unsigned op)
{
	if (!i->mem) {
		wr_rm_reg(c, i, unary(c, op, i->osz, rd_rm(c, i)));
		EMU_NEXT(c, i);
	}
	int lk = (i->pfx & EMU_PFX_LOCK) != 0;
	unsigned sz = i->osz;
	void *p = emu_rmw_begin(c, emu_ea(c, i), sz, lk);
	uint64_t a = 0, r;
	memcpy(&a, p, sz);
	if (!lk) {
		r = unary(c, op, sz, a);
		memcpy(p, &r, sz);
	} else {
		for (;;) {
			r = unary(c, op, sz, a) & mask_sz(sz);
			uint64_t exp = a;
			int ok;
			switch (sz) {
			case 1: {
				uint8_t e8 = (uint8_t)exp;
				ok =
				    __atomic_compare_exchange_n((uint8_t *)p, &e8, (uint8_t)r, 0,
				                                __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
				a = e8;
				break;
			}
			case 2: {
				uint16_t e16 = (uint16_t)exp;
				ok =
				    __atomic_compare_exchange_n((uint16_t *)p, &e16, (uint16_t)r, 0,
				                                __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
				a = e16;
				break;
			}
			case 4: {
				uint32_t e32 = (uint32_t)exp;
				ok =
				    __atomic_compare_exchange_n((uint32_t *)p, &e32, (uint32_t)r, 0,
				                                __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
				a = e32;
				break;
			}
			default:
				ok = __atomic_compare_exchange_n(
				    (uint64_t *)p, &exp, r, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
				a = exp;
				break;
			}
			if (ok)
				break;
		}
	}
	emu_rmw_end(c, p);
	EMU_NEXT(c, i);
}

static int op_inc(struct emu_cpu *c, struct emu_insn *i)
{
	return rmw_unary(c, i, 0);
}
static int op_dec(struct emu_cpu *c, struct emu_insn *i)
{
	return rmw_unary(c, i, 1);
}
static int op_not(struct emu_cpu *c, struct emu_insn *i)
{
	return rmw_unary(c, i, 2);
}
static int op_neg(struct emu_cpu *c, struct emu_insn *i)
{
	return rmw_unary(c, i, 3);
}
/* 40-4F outside 64-bit mode */
static int op_incdec_r(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t a = emu_getreg(c, i->reg, i->osz);
	emu_setreg(c, i->reg, i->osz, unary(c, i->op >= 0x48, i->osz, a));
	EMU_NEXT(c, i);
}

/* ---- multiply and divide ---- */
static int op_mul(struct emu_cpu *c, struct emu_insn *i) /* F6/F7 /4 /5 */
{
	uint64_t b = rd_rm(c, i);
	int sgn = i->ext == 5;
	unsigned sz = i->osz, n = 8 * sz;
	uint64_t *ax = &c->s.gpr[X86_RAX], *dx = &c->s.gpr[X86_RDX];
	uint64_t lo, hi;
	int of;
	if (sz == 8) {
		if (sgn) {
			__int128 p = (__int128)(int64_t)*ax * (int64_t)b;
			lo = (uint64_t)p;
			hi = (uint64_t)(p >> 64);
			of = p != (int64_t)lo;
		} else {
			unsigned __int128 p = (unsigned __int128)*ax * b;
			lo = (uint64_t)p;
			hi = (uint64_t)(p >> 64);
			of = hi != 0;
		}
		*ax = lo;
		*dx = hi;
	} else {
		uint64_t m = mask_sz(sz), a = *ax & m;
		int64_t p;
		if (sgn) {
			int64_t sa = (int64_t)(a << (64 - n)) >> (64 - n);
			int64_t sb = (int64_t)(b << (64 - n)) >> (64 - n);
			p = sa * sb;
			of = p != ((int64_t)((uint64_t)p << (64 - n)) >> (64 - n));
		} else {
			p = (int64_t)(a * (b & m));
			of = ((uint64_t)p >> n) != 0;
		}
		lo = (uint64_t)p & m;
		hi = ((uint64_t)p >> n) & m;
		if (sz == 1)
			emu_setreg(c, X86_RAX, 2, (uint16_t)p);
		else {
			emu_setreg(c, X86_RAX, sz, lo);
			emu_setreg(c, X86_RDX, sz, hi);
		}
	}
	emu_lf_set(c, EMU_LF_MUL, sz, lo, 0, (uint64_t)of);
	EMU_NEXT(c, i);
}

static int op_div(struct emu_cpu *c, struct emu_insn *i) /* F6/F7 /6 /7 */
{
	uint64_t b = rd_rm(c, i);
	unsigned sz = i->osz, n = 8 * sz;
	uint64_t m = mask_sz(sz);
	if ((b & m) == 0)
		emu_raise(c, EMU_DE, EMU_NOERR, 0);
	unsigned __int128 num;
	if (sz == 1)
		num = (uint16_t)c->s.gpr[X86_RAX];
	else
		num = ((unsigned __int128)(c->s.gpr[X86_RDX] & m) << n) | (c->s.gpr[X86_RAX] & m);
	uint64_t q, r;
	if (i->ext == 6) {
		unsigned __int128 q128 = num / (b & m);
		if (q128 > m)
			emu_raise(c, EMU_DE, EMU_NOERR, 0);
		q = (uint64_t)q128;
		r = (uint64_t)(num % (b & m));
	} else {
		unsigned bits = 2 * n;
		__int128 sn = (__int128)(num << (128 - bits)) >> (128 - bits);
		int64_t sd = (int64_t)(b << (64 - n)) >> (64 - n);
		if (sd == -1 && sn == (__int128)(~(unsigned __int128)0 << (bits - 1)))
			emu_raise(c, EMU_DE, EMU_NOERR, 0);
		__int128 sq = sn / sd, sr = sn % sd;
		__int128 lim = (__int128)1 << (n - 1);
		if (sq >= lim || sq < -lim)
			emu_raise(c, EMU_DE, EMU_NOERR, 0);
		q = (uint64_t)sq & m;
		r = (uint64_t)sr & m;
	}
	if (sz == 1) {
		emu_setreg(c, X86_RAX, 2, (r << 8) | q);
	} else {
		emu_setreg(c, X86_RAX, sz, q);
		emu_setreg(c, X86_RDX, sz, r);
	}
	EMU_NEXT(c, i);
}

/* IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69, 6B) */
static int op_imul_r(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t b = rd_rm(c, i);
	uint64_t a = i->map == 1 ? emu_getreg(c, i->reg, i->osz) : i->imm;
	unsigned sz = i->osz, n = 8 * sz;
	uint64_t lo;
	int of;
	if (sz == 8) {
		__int128 p = (__int128)(int64_t)a * (int64_t)b;
		lo = (uint64_t)p;
		of = p != (int64_t)lo;
	} else {
		int64_t sa = (int64_t)(a << (64 - n)) >> (64 - n);
		int64_t sb = (int64_t)(b << (64 - n)) >> (64 - n);
		int64_t p = sa * sb;
		of = p != ((int64_t)((uint64_t)p << (64 - n)) >> (64 - n));
		lo = (uint64_t)p & mask_sz(sz);
	}
	emu_setreg(c, i->reg, sz, lo);
	emu_lf_set(c, EMU_LF_MUL, sz, lo, 0, (uint64_t)of);
	EMU_NEXT(c, i);
}

/* INC/DEC and two-operand IMUL on registers, by size */
#define INCDEC_FAST(S)                                                                             \
	static int inc##S##_r(struct emu_cpu *c, struct emu_insn *i)                               \
	{                                                                                          \
		uint##S##_t a = (uint##S##_t)c->s.gpr[i->rm], r = (uint##S##_t)(a + 1);            \
		emu_lf_set(c, EMU_LF_INC, S / 8, r, a, (uint64_t)emu_cf(c));                       \
		c->s.gpr[i->rm] = r;                                                               \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int dec##S##_r(struct emu_cpu *c, struct emu_insn *i)                               \
	{                                                                                          \
		uint##S##_t a = (uint##S##_t)c->s.gpr[i->rm], r = (uint##S##_t)(a - 1);            \
		emu_lf_set(c, EMU_LF_DEC, S / 8, r, a, (uint64_t)emu_cf(c));                       \
		c->s.gpr[i->rm] = r;                                                               \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int imul##S##_rr(struct emu_cpu *c, struct emu_insn *i)                             \
	{                                                                                          \
		int##S##_t r;                                                                      \
		int of = __builtin_mul_overflow((int##S##_t)c->s.gpr[i->reg],                      \
		                                (int##S##_t)c->s.gpr[i->rm], &r);                  \
		c->s.gpr[i->reg] = (uint##S##_t)r;                                                 \
		emu_lf_set(c, EMU_LF_MUL, S / 8, (uint##S##_t)r, 0, (uint64_t)of);                 \
		EMU_NEXT(c, i);                                                                    \
	}
INCDEC_FAST(32)
INCDEC_FAST(64)

/* ---- BCD adjustments (outside 64-bit mode) ---- */
static void set_szp_al(struct emu_cpu *c, uint64_t f_keep, uint64_t f_set)
{
	uint8_t al = *emu_r8p(c, 0);
	uint64_t f = emu_flags(c) & ~(uint64_t)(EMU_F_SF | EMU_F_ZF | EMU_F_PF | f_keep);
	f |= f_set | (al & 0x80 ? EMU_F_SF : 0) | (al == 0 ? EMU_F_ZF : 0);
	f |= (__builtin_popcount(al) & 1) ? 0 : EMU_F_PF;
	emu_set_flags(c, f);
}

static int op_bcd(struct emu_cpu *c, struct emu_insn *i) /* 27 2F 37 3F D4 D5 */
{
	uint64_t f = emu_flags(c);
	int af = (f & EMU_F_AF) != 0, cf = (f & EMU_F_CF) != 0;
	uint8_t *al = emu_r8p(c, 0), *ah = emu_r8p(c, 1), old = *al;
	switch (i->op) {
	case 0x27: /* DAA */
	case 0x2f: /* DAS */ {
		int sub = i->op == 0x2f, ncf = 0, naf = 0;
		if ((old & 0xf) > 9 || af) {
			*al = (uint8_t)(sub ? old - 6 : old + 6);
			ncf = cf || (sub ? old < 6 : old > 0xf9);
			naf = 1;
		}
		if (old > 0x99 || cf) {
			*al = (uint8_t)(sub ? *al - 0x60 : *al + 0x60);
			ncf = 1;
		}
		set_szp_al(c, EMU_F_CF | EMU_F_AF, (ncf ? EMU_F_CF : 0) | (naf ? EMU_F_AF : 0));
		break;
	}
	case 0x37: /* AAA */
	case 0x3f: /* AAS */ {
		int adj = (old & 0xf) > 9 || af;
		if (adj) {
			uint16_t ax = (uint16_t)c->s.gpr[X86_RAX];
			ax = (uint16_t)(i->op == 0x37 ? ax + 0x106 : ax - 6 - 0x100);
			emu_setreg(c, X86_RAX, 2, ax);
		}
		*al &= 0xf;
		set_szp_al(c, EMU_F_CF | EMU_F_AF, adj ? (EMU_F_CF | EMU_F_AF) : 0);
		break;
	}
	case 0xd4: /* AAM */
		if ((uint8_t)i->imm == 0)
			emu_raise(c, EMU_DE, EMU_NOERR, 0);
		*ah = (uint8_t)(old / (uint8_t)i->imm);
		*al = (uint8_t)(old % (uint8_t)i->imm);
		set_szp_al(c, 0, 0);
		break;
	default: /* AAD */
		*al = (uint8_t)(old + *ah * (uint8_t)i->imm);
		*ah = 0;
		set_szp_al(c, 0, 0);
		break;
	}
	EMU_NEXT(c, i);
}

static emu_fn alu_form(unsigned op, struct emu_insn *i, int form_reg, int form_mem)
{
	return alu_tab[op][size_index(i->osz)][i->mem ? form_mem : form_reg];
}

emu_fn emu_alu_pick(struct emu_insn *i)
{
	unsigned op = i->op;
	if (i->map == 1) {
		if (op != 0xaf)
			return NULL;
		if (!i->mem && i->osz == 8)
			return imul64_rr;
		if (!i->mem && i->osz == 4)
			return imul32_rr;
		return op_imul_r;
	}
	if (op < 0x40 && (op & 7) < 6) {
		unsigned k = op >> 3;
		if ((i->pfx & EMU_PFX_LOCK) && (!i->mem || (op & 7) >= 2 || k == 7))
			return NULL;
		switch (op & 7) {
		case 0:
		case 1:
			return alu_form(k, i, F_RMR, F_MEMR);
		case 2:
		case 3:
			return alu_form(k, i, F_RRM, F_RMEM);
		default:
			i->rm = 0; /* AL/AX/EAX/RAX, imm */
			i->rm8 = 0;
			i->mem = 0;
			return alu_form(k, i, F_RMI, F_MEMI);
		}
	}
	if ((i->pfx & EMU_PFX_LOCK) && !i->mem)
		return NULL;
	switch (op) {
	case 0x27:
	case 0x2f:
	case 0x37:
	case 0x3f:
	case 0xd4:
	case 0xd5:
		return op_bcd; /* invalid in 64-bit mode: the decoder already said #UD */
	case 0x40 ... 0x4f:
		return op_incdec_r;
	case 0x80:
	case 0x81:
	case 0x82:
	case 0x83:
		if ((i->pfx & EMU_PFX_LOCK) && i->ext == 7)
			return NULL;
		return alu_form(i->ext, i, F_RMI, F_MEMI);
	case 0x84:
	case 0x85:
		return alu_form(8, i, F_RMR, F_MEMR);
	case 0xa8:
	case 0xa9:
		i->rm = 0;
		i->rm8 = 0;
		i->mem = 0;
		return alu_form(8, i, F_RMI, F_MEMI);
	case 0x69:
	case 0x6b:
		return op_imul_r;
	case 0xf6:
	case 0xf7:
		if ((i->pfx & EMU_PFX_LOCK) && i->ext != 2 && i->ext != 3)
			return NULL;
		switch (i->ext) {
		case 0:
		case 1:
			return alu_form(8, i, F_RMI, F_MEMI);
		case 2:
			return op_not;
		case 3:
			return op_neg;
		case 4:
		case 5:
			return op_mul;
		default:
			return op_div;
		}
	case 0xfe:
	case 0xff:
		if (i->ext > 1)
			return NULL;
		if (!i->mem && i->osz == 8)
			return i->ext ? dec64_r : inc64_r;
		if (!i->mem && i->osz == 4)
			return i->ext ? dec32_r : inc32_r;
		return i->ext ? op_dec : op_inc;
	}
	return NULL;
}
