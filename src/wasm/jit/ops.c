/* SPDX-License-Identifier: Apache-2.0 */
/* Numeric instructions (0x41..0xc4 and the saturating conversions): integer
 * arithmetic with constant operands folded into immediates, compares fused
 * into branches, SSE scalar floats with wasm's NaN, zero and trap rules. */
#include "wasm/jit/jc.h"

#include <string.h>

#define I32 CAPSA_WASM_I32
#define I64 CAPSA_WASM_I64
#define F32 CAPSA_WASM_F32
#define F64 CAPSA_WASM_F64

/* Condition codes of eq, ne, lt_s, lt_u, gt_s, gt_u, le_s, le_u, ge_s, ge_u. */
static const uint8_t icc[10] = {CC_E, CC_NE, CC_L, CC_B, CC_G, CC_A, CC_LE, CC_BE, CC_GE, CC_AE};
/* The same compare with its operands swapped. */
static const uint8_t iswap[10] = {CC_E, CC_NE, CC_G, CC_A, CC_L, CC_B, CC_GE, CC_AE, CC_LE, CC_BE};

static int is_mem(const struct jc *c, const struct jv *v)
{
	return v->kind == JV_SLOT || (v->kind == JV_LOCAL && c->loc[v->local].reg < 0);
}

static struct xm mem_of(const struct jc *c, const struct jv *v, uint32_t pos)
{
	return v->kind == JV_SLOT ? jc_slot(c, pos) : jc_local(c, v->local);
}

static void swap(struct jv *a, uint32_t *pa, struct jv *b, uint32_t *pb)
{
	struct jv t = *a;
	uint32_t tp = *pa;
	*a = *b;
	*pa = *pb;
	*b = t;
	*pb = tp;
}

static int fits32(const struct jv *v)
{
	return !jt_w(v->type) || (int64_t)v->c == (int32_t)v->c;
}

/* Register or memory operand of v for "op reg, r/m" (opcode rr); a large
 * constant goes through R11. */
static void op_src(struct jc *c, int pfx, int w, uint32_t rr, int dst, const struct jv *v,
                   uint32_t pos)
{
	if (is_mem(c, v)) {
		x_rm(c->b, pfx, w, rr, dst & 15, mem_of(c, v, pos), 0);
		return;
	}
	int r;
	if (v->kind == JV_CONST) {
		if (dst >= 16) {
			x_mov_ri(c->b, 1, RAX, v->c);
			x_rr(c->b, 0x66, 1, 0x0f6e, 15, RAX, 0);
			r = XMM(15);
		} else {
			x_mov_ri(c->b, 1, R11, v->c);
			r = R11;
		}
	} else {
		r = v->kind == JV_REG ? v->reg : c->loc[v->local].reg;
	}
	x_rr(c->b, pfx, w, rr, dst & 15, r & 15, 0);
}

/* Emits the compare of a and b (kind 0..9, or -1 for eqz of a); returns
 * the condition code that holds when the wasm compare is true. */
static int emit_icmp(struct jc *c, int w, int kind, struct jv *a, uint32_t pa, struct jv *b,
                     uint32_t pb)
{
	if (kind < 0) {
		if (is_mem(c, a)) {
			x_alu_mi(c->b, w, OP_CMP, mem_of(c, a, pa), 0);
		} else {
			int t, r = jc_reg(c, a, pa, &t);
			x_rr(c->b, 0, w, 0x85, r, r, 0);
			if (t)
				jc_free_reg(c, r);
		}
		return CC_E;
	}
	int cc = icc[kind];
	if (a->kind == JV_CONST && b->kind != JV_CONST) {
		swap(a, &pa, b, &pb);
		cc = iswap[kind];
	}
	if (is_mem(c, a) && (b->kind == JV_REG || (b->kind == JV_CONST && fits32(b)) ||
	                     (b->kind == JV_LOCAL && c->loc[b->local].reg >= 0))) {
		if (b->kind == JV_CONST)
			x_alu_mi(c->b, w, OP_CMP, mem_of(c, a, pa), (int32_t)b->c);
		else
			x_rm(c->b, 0, w, 0x39, b->kind == JV_REG ? b->reg : c->loc[b->local].reg,
			     mem_of(c, a, pa), 0);
		jc_free(c, b);
		return cc;
	}
	int t, r = jc_reg(c, a, pa, &t);
	if (b->kind == JV_CONST && fits32(b))
		x_alu_ri(c->b, w, OP_CMP, r, (int32_t)b->c);
	else
		op_src(c, 0, w, 0x3b, r, b, pb);
	if (t)
		jc_free_reg(c, r);
	jc_free(c, b);
	return cc;
}

