/* SPDX-License-Identifier: Apache-2.0 */
/* Data movement: MOV in its forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG, CMPXCHG
 * (8B/16B), XADD, BSWAP, CBW family, CMOVcc, SETcc, PUSH/POP, LAHF/SAHF,
 * the flag instructions, XLAT and the NOPs. */
#include "vm/emu/ops.h"

/* ---- MOV, size-specialized for the hot forms ---- */
#define MOVS(S)                                                                                    \
	static int mov##S##_rr(struct emu_cpu *c, struct emu_insn *i) /* 89 mod=3 */               \
	{                                                                                          \
		emu_setreg(c, i->rm, S / 8, c->s.gpr[i->reg]);                                     \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int mov##S##_st(struct emu_cpu *c, struct emu_insn *i) /* 89 mem */                 \
	{                                                                                          \
		emu_wr##S(c, emu_ea(c, i), (uint##S##_t)c->s.gpr[i->reg]);                         \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int mov##S##_ld(struct emu_cpu *c, struct emu_insn *i) /* 8B mem */                 \
	{                                                                                          \
		emu_setreg(c, i->reg, S / 8, emu_rd##S(c, emu_ea(c, i)));                          \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int mov##S##_sti(struct emu_cpu *c, struct emu_insn *i) /* C7 mem */                \
	{                                                                                          \
		emu_wr##S(c, emu_ea(c, i), (uint##S##_t)i->imm);                                   \
		EMU_NEXT(c, i);                                                                    \
	}
MOVS(16)
MOVS(32)
MOVS(64)

/* 64-bit mode loads and stores through [base + disp]: no index, no address
 * size truncation, the linear-address mask is all ones */
#define MOVS_B(S)                                                                                  \
	static int mov##S##_st_b(struct emu_cpu *c, struct emu_insn *i)                            \
	{                                                                                          \
		emu_wr##S(c, emu_ea_b64(c, i), (uint##S##_t)c->s.gpr[i->reg]);                     \
		EMU_NEXT(c, i);                                                                    \
	}                                                                                          \
	static int mov##S##_ld_b(struct emu_cpu *c, struct emu_insn *i)                            \
	{                                                                                          \
		emu_setreg(c, i->reg, S / 8, emu_rd##S(c, emu_ea_b64(c, i)));                      \
		EMU_NEXT(c, i);                                                                    \
	}
MOVS_B(32)
MOVS_B(64)

static int ea_b64(const struct emu_insn *i)
{
	return i->csz == 8 && i->asz == 8 && i->base < 16 && i->index == EMU_NOREG;
}

static int mov_ri(struct emu_cpu *c, struct emu_insn *i) /* B8+r, C7 mod=3 */
{
	emu_setreg(c, i->reg, i->osz, i->imm);
	EMU_NEXT(c, i);
}
static int mov8_ri(struct emu_cpu *c, struct emu_insn *i)
{
	*emu_r8p(c, i->reg8) = (uint8_t)i->imm;
	EMU_NEXT(c, i);
}
static int mov8_rr(struct emu_cpu *c, struct emu_insn *i) /* 88 mod=3 */
{
	*emu_r8p(c, i->rm8) = *emu_r8p(c, i->reg8);
	EMU_NEXT(c, i);
}
static int mov8_st(struct emu_cpu *c, struct emu_insn *i)
{
	emu_wr8(c, emu_ea(c, i), *emu_r8p(c, i->reg8));
	EMU_NEXT(c, i);
}
static int mov8_ld(struct emu_cpu *c, struct emu_insn *i)
{
	*emu_r8p(c, i->reg8) = emu_rd8(c, emu_ea(c, i));
	EMU_NEXT(c, i);
}
static int mov8_sti(struct emu_cpu *c, struct emu_insn *i)
{
	emu_wr8(c, emu_ea(c, i), (uint8_t)i->imm);
	EMU_NEXT(c, i);
}
static int mov_moff(struct emu_cpu *c, struct emu_insn *i) /* A0-A3 */
{
	uint64_t ea = i->imm;
	if (i->asz == 4)
		ea = (uint32_t)ea;
	else if (i->asz == 2)
		ea = (uint16_t)ea;
	uint64_t la = (ea + c->segbase[i->seg]) & c->la_mask;
	if (i->op & 2) {
		emu_wr(c, la, i->osz, c->s.gpr[X86_RAX]);
	} else if (i->osz == 1) {
		*emu_r8p(c, 0) = emu_rd8(c, la);
	} else {
		emu_setreg(c, X86_RAX, i->osz, emu_rd(c, la, i->osz));
	}
	EMU_NEXT(c, i);
}

static int op_lea(struct emu_cpu *c, struct emu_insn *i)
{
	emu_setreg(c, i->reg, i->osz, emu_offset(c, i));
	EMU_NEXT(c, i);
}

/* MOVZX/MOVSX (0F B6/B7/BE/BF), MOVSXD (63 in 64-bit mode) */
static int op_movx(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned src = i->map == 0 ? 4 : (i->op & 1) ? 2 : 1;
	uint64_t v;
	if (i->mem)
		v = emu_rd(c, emu_ea(c, i), src);
	else if (src == 1)
		v = *emu_r8p(c, i->rm8);
	else
		v = emu_getreg(c, i->rm, src);
	if (i->map == 0 || i->op >= 0xbe) {
		unsigned sh = 64 - 8 * src;
		v = (uint64_t)((int64_t)(v << sh) >> sh);
	}
	emu_setreg(c, i->reg, i->osz, v);
	EMU_NEXT(c, i);
}

static int op_xchg_ax(struct emu_cpu *c, struct emu_insn *i) /* 91-97 */
{
	uint64_t a = emu_getreg(c, X86_RAX, i->osz), b = emu_getreg(c, i->reg, i->osz);
	emu_setreg(c, X86_RAX, i->osz, b);
	emu_setreg(c, i->reg, i->osz, a);
	EMU_NEXT(c, i);
}

static int op_nop(struct emu_cpu *c, struct emu_insn *i)
{
	(void)c;
	(void)i;
	EMU_NEXT(c, i);
}

/* XCHG r/m, r: with memory always locked */
static int op_xchg(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t r = emu_rd_reg(c, i);
	if (!i->mem) {
		uint64_t m = i->osz == 1 ? *emu_r8p(c, i->rm8) : emu_getreg(c, i->rm, i->osz);
		emu_wr_rm(c, i, r);
		emu_wr_reg(c, i, m);
		EMU_NEXT(c, i);
	}
	void *p = emu_rmw_begin(c, emu_ea(c, i), i->osz, 1);
	uint64_t old;
	switch (i->osz) {
	case 1:
		old = __atomic_exchange_n((uint8_t *)p, (uint8_t)r, __ATOMIC_SEQ_CST);
		break;
	case 2:
		old = __atomic_exchange_n((uint16_t *)p, (uint16_t)r, __ATOMIC_SEQ_CST);
		break;
	case 4:
		old = __atomic_exchange_n((uint32_t *)p, (uint32_t)r, __ATOMIC_SEQ_CST);
		break;
	default:
		old = __atomic_exchange_n((uint64_t *)p, r, __ATOMIC_SEQ_CST);
		break;
	}
	emu_rmw_end(c, p);
	emu_wr_reg(c, i, old);
	EMU_NEXT(c, i);
}

/* CMPXCHG r/m, r (0F B0/B1) */
static int op_cmpxchg(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned sz = i->osz;
	uint64_t acc =
	    emu_getreg(c, X86_RAX, sz == 1 ? 8 : sz) & (sz == 8 ? ~0ULL : (1ULL << (8 * sz)) - 1);
	uint64_t src = emu_rd_reg(c, i), old;
	if (!i->mem) {
		old = i->osz == 1 ? *emu_r8p(c, i->rm8) : emu_getreg(c, i->rm, sz);
		if (old == acc)
			emu_wr_rm(c, i, src);
	} else {
		void *p = emu_rmw_begin(c, emu_ea(c, i), sz, (i->pfx & EMU_PFX_LOCK) != 0);
		switch (sz) {
		case 1: {
			uint8_t e = (uint8_t)acc;
			__atomic_compare_exchange_n((uint8_t *)p, &e, (uint8_t)src, 0,
			                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
			old = e;
			break;
		}
		case 2: {
			uint16_t e = (uint16_t)acc;
			__atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)src, 0,
			                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
			old = e;
			break;
		}
		case 4: {
			uint32_t e = (uint32_t)acc;
			__atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)src, 0,
			                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
			old = e;
			break;
		}
		default: {
			uint64_t e = acc;
			__atomic_compare_exchange_n((uint64_t *)p, &e, src, 0, __ATOMIC_SEQ_CST,
			                            __ATOMIC_SEQ_CST);
			old = e;
			break;
		}
		}
		emu_rmw_end(c, p);
	}
	emu_lf_set(c, EMU_LF_SUB, sz, acc - old, acc, old);
	if (old != acc) {
		if (sz == 1)
			*emu_r8p(c, 0) = (uint8_t)old;
		else
			emu_setreg(c, X86_RAX, sz, old);
	}
	EMU_NEXT(c, i);
}

/* CMPXCHG8B / CMPXCHG16B (0F C7 /1) */
static int op_cmpxchg8b(struct emu_cpu *c, struct emu_insn *i)
{
	int wide = (i->pfx & EMU_PFX_REXW) != 0;
	unsigned sz = wide ? 16 : 8;
	uint64_t la = emu_ea(c, i);
	if (wide && (la & 15))
		emu_gp0(c);
	void *p = emu_rmw_begin(c, la, sz, 1);
	uint64_t *g = c->s.gpr;
	int ok;
	if (!wide) {
		uint64_t e = (uint32_t)g[X86_RAX] | (uint64_t)(uint32_t)g[X86_RDX] << 32;
		uint64_t n = (uint32_t)g[X86_RBX] | (uint64_t)(uint32_t)g[X86_RCX] << 32;
		ok = __atomic_compare_exchange_n((uint64_t *)p, &e, n, 0, __ATOMIC_SEQ_CST,
		                                 __ATOMIC_SEQ_CST);
		if (!ok) {
			g[X86_RAX] = (uint32_t)e;
			g[X86_RDX] = e >> 32;
		}
	} else {
		uint64_t lo = g[X86_RAX], hi = g[X86_RDX];
		/* the host's own CMPXCHG16B (the operand is 16-byte aligned) */
		__asm__ volatile("lock cmpxchg16b %1"
		                 : "=@ccz"(ok), "+m"(*(unsigned __int128 *)p), "+a"(lo), "+d"(hi)
		                 : "b"(g[X86_RBX]), "c"(g[X86_RCX])
		                 : "memory");
		if (!ok) {
			g[X86_RAX] = lo;
			g[X86_RDX] = hi;
		}
	}
	emu_rmw_end(c, p);
	emu_flags_materialize(c);
	c->s.rflags = (c->s.rflags & ~(uint64_t)EMU_F_ZF) | (ok ? EMU_F_ZF : 0);
	EMU_NEXT(c, i);
}

/* XADD r/m, r (0F C0/C1) */
static int op_xadd(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned sz = i->osz;
	uint64_t src = emu_rd_reg(c, i), old;
	if (!i->mem) {
		old = i->osz == 1 ? *emu_r8p(c, i->rm8) : emu_getreg(c, i->rm, sz);
		emu_wr_reg(c, i, old);
		emu_wr_rm(c, i, old + src);
	} else {
		void *p = emu_rmw_begin(c, emu_ea(c, i), sz, (i->pfx & EMU_PFX_LOCK) != 0);
		switch (sz) {
		case 1:
			old = __atomic_fetch_add((uint8_t *)p, (uint8_t)src, __ATOMIC_SEQ_CST);
			break;
		case 2:
			old = __atomic_fetch_add((uint16_t *)p, (uint16_t)src, __ATOMIC_SEQ_CST);
			break;
		case 4:
			old = __atomic_fetch_add((uint32_t *)p, (uint32_t)src, __ATOMIC_SEQ_CST);
			break;
		default:
			old = __atomic_fetch_add((uint64_t *)p, src, __ATOMIC_SEQ_CST);
			break;
		}
		emu_rmw_end(c, p);
		emu_wr_reg(c, i, old);
	}
	emu_lf_set(c, EMU_LF_ADD, sz, old + src, old, src);
	EMU_NEXT(c, i);
}

static int op_bswap(struct emu_cpu *c, struct emu_insn *i)
{
	if (i->osz == 8)
		c->s.gpr[i->reg] = __builtin_bswap64(c->s.gpr[i->reg]);
	else if (i->osz == 4)
		c->s.gpr[i->reg] = __builtin_bswap32((uint32_t)c->s.gpr[i->reg]);
	else
		emu_setreg(c, i->reg, 2, 0); /* undefined; zero like current CPUs */
	EMU_NEXT(c, i);
}

static int op_cbw(struct emu_cpu *c, struct emu_insn *i) /* 98 */
{
	uint64_t a = c->s.gpr[X86_RAX];
	if (i->osz == 2)
		emu_setreg(c, X86_RAX, 2, (uint64_t)(int64_t)(int8_t)a);
	else if (i->osz == 4)
		emu_setreg(c, X86_RAX, 4, (uint64_t)(int64_t)(int16_t)a);
	else
		c->s.gpr[X86_RAX] = (uint64_t)(int64_t)(int32_t)a;
	EMU_NEXT(c, i);
}
static int op_cwd(struct emu_cpu *c, struct emu_insn *i) /* 99 */
{
	uint64_t a = c->s.gpr[X86_RAX];
	unsigned n = 8 * i->osz;
	int neg = (a >> (n - 1)) & 1;
	emu_setreg(c, X86_RDX, i->osz, neg ? ~0ULL : 0);
	EMU_NEXT(c, i);
}

static int op_cmov(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t v = emu_rd_rm(c, i); /* the source is read (and may fault) either way */
	if (emu_cond(c, i->op & 15))
		emu_setreg(c, i->reg, i->osz, v);
	else if (i->osz == 4)
		c->s.gpr[i->reg] = (uint32_t)c->s.gpr[i->reg];
	EMU_NEXT(c, i);
}

static int op_setcc(struct emu_cpu *c, struct emu_insn *i)
{
	i->osz = 1;
	emu_wr_rm(c, i, (uint64_t)emu_cond(c, i->op & 15));
	EMU_NEXT(c, i);
}

/* ---- stack ---- */
static int push_r(struct emu_cpu *c, struct emu_insn *i) /* 50+r */
{
	emu_push(c, i->osz, c->s.gpr[i->reg]);
	EMU_NEXT(c, i);
}
static int push64_r(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t sp = c->s.gpr[X86_RSP] - 8;
	emu_wr64(c, sp, c->s.gpr[i->reg]);
	c->s.gpr[X86_RSP] = sp;
	EMU_NEXT(c, i);
}
static int pop_r(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t v = emu_pop(c, i->osz);
	emu_setreg(c, i->reg, i->osz, v);
	EMU_NEXT(c, i);
}
static int pop64_r(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t sp = c->s.gpr[X86_RSP];
	uint64_t v = emu_rd64(c, sp);
	c->s.gpr[X86_RSP] = sp + 8;
	c->s.gpr[i->reg] = v;
	EMU_NEXT(c, i);
}
static int push_i(struct emu_cpu *c, struct emu_insn *i)
{
	emu_push(c, i->osz, i->imm);
	EMU_NEXT(c, i);
}
static int push_rm(struct emu_cpu *c, struct emu_insn *i) /* FF /6 */
{
	emu_push(c, i->osz, emu_rd_rm(c, i));
	EMU_NEXT(c, i);
}
static int pop_rm(struct emu_cpu *c, struct emu_insn *i) /* 8F /0 */
{
	uint64_t v = emu_peek(c, i->osz, 0);
	uint64_t sp = c->s.gpr[X86_RSP];
	/* the address is computed with the incremented stack pointer */
	emu_set_sp(c, sp + i->osz);
	if (i->mem) {
		uint64_t la = emu_ea(c, i);
		emu_set_sp(c, sp);
		emu_wr(c, la, i->osz, v);
		emu_set_sp(c, sp + i->osz);
	} else {
		emu_setreg(c, i->rm, i->osz, v);
	}
	EMU_NEXT(c, i);
}

/* ARPL r/m16, r16 (63 outside 64-bit mode): raise the selector's RPL */
static int op_arpl(struct emu_cpu *c, struct emu_insn *i)
{
	if (!(c->s.cr0 & EMU_CR0_PE))
		emu_ud(c);
	i->osz = 2;
	uint16_t d = (uint16_t)emu_rd_rm(c, i), s = (uint16_t)c->s.gpr[i->reg];
	int adj = (d & 3) < (s & 3);
	if (adj)
		emu_wr_rm(c, i, (d & ~3u) | (s & 3));
	emu_flags_materialize(c);
	c->s.rflags = (c->s.rflags & ~(uint64_t)EMU_F_ZF) | (adj ? EMU_F_ZF : 0);
	EMU_NEXT(c, i);
}

/* BOUND r, m (62 outside 64-bit mode): #BR unless lower <= index <= upper */
static int op_bound(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t la = emu_ea(c, i);
	unsigned sz = i->osz, sh = 64 - 8 * sz;
	int64_t lo = (int64_t)(emu_rd(c, la, sz) << sh) >> sh;
	int64_t hi = (int64_t)(emu_rd(c, (la + sz) & c->la_mask, sz) << sh) >> sh;
	int64_t v = (int64_t)(emu_getreg(c, i->reg, sz) << sh) >> sh;
	if (v < lo || v > hi)
		emu_raise(c, EMU_BR, EMU_NOERR, 0);
	EMU_NEXT(c, i);
}

/* PUSHA/POPA (60/61, outside 64-bit mode) */
static int op_pusha(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned sz = i->osz;
	uint64_t sp = c->s.gpr[X86_RSP];
	/* check the whole area first so a fault leaves the registers as they were */
	emu_wr(c, emu_stack_la(c, sp - 8 * sz), sz, emu_getreg(c, X86_RDI, sz));
	for (unsigned r = X86_RAX; r <= X86_RDI; r++)
		emu_push(c, sz, r == X86_RSP ? sp : c->s.gpr[r]);
	EMU_NEXT(c, i);
}
static int op_popa(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned sz = i->osz;
	uint64_t v[8];
	for (unsigned k = 0; k < 8; k++)
		v[k] = emu_peek(c, sz, (uint64_t)k * sz);
	for (unsigned k = 0; k < 8; k++)
		if (7 - k != X86_RSP)
			emu_setreg(c, 7 - k, sz, v[k]);
	emu_set_sp(c, c->s.gpr[X86_RSP] + 8 * sz);
	EMU_NEXT(c, i);
}

/* ---- flags ---- */
static int op_lahf(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	*emu_r8p(c, 1) = (uint8_t)(emu_flags(c) & 0xd7) | 2;
	EMU_NEXT(c, i);
}
static int op_sahf(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	uint64_t f = emu_flags(c);
	c->s.rflags = (f & ~0xd5ULL) | (*emu_r8p(c, 1) & 0xd5) | 2;
	EMU_NEXT(c, i);
}
static int op_flagop(struct emu_cpu *c, struct emu_insn *i) /* F5 F8 F9 FC FD */
{
	emu_flags_materialize(c);
	switch (i->op) {
	case 0xf5:
		c->s.rflags ^= EMU_F_CF;
		break;
	case 0xf8:
		c->s.rflags &= ~(uint64_t)EMU_F_CF;
		break;
	case 0xf9:
		c->s.rflags |= EMU_F_CF;
		break;
	case 0xfc:
		c->s.rflags &= ~(uint64_t)EMU_F_DF;
		break;
	default:
		c->s.rflags |= EMU_F_DF;
		break;
	}
	EMU_NEXT(c, i);
}

static int op_xlat(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t ea = c->s.gpr[X86_RBX] + *emu_r8p(c, 0);
	if (i->asz == 4)
		ea = (uint32_t)ea;
	else if (i->asz == 2)
		ea = (uint16_t)ea;
	*emu_r8p(c, 0) = emu_rd8(c, (ea + c->segbase[i->seg]) & c->la_mask);
	EMU_NEXT(c, i);
}

static emu_fn mov_sized(struct emu_insn *i, emu_fn f16, emu_fn f32, emu_fn f64)
{
	return i->osz == 2 ? f16 : i->osz == 4 ? f32 : f64;
}

static emu_fn pick_0f(struct emu_insn *i)
{
	switch (i->op) {
	case 0x40 ... 0x4f:
		return op_cmov;
	case 0x90 ... 0x9f:
		return op_setcc;
	case 0xb0:
	case 0xb1:
		return op_cmpxchg;
	case 0xb6:
	case 0xb7:
	case 0xbe:
	case 0xbf:
		return op_movx;
	case 0xc0:
	case 0xc1:
		return op_xadd;
	case 0xc7:
		return i->ext == 1 && i->mem ? op_cmpxchg8b : NULL;
	case 0xc8 ... 0xcf:
		return op_bswap;
	case 0x18 ... 0x1f: /* hint NOPs, PREFETCHh */
	case 0x0d:
		return op_nop;
	}
	return NULL;
}

emu_fn emu_mov_pick(struct emu_insn *i)
{
	int lock = (i->pfx & EMU_PFX_LOCK) != 0;
	if (i->map == 1) {
		unsigned o = i->op;
		if (lock &&
		    !((o == 0xb0 || o == 0xb1 || o == 0xc0 || o == 0xc1 || o == 0xc7) && i->mem))
			return NULL;
		return pick_0f(i);
	}
	if (i->map != 0)
		return NULL;
	if (lock && !((i->op == 0x86 || i->op == 0x87) && i->mem))
		return NULL;
	switch (i->op) {
	case 0x88:
		return i->mem ? mov8_st : mov8_rr;
	case 0x89:
		if (i->mem && ea_b64(i) && i->osz >= 4)
			return i->osz == 8 ? mov64_st_b : mov32_st_b;
		return i->mem ? mov_sized(i, mov16_st, mov32_st, mov64_st)
		              : mov_sized(i, mov16_rr, mov32_rr, mov64_rr);
	case 0x8a:
		if (!i->mem) {
			uint8_t t = i->rm8;
			i->rm8 = i->reg8;
			i->reg8 = t;
			return mov8_rr;
		}
		return mov8_ld;
	case 0x8b:
		if (!i->mem) {
			uint8_t t = i->rm;
			i->rm = i->reg;
			i->reg = t;
			return mov_sized(i, mov16_rr, mov32_rr, mov64_rr);
		}
		if (ea_b64(i) && i->osz >= 4)
			return i->osz == 8 ? mov64_ld_b : mov32_ld_b;
		return mov_sized(i, mov16_ld, mov32_ld, mov64_ld);
	case 0xc6:
		if (i->ext)
			return NULL;
		if (!i->mem) {
			i->reg8 = i->rm8;
			return mov8_ri;
		}
		return mov8_sti;
	case 0xc7:
		if (i->ext)
			return NULL;
		if (!i->mem) {
			i->reg = i->rm;
			if (i->osz == 8)
				return mov_ri; /* imm is already sign-extended */
			return mov_ri;
		}
		return mov_sized(i, mov16_sti, mov32_sti, mov64_sti);
	case 0xb0 ... 0xb7:
		return mov8_ri;
	case 0xb8 ... 0xbf:
		return mov_ri;
	case 0xa0 ... 0xa3:
		return mov_moff;
	case 0x8d:
		return i->mem ? op_lea : NULL;
	case 0x63:
		return i->csz == 8 ? op_movx : op_arpl;
	case 0x62:
		return i->mem ? op_bound : NULL;
	case 0x86:
	case 0x87:
		return op_xchg;
	case 0x90:
		if (i->pfx & EMU_PFX_REX && i->reg == 8)
			return op_xchg_ax;
		return op_nop; /* NOP and PAUSE */
	case 0x91 ... 0x97:
		return op_xchg_ax;
	case 0x98:
		return op_cbw;
	case 0x99:
		return op_cwd;
	case 0x50 ... 0x57:
		return i->osz == 8 && i->csz == 8 ? push64_r : push_r;
	case 0x58 ... 0x5f:
		return i->osz == 8 && i->csz == 8 ? pop64_r : pop_r;
	case 0x68:
	case 0x6a:
		return push_i;
	case 0x8f:
		return i->ext == 0 ? pop_rm : NULL;
	case 0xff:
		if (i->ext != 6)
			return NULL;
		if (i->csz == 8 && i->osz == 4)
			i->osz = 8;
		return push_rm;
	case 0x60:
		return op_pusha;
	case 0x61:
		return op_popa;
	case 0x9e:
		return op_sahf;
	case 0x9f:
		return op_lahf;
	case 0xf5:
	case 0xf8:
	case 0xf9:
	case 0xfc:
	case 0xfd:
		return op_flagop;
	case 0xd7:
		return op_xlat;
	}
	return NULL;
}