static int cmp_kind(uint8_t op, int *w)
{
	*w = op >= 0x50;
	int base = *w ? 0x50 : 0x45;
	return op == base ? -1 : op - base - 1;
}

int jc_cmp_emit(struct jc *c, struct jcond *cd)
{
	if (cd->cmp == JC_CMP_ZF)
		return CC_E;
	int w, kind = cmp_kind(cd->cmp, &w);
	return emit_icmp(c, w, kind, &cd->a, cd->pa, &cd->b, cd->pb);
}

void jc_cmp_branch(struct jc *c, struct jcond *cd, int jump_if, uint32_t label)
{
	int cc = jc_cmp_emit(c, cd);
	x_jcc(c->b, jump_if ? cc : cc ^ 1, label);
}

static void icompare(struct jc *c, uint8_t op)
{
	if (rd_left(&c->r) && (*c->r.p == 0x0d || *c->r.p == 0x04 || *c->r.p == 0x1b)) {
		c->pending_cmp = op; /* the branch or select pops the operands */
		return;
	}
	int w, kind = cmp_kind(op, &w);
	struct jv b = {0}, a;
	uint32_t pb = 0;
	if (kind >= 0) {
		b = jc_pop(c);
		pb = c->nvs;
	}
	a = jc_pop(c);
	uint32_t pa = c->nvs;
	int cc = emit_icmp(c, w, kind, &a, pa, &b, pb);
	int dst = jc_alloc(c, 0);
	x_setcc(c->b, cc, dst);
	jc_push_reg(c, I32, dst);
}

static uint64_t fold(uint8_t k, int w, uint64_t a, uint64_t b)
{
	uint64_t r;
	int sh = (int)(b & (w ? 63 : 31));
	switch (k) {
	case 0:
		r = a + b;
		break;
	case 1:
		r = a - b;
		break;
	case 2:
		r = a * b;
		break;
	case 7:
		r = a & b;
		break;
	case 8:
		r = a | b;
		break;
	case 9:
		r = a ^ b;
		break;
	case 10:
		r = a << sh;
		break;
	case 11:
		r = w ? (uint64_t)((int64_t)a >> sh) : (uint32_t)((int32_t)a >> sh);
		break;
	default:
		r = (w ? a : (uint32_t)a) >> sh;
	}
	return w ? r : (uint32_t)r;
}

static void shift(struct jc *c, int w, int digit, struct jv a, uint32_t pa, struct jv b,
                  uint32_t pb)
{
	int dst;
	if (b.kind == JV_CONST) {
		dst = jc_take(c, &a, pa);
		x_shift_ri(c->b, w, digit, dst, (uint8_t)(b.c & (w ? 63 : 31)));
		jc_push_reg(c, w ? I64 : I32, dst);
		return;
	}
	if (a.kind == JV_REG && a.reg == RCX) {
		int n = jc_alloc(c, 0);
		x_mov_rr(c->b, 1, n, RCX);
		a.reg = (uint8_t)n;
		c->busy[RCX] = 0;
	}
	if (!(b.kind == JV_REG && b.reg == RCX)) {
		jc_evict(c, RCX);
		jc_load(c, &b, pb, RCX);
		jc_free(c, &b);
		c->busy[RCX] = 1;
	}
	dst = jc_take(c, &a, pa);
	x_rr(c->b, 0, w, 0xd3, digit, dst, 0);
	jc_free_reg(c, RCX);
	jc_push_reg(c, w ? I64 : I32, dst);
}

static void divide(struct jc *c, int w, int kind, struct jv a, uint32_t pa, struct jv b,
                   uint32_t pb)
{
	/* kind: 0 div_s, 1 div_u, 2 rem_s, 3 rem_u */
	int sgn = !(kind & 1), rem = kind >= 2;
	if (a.kind == JV_REG && a.reg == RDX) {
		x_mov_rr(c->b, 1, RAX, RDX);
		c->busy[RDX] = 0;
		a.kind = JV_REG;
		a.reg = RAX;
	}
	if (b.kind == JV_REG && b.reg == RDX) {
		x_mov_rr(c->b, 1, R11, RDX);
		c->busy[RDX] = 0;
		b.reg = R11;
	}
	jc_evict(c, RDX);
	c->busy[RDX] = 1;
	int rb, tb = 0;
	if (b.kind == JV_CONST) {
		x_mov_ri(c->b, w, R11, b.c);
		rb = R11;
	} else if (b.kind == JV_REG && b.reg == R11) {
		rb = R11;
	} else {
		rb = jc_reg(c, &b, pb, &tb);
	}
	if (!(a.kind == JV_REG && a.reg == RAX)) {
		jc_load(c, &a, pa, RAX);
		jc_free(c, &a);
	}
	int64_t bc = w ? (int64_t)b.c : (int32_t)b.c;
	if (b.kind != JV_CONST || bc == 0) {
		x_rr(c->b, 0, w, 0x85, rb, rb, 0);
		x_jcc(c->b, CC_E, jc_trap_label(c, CAPSA_WASM_TRAP_INT_DIV_ZERO));
	}
	uint32_t done = x_label(c->b);
	if (sgn && (b.kind != JV_CONST || bc == -1)) {
		uint32_t go = x_label(c->b);
		x_alu_ri(c->b, w, OP_CMP, rb, -1);
		x_jcc(c->b, CC_NE, go);
		if (rem) {
			x_mov_ri(c->b, 0, RDX, 0);
			x_jmp(c->b, done);
		} else {
			if (w) {
				x_mov_ri(c->b, 1, RDX, 0x8000000000000000ull);
				x_alu_rr(c->b, 1, OP_CMP, RAX, RDX);
			} else {
				x_alu_ri(c->b, 0, OP_CMP, RAX, INT32_MIN);
			}
			x_jcc(c->b, CC_E, jc_trap_label(c, CAPSA_WASM_TRAP_INT_OVERFLOW));
		}
		x_bind(c->b, go);
	}
	if (sgn) {
		if (w)
			xb_u8(c->b, 0x48);
		xb_u8(c->b, 0x99); /* cdq / cqo */
		x_rr(c->b, 0, w, 0xf7, 7, rb, 0);
	} else {
		x_mov_ri(c->b, 0, RDX, 0);
		x_rr(c->b, 0, w, 0xf7, 6, rb, 0);
	}
	x_bind(c->b, done);
	if (tb)
		jc_free_reg(c, rb);
	int dst;
	if (rem) {
		dst = RDX;
	} else {
		c->busy[RDX] = 0;
		dst = jc_alloc(c, 0);
		x_mov_rr(c->b, 1, dst, RAX);
	}
	jc_push_reg(c, w ? I64 : I32, dst);
}

/* Division and remainder by a constant power of two 2^k (k >= 1): shifts
 * and masks instead of div (kind: 0 div_s, 1 div_u, 2 rem_s, 3 rem_u). */
static int divide_pow2(struct jc *c, int w, int kind, struct jv a, uint32_t pa, struct jv b)
{
	uint64_t d = w ? b.c : (uint32_t)b.c;
	int bits = w ? 64 : 32, k = 0;
	if (b.kind != JV_CONST || d < 2 || (d & (d - 1)))
		return 0;
	while ((1ull << k) != d)
		k++;
	if ((kind == 3 && k > 31) || (!(kind & 1) && k >= bits - 1))
		return 0; /* a mask too wide for an immediate; a negative divisor */
	int x = jc_take(c, &a, pa);
	if (kind == 1) {
		x_shift_ri(c->b, w, 5, x, (uint8_t)k); /* shr */
	} else if (kind == 3) {
		x_alu_ri(c->b, w, OP_AND, x, (int32_t)(d - 1));
	} else {
		/* Round towards zero: add 2^k - 1 to negative dividends. */
		x_mov_rr(c->b, 1, RAX, x);
		x_shift_ri(c->b, w, 7, RAX, (uint8_t)(bits - 1)); /* sar */
		x_shift_ri(c->b, w, 5, RAX, (uint8_t)(bits - k)); /* shr */
		x_alu_rr(c->b, w, OP_ADD, RAX, x);
		if (kind == 0) {
			x_shift_ri(c->b, w, 7, RAX, (uint8_t)k);
			x_mov_rr(c->b, w, x, RAX);
		} else {
			if (k > 31) {
				x_mov_ri(c->b, 1, R11, ~(d - 1));
				x_alu_rr(c->b, w, OP_AND, RAX, R11);
			} else {
				x_alu_ri(c->b, w, OP_AND, RAX, (int32_t) - (int64_t)d);
			}
			x_alu_rr(c->b, w, OP_SUB, x, RAX);
		}
	}
	jc_push_reg(c, w ? CAPSA_WASM_I64 : CAPSA_WASM_I32, x);
	return 1;
}

static int reg_of(const struct jc *c, const struct jv *v)
{
	if (v->kind == JV_REG)
		return v->reg;
	return v->kind == JV_LOCAL ? c->loc[v->local].reg : -1;
}

static int lea_const(const struct jv *b)
{
	return b->kind == JV_CONST && fits32(b) && (int32_t)b->c != INT32_MIN;
}

/* Whether x + y or x - K can be one lea from registers (which reads both
 * operands before it writes, so the result may go to either's local). */
static int lea_ok(const struct jc *c, uint8_t k, const struct jv *a, const struct jv *b)
{
	return reg_of(c, a) >= 0 && k <= 1 && (lea_const(b) || (k == 0 && reg_of(c, b) >= 0));
}

/* x + y or x - K into a register other than x's: one lea (k: 0 add, 1 sub). */
static int lea_form(struct jc *c, int w, uint8_t k, struct jv *a, struct jv *b, int *dst,
                    int to_local)
{
	int ra = reg_of(c, a), rb = reg_of(c, b);
	int bconst = lea_const(b);
	if (!lea_ok(c, k, a, b) || (a->kind == JV_REG && !to_local))
		return 0;
	if (!to_local)
		*dst = jc_alloc(c, 0);
	int32_t d = bconst ? (k ? -(int32_t)b->c : (int32_t)b->c) : 0;
	x_lea(c->b, w, *dst, bconst ? xmem(ra, d) : xmemi(ra, rb, 1, 0));
	jc_free(c, a);
	jc_free(c, b);
	return 1;
}

/* x & 0xff, x & 0xffff (and i64 x & 0xffffffff) of a local or a value in
 * memory: one zero-extending move instead of a copy and an and. */
static int zext_and(struct jc *c, int w, struct jv *a, uint32_t pa, const struct jv *b, int *dst,
                    int to_local)
{
	uint64_t m = w ? b->c : (uint32_t)b->c;
	uint32_t op = m == 0xff ? 0x0fb6 : m == 0xffff ? 0x0fb7 : m == 0xffffffff ? 0x8b : 0;
	int r = reg_of(c, a);
	if (!op || b->kind != JV_CONST || (a->kind == JV_REG && !to_local) ||
	    (r < 0 && !is_mem(c, a)))
		return 0;
	if (!to_local)
		*dst = jc_alloc(c, 0);
	if (r >= 0)
		x_rr(c->b, 0, 0, op, *dst, r, op == 0x0fb6);
	else
		x_rm(c->b, 0, 0, op, *dst, mem_of(c, a, pa), 0);
	jc_free(c, a);
	return 1;
}

static void int_binary(struct jc *c, int w, uint8_t k)
{
	/* k: add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr */
	static const uint8_t alu[] = {OP_ADD, OP_SUB, 0, 0, 0, 0, 0, OP_AND, OP_OR, OP_XOR};
	static const uint8_t sh[] = {4, 7, 5, 0, 1};
	struct jv b = jc_pop(c);
	uint32_t pb = c->nvs;
	struct jv a = jc_pop(c);
	uint32_t pa = c->nvs;
	uint8_t type = w ? I64 : I32;
	if (a.kind == JV_CONST && b.kind == JV_CONST && k != 3 && k != 4 && k != 5 && k != 6 &&
	    k < 13) {
		jc_push(c, (struct jv){JV_CONST, type, 0, 0, fold(k, w, a.c, b.c)});
		return;
	}
	if (k >= 3 && k <= 6) {
		if (!divide_pow2(c, w, k - 3, a, pa, b))
			divide(c, w, k - 3, a, pa, b, pb);
		return;
	}
	if (k >= 10) {
		shift(c, w, sh[k - 10], a, pa, b, pb);
		return;
	}
	int comm = k != 1;
	if (comm && a.kind != JV_REG && (b.kind == JV_REG || a.kind == JV_CONST)) {
		swap(&a, &pa, &b, &pb);
	}
	int tee, dst = jc_dst_local(c, type, lea_ok(c, k, &a, &b) ? NULL : &b, &tee);
	int to_local = dst >= 0;
	if (lea_form(c, w, k, &a, &b, &dst, to_local) ||
	    (k == 7 && zext_and(c, w, &a, pa, &b, &dst, to_local))) {
		jc_push_dst(c, type, dst, tee, to_local);
		return;
	}
	if (to_local) {
		jc_load(c, &a, pa, dst);
		jc_free(c, &a);
	} else {
		dst = jc_take(c, &a, pa);
	}
	if (k == 2) {
		if (b.kind == JV_CONST && fits32(&b)) {
			x_rr(c->b, 0, w, 0x69, dst, dst, 0);
			xb_u32(c->b, (uint32_t)b.c);
		} else {
			op_src(c, 0, w, 0x0faf, dst, &b, pb);
		}
	} else if (b.kind == JV_CONST && fits32(&b)) {
		x_alu_ri(c->b, w, alu[k], dst, (int32_t)b.c);
	} else {
		op_src(c, 0, w, (uint32_t)(alu[k] << 3 | 3), dst, &b, pb);
	}
	jc_free(c, &b);
	jc_push_dst(c, type, dst, tee, to_local);
}

static void int_unary(struct jc *c, int w, int pfx, uint32_t op, int byteop)
{
	struct jv a = jc_pop(c);
	int dst = jc_take(c, &a, c->nvs);
	x_rr(c->b, pfx, w, op, dst, dst, byteop);
	jc_push_reg(c, w ? I64 : I32, dst);
}

/* ---- floats ---- */

static int xmm_operand(struct jc *c, struct jv *v, uint32_t pos, int scratch, int *temp)
{
	*temp = 0;
	if (v->kind == JV_REG)
		return v->reg;
	if (v->kind == JV_LOCAL && c->loc[v->local].reg >= 0)
		return c->loc[v->local].reg;
	jc_load(c, v, pos, XMM(scratch));
	return XMM(scratch);
}

static void f_binary(struct jc *c, int dbl, uint8_t k)
{
	/* k: add sub mul div min max copysign */
	static const uint16_t sse[] = {0x0f58, 0x0f5c, 0x0f59, 0x0f5e};
	int pfx = dbl ? 0xf2 : 0xf3;
	struct jv b = jc_pop(c);
	uint32_t pb = c->nvs;
	struct jv a = jc_pop(c);
	uint32_t pa = c->nvs;
	if ((k == 0 || k == 2) && a.kind != JV_REG && b.kind == JV_REG) {
		swap(&a, &pa, &b, &pb);
	}
	int tee = -1, dst = k < 4 ? jc_dst_local(c, dbl ? F64 : F32, &b, &tee) : -1;
	if (dst >= 0) {
		jc_load(c, &a, pa, dst);
		jc_free(c, &a);
		op_src(c, pfx, 0, sse[k], dst, &b, pb);
		jc_free(c, &b);
		jc_push_dst(c, dbl ? F64 : F32, dst, tee, 1);
		return;
	}
	dst = jc_take(c, &a, pa);
	if (k < 4) {
		op_src(c, pfx, 0, sse[k], dst, &b, pb);
	} else if (k < 6) {
		int t, rb = xmm_operand(c, &b, pb, 15, &t);
		uint32_t nan = x_label(c->b), ne = x_label(c->b), done = x_label(c->b);
		x_rr(c->b, dbl ? 0x66 : 0, 0, 0x0f2e, dst - 16, rb - 16, 0);
		x_jcc(c->b, CC_P, nan);
		x_jcc(c->b, CC_NE, ne);
		x_rr(c->b, 0, 0, k == 4 ? 0x0f56 : 0x0f54, dst - 16, rb - 16, 0);
		x_jmp(c->b, done);
		x_bind(c->b, nan);
		x_rr(c->b, pfx, 0, 0x0f58, dst - 16, rb - 16, 0);
		x_jmp(c->b, done);
		x_bind(c->b, ne);
		x_rr(c->b, pfx, 0, k == 4 ? 0x0f5d : 0x0f5f, dst - 16, rb - 16, 0);
		x_bind(c->b, done);
	} else {
		int t, rb = xmm_operand(c, &b, pb, 15, &t);
		x_rr(c->b, 0x66, dbl, 0x0f7e, dst - 16, RAX, 0);
		x_rr(c->b, 0x66, dbl, 0x0f7e, rb - 16, R11, 0);
		if (dbl) {
			x_shift_ri(c->b, 1, 4, RAX, 1);
			x_shift_ri(c->b, 1, 5, RAX, 1);
			x_shift_ri(c->b, 1, 5, R11, 63);
			x_shift_ri(c->b, 1, 4, R11, 63);
		} else {
			x_alu_ri(c->b, 0, OP_AND, RAX, 0x7fffffff);
			x_alu_ri(c->b, 0, OP_AND, R11, INT32_MIN);
		}
		x_alu_rr(c->b, 1, OP_OR, RAX, R11);
		x_rr(c->b, 0x66, dbl, 0x0f6e, dst - 16, RAX, 0);
	}
	jc_free(c, &b);
	jc_push_reg(c, dbl ? F64 : F32, dst);
}

static void f_unary(struct jc *c, int dbl, uint8_t k)
{
	/* k: abs neg ceil floor trunc nearest sqrt */
	static const uint8_t mode[] = {0, 0, 2, 1, 3, 0};
	struct jv a = jc_pop(c);
	int dst = jc_take(c, &a, c->nvs);
	if (k < 2) {
		x_rr(c->b, 0x66, dbl, 0x0f7e, dst - 16, RAX, 0);
		if (dbl)
			x_rr(c->b, 0, 1, 0x0fba, k ? 7 : 6, RAX, 0); /* btc / btr rax, 63 */
		else
			x_rr(c->b, 0, 0, 0x0fba, k ? 7 : 6, RAX, 0);
		xb_u8(c->b, dbl ? 63 : 31);
		x_rr(c->b, 0x66, dbl, 0x0f6e, dst - 16, RAX, 0);
	} else if (k < 6) {
		x_rr(c->b, 0x66, 0, dbl ? 0x0f3a0b : 0x0f3a0a, dst - 16, dst - 16, 0);
		xb_u8(c->b, mode[k]);
	} else {
		x_rr(c->b, dbl ? 0xf2 : 0xf3, 0, 0x0f51, dst - 16, dst - 16, 0);
	}
	jc_push_reg(c, dbl ? F64 : F32, dst);
}

static void f_compare(struct jc *c, int dbl, uint8_t k)
{
	/* k: eq ne lt gt le ge */
	struct jv b = jc_pop(c);
	uint32_t pb = c->nvs;
	struct jv a = jc_pop(c);
	uint32_t pa = c->nvs;
	int ta, tb;
	int ra = xmm_operand(c, &a, pa, 14, &ta), rb = xmm_operand(c, &b, pb, 15, &tb);
	int swap = k == 2 || k == 4;
	x_rr(c->b, dbl ? 0x66 : 0, 0, 0x0f2e, (swap ? rb : ra) - 16, (swap ? ra : rb) - 16, 0);
	jc_free(c, &a);
	jc_free(c, &b);
	int dst = jc_alloc(c, 0);
	if (k < 2) {
		x_setcc(c->b, k ? CC_NE : CC_E, dst);
		x_setcc(c->b, k ? CC_P : CC_NP, R11);
		x_alu_rr(c->b, 0, k ? OP_OR : OP_AND, dst, R11);
	} else {
		x_setcc(c->b, k < 4 ? CC_A : CC_AE, dst);
	}
	jc_push_reg(c, I32, dst);
}

static void xmm_const(struct jc *c, int x, double d)
{
	uint64_t bits;
	memcpy(&bits, &d, 8);
	x_mov_ri(c->b, 1, RAX, bits);
	x_rr(c->b, 0x66, 1, 0x0f6e, x, RAX, 0);
}

/* Float to integer: trapping (sat 0) or saturating. */
static void trunc_op(struct jc *c, int from_dbl, int to64, int sgn, int sat)
{
	static const double lo[4] = {-2147483649.0, -1.0, -9223372036854775808.0, -1.0};
	static const double hi[4] = {2147483648.0, 4294967296.0, 9223372036854775808.0,
	                             18446744073709551616.0};
	static const uint64_t vmin[4] = {0x80000000u, 0, 0x8000000000000000ull, 0};
	static const uint64_t vmax[4] = {0x7fffffffu, 0xffffffffu, 0x7fffffffffffffffull, ~0ull};
	int i = to64 * 2 + !sgn;
	struct jv a = jc_pop(c);
	int t, ra = xmm_operand(c, &a, c->nvs, 15, &t);
	if (from_dbl)
		x_rr(c->b, 0, 0, 0x0f28, 15, ra - 16, 0);
	else
		x_rr(c->b, 0xf3, 0, 0x0f5a, 15, ra - 16, 0);
	jc_free(c, &a);
	int dst = jc_alloc(c, 0);
	uint32_t done = x_label(c->b), l_lo, l_hi, l_nan;
	if (sat) {
		l_lo = x_label(c->b);
		l_hi = x_label(c->b);
		l_nan = x_label(c->b);
	} else {
		l_lo = l_hi = jc_trap_label(c, CAPSA_WASM_TRAP_INT_OVERFLOW);
		l_nan = jc_trap_label(c, CAPSA_WASM_TRAP_BAD_CONVERSION);
	}
	x_rr(c->b, 0x66, 0, 0x0f2e, 15, 15, 0);
	x_jcc(c->b, CC_P, l_nan);
	xmm_const(c, 14, lo[i]);
	x_rr(c->b, 0x66, 0, 0x0f2e, 15, 14, 0);
	x_jcc(c->b, i == 2 ? CC_B : CC_BE, l_lo);
	xmm_const(c, 14, hi[i]);
	x_rr(c->b, 0x66, 0, 0x0f2e, 15, 14, 0);
	x_jcc(c->b, CC_AE, l_hi);
	if (i == 3) {
		uint32_t big = x_label(c->b);
		xmm_const(c, 14, 9223372036854775808.0);
		x_rr(c->b, 0x66, 0, 0x0f2e, 15, 14, 0);
		x_jcc(c->b, CC_AE, big);
		x_rr(c->b, 0xf2, 1, 0x0f2c, dst, 15, 0);
		x_jmp(c->b, done);
		x_bind(c->b, big);
		x_rr(c->b, 0xf2, 0, 0x0f5c, 15, 14, 0);
		x_rr(c->b, 0xf2, 1, 0x0f2c, dst, 15, 0);
		x_rr(c->b, 0, 1, 0x0fba, 7, dst, 0);
		xb_u8(c->b, 63);
	} else {
		x_rr(c->b, 0xf2, i != 0, 0x0f2c, dst, 15, 0);
		if (i == 1)
			x_mov_rr(c->b, 0, dst, dst);
	}
	if (sat) {
		x_jmp(c->b, done);
		x_bind(c->b, l_nan);
		x_mov_ri(c->b, 0, dst, 0);
		x_jmp(c->b, done);
		x_bind(c->b, l_lo);
		x_mov_ri(c->b, to64, dst, vmin[i]);
		x_jmp(c->b, done);
		x_bind(c->b, l_hi);
		x_mov_ri(c->b, to64, dst, vmax[i]);
	}
	x_bind(c->b, done);
	jc_push_reg(c, to64 ? I64 : I32, dst);
}

static void convert_op(struct jc *c, int to_dbl, int from64, int sgn)
{
	int pfx = to_dbl ? 0xf2 : 0xf3;
	struct jv a = jc_pop(c);
	int t, ra = jc_reg(c, &a, c->nvs, &t);
	int dst = jc_alloc(c, 1);
	x_rr(c->b, 0, 0, 0x0f57, dst - 16, dst - 16, 0);
	if (from64 && !sgn) {
		uint32_t big = x_label(c->b), done = x_label(c->b);
		x_rr(c->b, 0, 1, 0x85, ra, ra, 0);
		x_jcc(c->b, CC_S, big);
		x_rr(c->b, pfx, 1, 0x0f2a, dst - 16, ra, 0);
		x_jmp(c->b, done);
		x_bind(c->b, big);
		x_mov_rr(c->b, 1, RAX, ra);
		x_shift_ri(c->b, 1, 5, RAX, 1);
		x_mov_rr(c->b, 1, R11, ra);
		x_alu_ri(c->b, 0, OP_AND, R11, 1);
		x_alu_rr(c->b, 1, OP_OR, RAX, R11);
		x_rr(c->b, pfx, 1, 0x0f2a, dst - 16, RAX, 0);
		x_rr(c->b, pfx, 0, 0x0f58, dst - 16, dst - 16, 0);
		x_bind(c->b, done);
	} else {
		x_rr(c->b, pfx, from64 || !sgn, 0x0f2a, dst - 16, ra, 0);
	}
	if (t)
		jc_free_reg(c, ra);
	jc_push_reg(c, to_dbl ? F64 : F32, dst);
}

static void reinterpret(struct jc *c, uint8_t to)
{
	struct jv a = jc_pop(c);
	int w = jt_w(to);
	if (a.kind == JV_CONST) {
		jc_push(c, (struct jv){JV_CONST, to, 0, 0, a.c});
		return;
	}
	int t, ra = jt_isf(a.type) ? xmm_operand(c, &a, c->nvs, 15, &t) : jc_reg(c, &a, c->nvs, &t);
	int dst = jc_alloc(c, jt_isf(to));
	if (jt_isf(to))
		x_rr(c->b, 0x66, w, 0x0f6e, dst - 16, ra, 0);
	else
		x_rr(c->b, 0x66, w, 0x0f7e, ra - 16, dst, 0);
	jc_free(c, &a);
	if (!jt_isf(a.type) && t)
		jc_free_reg(c, ra);
	jc_push_reg(c, to, dst);
}

static void conversion(struct jc *c, uint8_t op)
{
	struct jv a;
	int dst;
	switch (op) {
	case 0xa7: /* i32.wrap_i64 */
	case 0xad: /* i64.extend_i32_u */
		a = jc_pop(c);
		if (a.kind == JV_CONST) {
			jc_push(c,
			        (struct jv){JV_CONST, op == 0xa7 ? I32 : I64, 0, 0, (uint32_t)a.c});
			return;
		}
		dst = jc_take(c, &a, c->nvs);
		x_mov_rr(c->b, 0, dst, dst);
		jc_push_reg(c, op == 0xa7 ? I32 : I64, dst);
		return;
	case 0xac:
	case 0xc4:
		int_unary(c, 1, 0, 0x63, 0);
		return;
	case 0xb6:
	case 0xbb:
		a = jc_pop(c);
		dst = jc_take(c, &a, c->nvs);
		x_rr(c->b, op == 0xb6 ? 0xf2 : 0xf3, 0, 0x0f5a, dst - 16, dst - 16, 0);
		jc_push_reg(c, op == 0xb6 ? F32 : F64, dst);
		return;
	case 0xbc:
	case 0xbd:
	case 0xbe:
	case 0xbf: {
		static const uint8_t to[] = {I32, I64, F32, F64};
		reinterpret(c, to[op - 0xbc]);
		return;
	}
	case 0xc0:
	case 0xc1:
	case 0xc2:
	case 0xc3:
		int_unary(c, op >= 0xc2, 0, op & 1 ? 0x0fbf : 0x0fbe, 1);
		return;
	}
	if (op >= 0xa8 && op <= 0xb1 && op != 0xac && op != 0xad) {
		int to64 = op >= 0xae, k = (op - (to64 ? 0xae : 0xa8));
		trunc_op(c, k >= 2, to64, !(k & 1), 0);
		return;
	}
	/* 0xb2..0xba without 0xb6: convert */
	int to_dbl = op >= 0xb7, k = op - (to_dbl ? 0xb7 : 0xb2);
	convert_op(c, to_dbl, k >= 2, !(k & 1));
}

int jc_op_fc(struct jc *c, uint32_t sub)
{
	if (sub <= 7) {
		trunc_op(c, (sub & 2) != 0, sub >= 4, !(sub & 1), 1);
		return 0;
	}
	int jc_op_bulk(struct jc * c, uint32_t sub);
	return jc_op_bulk(c, sub);
}

int jc_op_numeric(struct jc *c, uint8_t op)
{
	int64_t v;
	int32_t i;
	uint32_t f;
	uint64_t d;
	switch (op) {
	case 0x41:
		if (rd_s32(&c->r, &i))
			return -1;
		jc_push(c, (struct jv){JV_CONST, I32, 0, 0, (uint32_t)i});
		return 0;
	case 0x42:
		if (rd_s64(&c->r, &v))
			return -1;
		jc_push(c, (struct jv){JV_CONST, I64, 0, 0, (uint64_t)v});
		return 0;
	case 0x43:
		if (rd_f32(&c->r, &f))
			return -1;
		jc_push(c, (struct jv){JV_CONST, F32, 0, 0, f});
		return 0;
	case 0x44:
		if (rd_f64(&c->r, &d))
			return -1;
		jc_push(c, (struct jv){JV_CONST, F64, 0, 0, d});
		return 0;
	}
	if (op <= 0x5a) {
		icompare(c, op);
	} else if (op <= 0x66) {
		f_compare(c, op >= 0x61, (uint8_t)(op - (op >= 0x61 ? 0x61 : 0x5b)));
	} else if (op <= 0x8a) {
		int w = op >= 0x79;
		uint8_t k = (uint8_t)(op - (w ? 0x79 : 0x67));
		if (k <= 2)
			int_unary(c, w, 0xf3, k == 0 ? 0x0fbd : k == 1 ? 0x0fbc : 0x0fb8, 0);
		else
			int_binary(c, w, (uint8_t)(k - 3));
	} else if (op <= 0xa6) {
		int dbl = op >= 0x99;
		uint8_t k = (uint8_t)(op - (dbl ? 0x99 : 0x8b));
		if (k <= 6)
			f_unary(c, dbl, k);
		else
			f_binary(c, dbl, (uint8_t)(k - 7));
	} else {
		conversion(c, op);
	}
	return 0;
}
