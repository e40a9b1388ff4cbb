/* SPDX-License-Identifier: Apache-2.0 */
/* Counted loops under fuel. A loop in counted form,
 *
 *   loop ... (body) ...
 *     local.get j; <step>; i32.add|i32.sub; local.tee j   (or local.set j;
 *     <bound>; <cmp>; br_if 0                               local.get j)
 *   end
 *
 * (also <step>; local.get j; i32.add, and br_if 0 on j itself: j != 0),
 * with step and bound constants or locals the body does not write, and j
 * written only there, takes a number of back edges its induction variable
 * tells. Such a loop runs without a fuel check per iteration: at its entry
 * a bound n' is computed that lets the loop's own compare take at most as
 * many back edges as the fuel in R13 allows; when the loop falls out, the
 * back edges taken are charged, and if the original condition still holds
 * (fuel stopped it) the back edge is done exactly as elsewhere (sub r13,
 * 1; the refill or the trap at the br_if, as in the interpreter), then the
 * bound is computed again.
 *
 * The body has no call, no nested loop, no branch out of it or to its
 * head and no return, so the final br_if is its only back edge and every
 * path through it reaches the update. Traps in the body (out-of-line ones
 * and faults caught by guard regions) charge the back edges taken first,
 * so that the fuel left after a trap is the interpreter's.
 *
 * Arithmetic. Every compare is brought to an unsigned "less than" by a
 * transform T of 32-bit values: T(x) = x (lt_u, le_u), x ^ 0x80000000
 * (lt_s, le_s), ~x (gt_u, ge_u), x ^ 0x7fffffff (gt_s, ge_s); for ne
 * (and j != 0) T(x) = x when the step is a power of two and ~x when it
 * is minus one, other steps are not taken. Each T is its own inverse, keeps the order the
 * compare asks for (a <s b <=> T(a) <u T(b) for the sign flip; a >u b <=>
 * ~a <u ~b; a >s b <=> (a ^ 0x7fffffff) <u (b ^ 0x7fffffff)), and moves
 * additions over: T(x + s) = T(x) + s for x and x ^ 0x80000000, T(x) - s
 * for the other two (mod 2^32). So with d = +-step (the transformed
 * increment, a 32-bit value) and J_k = T(j0) + k*d computed without
 * wrapping (j0: j at the loop's entry), the loop's condition after k
 * iterations is J_k < B, where B = T(n) for lt/gt, T(n) + 1 (a 64-bit
 * value, up to 2^32) for le/ge, and for ne: T(n) when T(j0) < T(n) and d
 * divides T(n) - T(j0) (then J_k reaches T(n) exactly where j reaches n,
 * and is below it before), else the loop is not counted this time.
 *
 * The clamped bound: with R = min(r13, 2^31 - 1) back edges allowed,
 * n' = min(T(j0) + R*d + 1, B) (64-bit: R*d < 2^63). The loop compares
 * T(j) < n', i.e. j against T(n') with the condition code of T; back edge
 * k is then taken iff J_k < B and k*d < R*d + 1, i.e. k <= R (d >= 1).
 * Preconditions: d >= 1; no wrap-around: T(j0) + d < 2^32 (the first
 * iteration) and n' + d <= 2^32 (the last value J_m < n' - 1 + d + 1);
 * then every J_k up to the exit is below 2^32, so the 32-bit T(j) the
 * code computes is J_k. When they fail, n' = 0: the loop's compare fails
 * at once, each iteration goes through the exact path (correct, slower).
 *
 * Charges. After k back edges and before the update, T(j) - T(j0) = k*d
 * (a trap: k is charged; in the fallback k = 0 and T(j) = T(j0), which is
 * tested first, so d = 0 is never divided by). At the exit, after m
 * iterations, T(j) - T(j0) = m*d and m - 1 back edges were taken; in the
 * fallback m = 1 and the difference is d (mod 2^32, any d), so
 * (T(j) - T(j0) - d) / d is charged, skipped when zero. The cells: T(j0),
 * d (zero-extended) and T(n') (32-bit), in three frame cells; the loop
 * compares with T(n') in a register (N_REG) instead.
 *
 * Nests. A counted loop O whose body holds counted loops I_1..I_p of
 * constant bounds B_1..B_p (each entered at most once per iteration of O:
 * they hold no loop, and O's body branches only forward) may charge its
 * own back edges at its exit while the I_q charge theirs at their exits.
 * The I_q take their shortcuts (n' = B_q, fewer than B_q back edges) only
 * with r13 >= B_q; r13 then overstates the fuel by O's back edges so far,
 * so O reserves K = B_1 + ... + B_p per iteration: with r0 its r13 at
 * entry, it takes at most R = (r0 - K) >> s back edges, 2^s > K (R = 0 when
 * r0 < K). After t <= R of them, and inner loops of this iteration having
 * taken c, the fuel is at least r0 - t - t*K - c >= (R - t)(K + 1) + K - c,
 * at least the bound of the next inner loop: no shortcut takes more than
 * the fuel allows. An inner loop that takes no shortcut charges O's back
 * edges so far (in O's body before its update, T(i) - T(i0) is their
 * number times d), makes T(i0) = T(i) and O's n' = 0 so that O's next
 * back edge is done exactly (charging nothing more: (T(i) + d - T(i0) - d)
 * / d = 0) and computes O's bound again from r13; then r13 is the fuel, and
 * the inner loop goes on as a loop alone. A trap in I_q charges I_q's back
 * edges and O's. O keeps n' in its cell. */
#include "wasm/jit/trip.h"

#include <stdlib.h>

enum { TK_ID, TK_SIGN, TK_NOT, TK_NSIGN };

/* One operand of the pattern: local.get x or i32.const v. */
struct tsrc {
	int local;
	uint32_t v;
};

static int read_src(struct rd *r, struct tsrc *s)
{
	if (!rd_left(r))
		return -1;
	uint8_t op = *r->p++;
	if (op == 0x20) {
		s->local = 1;
		return rd_u32(r, &s->v);
	}
	int32_t v;
	if (op != 0x41 || rd_s32(r, &v))
		return -1;
	s->local = 0;
	s->v = (uint32_t)v;
	return 0;
}

static int take_op(struct rd *r, uint8_t op)
{
	if (!rd_left(r) || *r->p != op)
		return 0;
	r->p++;
	return 1;
}

static int is_i32_local(const struct jc *c, const struct tsrc *s)
{
	return !s->local || (s->v < c->nlocals && c->loc[s->v].type == CAPSA_WASM_I32);
}

/* The transform of a compare and the sign of d: 0, or -1 when the
 * compare is not taken. */
static int pick_transform(struct jtrip *t)
{
	switch (t->cmp) {
	case 0x48: /* lt_s */
	case 0x4c: /* le_s */
		t->tk = TK_SIGN;
		return 0;
	case 0x49: /* lt_u */
	case 0x4d: /* le_u */
		t->tk = TK_ID;
		return 0;
	case 0x4a: /* gt_s */
	case 0x4e: /* ge_s */
		t->tk = TK_NSIGN;
		t->neg ^= 1;
		return 0;
	case 0x4b: /* gt_u */
	case 0x4f: /* ge_u */
		t->tk = TK_NOT;
		t->neg ^= 1;
		return 0;
	case 0x00: /* j != 0 */
	case 0x47: /* ne */
		if (t->step_local)
			return -1;
		uint32_t add = t->neg ? 0u - t->step : t->step, back = 0u - add;
		if (add && add < 0x80000000u && !(add & (add - 1))) {
			t->tk = TK_ID;
			return 0;
		}
		if (back && back < 0x80000000u && !(back & (back - 1))) {
			t->tk = TK_NOT;
			t->neg ^= 1;
			return 0;
		}
		return -1;
	default:
		return -1;
	}
}

/* The counted tail at p, ending the loop: fills t (not its labels). */
static int match_tail(const struct jc *c, const uint8_t *p, struct jtrip *t)
{
	struct rd r = c->r;
	r.p = p;
	struct tsrc a, b, n = {0, 0};
	uint32_t j, j2;
	if (read_src(&r, &a) || read_src(&r, &b) || !rd_left(&r))
		return 0;
	uint8_t op = *r.p++;
	if (op != 0x6a && op != 0x6b)
		return 0;
	if (take_op(&r, 0x22)) {
		if (rd_u32(&r, &j))
			return 0;
	} else if (!take_op(&r, 0x21) || rd_u32(&r, &j) || !take_op(&r, 0x20) || rd_u32(&r, &j2) ||
	           j2 != j) {
		return 0;
	}
	struct tsrc step;
	if (a.local && a.v == j)
		step = b;
	else if (op == 0x6a && b.local && b.v == j)
		step = a;
	else
		return 0;
	uint8_t cmp = 0;
	if (!(rd_left(&r) && *r.p == 0x0d)) {
		if (read_src(&r, &n) || !rd_left(&r))
			return 0;
		cmp = *r.p++;
	}
	const uint8_t *brif = r.p;
	uint8_t depth;
	if (!take_op(&r, 0x0d) || rd_u8(&r, &depth) || depth != 0 || !take_op(&r, 0x0b))
		return 0;
	struct tsrc jl = {1, j};
	if ((step.local && step.v == j) || (n.local && n.v == j) || !is_i32_local(c, &jl) ||
	    !is_i32_local(c, &step) || !is_i32_local(c, &n))
		return 0;
	*t = (struct jtrip){.brif = brif,
	                    .j = j,
	                    .step = step.v,
	                    .bound = n.v,
	                    .step_local = (uint8_t)step.local,
	                    .bound_local = (uint8_t)n.local,
	                    .neg = op == 0x6b,
	                    .cmp = cmp};
	if (pick_transform(t))
		return 0;
	/* a constant step moving the wrong way (or 0) never counts */
	uint32_t d = t->neg ? 0u - t->step : t->step;
	return t->step_local || (d && d < 0x80000000u);
}

/* An instruction the body of a counted loop may hold (its immediates
 * skipped, r after the opcode); *depth follows the blocks in the body. */
static int body_op(struct rd *r, uint8_t op, uint32_t *depth)
{
	uint32_t l, n;
	switch (op) {
	case 0x02:
	case 0x04:
		++*depth;
		break;
	case 0x0b:
		if (!*depth)
			return -1; /* the loop ends without the counted tail */
		--*depth;
		return 0;
	case 0x00:
		return *depth ? 0 : -1; /* the final br_if would be dead code */
	case 0x0c:
	case 0x0d:
		/* branches only to blocks of the body */
		return rd_u32(r, &l) || l >= *depth ? -1 : 0;
	case 0x0e:
		if (rd_u32(r, &n) || n > rd_left(r))
			return -1;
		for (uint32_t i = 0; i <= n; i++)
			if (rd_u32(r, &l) || l >= *depth)
				return -1;
		return 0;
	case 0x01:
	case 0x05:
	case 0x1a:
	case 0x1b:
	case 0x1c:
		break;
	case 0xfc: /* saturating truncations only (the rest call the runtime) */
		if (rd_u32(r, &n) || n > 7)
			return -1;
		return 0;
	default:
		/* locals, globals, loads and stores, constants, numeric */
		if ((op >= 0x20 && op <= 0x24) || (op >= 0x28 && op <= 0x3e) ||
		    (op >= 0x41 && op <= 0xc4))
			break;
		return -1;
	}
	return jc_skip_imm(r, op);
}

/* Whether the body from p to tail writes j, the step or the bound. */
static int writes_vars(const struct jc *c, const uint8_t *p, const uint8_t *tail,
                       const struct jtrip *t)
{
	struct rd r = c->r;
	r.p = p;
	while (r.p < tail) {
		uint8_t op = *r.p++;
		uint32_t x;
		if (op == 0x21 || op == 0x22) {
			if (rd_u32(&r, &x))
				return 1;
			if (x == t->j || (t->step_local && x == t->step) ||
			    (t->bound_local && x == t->bound))
				return 1;
		} else if (jc_skip_imm(&r, op)) {
			return 1;
		}
	}
	return 0;
}

static uint32_t tk_const(int tk)
{
	return tk == TK_SIGN ? 0x80000000u : tk == TK_NSIGN ? 0x7fffffffu : 0;
}

static uint32_t tk_apply(int tk, uint32_t x)
{
	return tk == TK_NOT ? ~x : x ^ tk_const(tk);
}

/* B of a counted loop with a constant bound (0 for a bound in a local). */
static uint64_t const_b(const struct jtrip *t)
{
	int le = t->cmp >= 0x4c && t->cmp <= 0x4f;
	return t->bound_local ? 0 : (uint64_t)tk_apply(t->tk, t->bound) + (uint64_t)le;
}

/* The loop whose body starts at p, when counted. With nest, its body may
 * hold counted loops of a constant bound (not nested further): t->resv is
 * then the sum of their B, at least 1. */
static int scan(const struct jc *c, const uint8_t *p, struct jtrip *t, int nest)
{
	struct rd r = c->r;
	r.p = p;
	uint32_t depth = 0;
	uint64_t resv = 0;
	while (rd_left(&r)) {
		if (!depth && match_tail(c, r.p, t)) {
			t->resv = (uint32_t)resv;
			return !writes_vars(c, p, r.p, t);
		}
		uint8_t op = *r.p++;
		if (op == 0x03 && nest) {
			struct jtrip in;
			uint64_t bt;
			if (!take_op(&r, 0x40) || !scan(c, r.p, &in, 0) || !(bt = const_b(&in)) ||
			    (resv += bt) >= 0x40000000u)
				return 0;
			r.p = in.brif + 3; /* past br_if 0 and end */
			continue;
		}
		if (body_op(&r, op, &depth))
			return 0;
	}
	return 0;
}

/* r = T(r), 32-bit (zero-extended). */
static void emit_t(struct jc *c, int tk, int r)
{
	if (tk == TK_NOT)
		x_rr(c->b, 0, 0, 0xf7, 2, r, 0); /* not */
	else if (tk != TK_ID)
		x_alu_ri(c->b, 0, OP_XOR, r, (int32_t)tk_const(tk));
}

static struct xm tcell(const struct jc *c, const struct jtrip *t, uint32_t k)
{
	return jc_local(c, c->nlocals + c->trip_cell + t->cell + k);
}
#define C_J0 0 /* T(j0) */
#define C_D  1 /* d */
#define C_N  2 /* T^-1(n'): what a loop holding others compares j with */
/* What the other loops compare j with: a register kept from the locals
 * (jc_trip_reserve), so that the compare is the same instruction as
 * without fuel but for the register in place of an immediate (a memory
 * operand there cost 10 % on sieve). No instruction the body may hold
 * uses it: it is not a temporary, and calls and bulk operations are not
 * taken. */
#define N_REG RDI

/* T^-1(n') = v for the loop's compare. */
static void set_n_imm(struct jc *c, const struct jtrip *t, uint32_t v)
{
	if (t->resv)
		x_store_i32(c->b, 0, tcell(c, t, C_N), (int32_t)v);
	else
		x_mov_ri(c->b, 0, N_REG, v);
}

/* T^-1(n') = the 32-bit value of r. */
static void set_n_reg(struct jc *c, const struct jtrip *t, int r)
{
	if (t->resv)
		x_store(c->b, 0, tcell(c, t, C_N), r);
	else
		x_mov_rr(c->b, 0, N_REG, r);
}

/* dst = a local's value or a constant, zero-extended (a 32-bit move: the
 * 64-bit arithmetic below reads the whole register). */
static void load_src(struct jc *c, int local, uint32_t v, int dst)
{
	if (local && c->loc[v].reg >= 0) {
		x_mov_rr(c->b, 0, dst, c->loc[v].reg);
		return;
	}
	struct jv jv = {local ? JV_LOCAL : JV_CONST, CAPSA_WASM_I32, 0, local ? v : 0, v};
	jc_load(c, &jv, c->nvs, dst);
}

/* A constant d (0: a local step). */
static uint32_t const_d(const struct jtrip *t)
{
	return t->step_local ? 0 : t->neg ? 0u - t->step : t->step;
}

/* A constant step and bound bound the back edges whatever j0 is: J_k =
 * T(j0) + k*d < B needs k < B/d, so at most E = ceil(B/d) - 1 are taken.
 * With r13 >= E, T(j0) < B (so that, with B + d <= 2^32, no value wraps)
 * and for ne d dividing B - T(j0), n' = B lets the loop take no more edges
 * than the fuel allows: the rest of the entry is skipped. RAX holds T(j0);
 * the rest of the entry follows. */
static void emit_fast(struct jc *c, const struct jtrip *t)
{
	struct xbuf *b = c->b;
	int le = t->cmp >= 0x4c && t->cmp <= 0x4f, ne = t->cmp == 0 || t->cmp == 0x47;
	uint64_t bt = (uint64_t)tk_apply(t->tk, t->bound) + (uint64_t)le, d = const_d(t);
	if (t->resv || t->step_local || t->bound_local || !d || bt + d > (1ull << 32) ||
	    (ne && bt % d))
		return;
	uint64_t e = bt ? (bt + d - 1) / d - 1 : 0;
	if (e > 0x7fffffff)
		return;
	uint32_t general = x_label(b);
	x_alu_ri(b, 1, OP_CMP, R13, (int32_t)e);
	x_jcc(b, CC_B, general);
	x_alu_ri(b, 0, OP_CMP, RAX, (int32_t)(uint32_t)bt);
	x_jcc(b, CC_AE, general);
	if (ne && d > 1) {                      /* d, a power of two, divides B: and B - T(j0)? */
		x_rr(b, 0, 0, 0xf7, 0, RAX, 0); /* test eax, imm32 */
		xb_u32(b, (uint32_t)d - 1);
		x_jcc(b, CC_NE, general);
	}
	set_n_imm(c, t, tk_apply(t->tk, (uint32_t)bt));
	x_jmp(b, t->head);
	x_bind(b, general);
}

/* The same for a constant bound B < 2^32 and a step in a local: whatever
 * d >= 1 is, k*d <= J_k < B, so fewer than B back edges are taken; with r13
 * >= B, T(j0) < B and d <= 2^32 - B (one unsigned compare of d - 1, which
 * also fails d = 0), n' = B. RAX holds T(j0), R11 d (32-bit). */
static void emit_fast_bound(struct jc *c, const struct jtrip *t, uint32_t general)
{
	struct xbuf *b = c->b;
	int le = t->cmp >= 0x4c && t->cmp <= 0x4f;
	uint64_t bt = (uint64_t)tk_apply(t->tk, t->bound) + (uint64_t)le;
	if (t->resv || !t->step_local || t->bound_local || !bt || bt >= 0x80000000u)
		return;
	x_alu_ri(b, 1, OP_CMP, R13, (int32_t)bt);
	x_jcc(b, CC_B, general);
	x_alu_ri(b, 0, OP_CMP, RAX, (int32_t)bt);
	x_jcc(b, CC_AE, general);
	x_lea(b, 0, RDX, xmem(R11, -1));
	x_alu_ri(b, 0, OP_CMP, RDX, (int32_t)(uint32_t)(0xffffffffu - (uint32_t)bt));
	x_jcc(b, CC_A, general);
	set_n_imm(c, t, tk_apply(t->tk, (uint32_t)bt));
	x_jmp(b, t->head);
}

/* Any bound: with d >= 1 and T(j0) + d < 2^32 checked and B (64-bit, at
 * most 2^32) in RDX, fewer than B back edges are taken, so r13 >= B and B
 * + d <= 2^32 make n' = B. Jumps to done with n' in RAX, else goes on to
 * the clamp. RAX is free (the clamp starts afresh). */
static void emit_fast_any(struct jc *c, uint32_t done)
{
	struct xbuf *b = c->b;
	uint32_t clamp = x_label(b);
	x_alu_rr(b, 1, OP_CMP, R13, RDX);
	x_jcc(b, CC_B, clamp);
	x_lea(b, 1, RAX, xmemi(RDX, R11, 1, -1));
	x_shift_ri(b, 1, 5, RAX, 32); /* shr */
	x_jcc(b, CC_NE, clamp);
	x_mov_rr(b, 1, RAX, RDX);
	x_jmp(b, done);
	x_bind(b, clamp);
}

static void emit_charge(struct jc *c, const struct jtrip *t, int at_exit);

/* A counted loop in a nest, before it looks at r13 (none of its shortcuts
 * taken): charges the back edges its outer loop o has taken and makes o's
 * compare fail at its next back edge, which is then done exactly and
 * computes o's bound again from r13. Uses RAX and RDX. */
static void emit_settle(struct jc *c, const struct jtrip *o)
{
	emit_charge(c, o, 0);
	load_src(c, 1, o->j, RAX);
	emit_t(c, o->tk, RAX);
	x_store(c->b, 1, tcell(c, o, C_J0), RAX);
	x_store_i32(c->b, 0, tcell(c, o, C_N), (int32_t)tk_apply(o->tk, 0));
}

/* RAX = the back edges the loop may take: min(r13, 2^31 - 1), or for a
 * loop holding counted loops min((r13 - K) >> s, 2^31 - 1) (0 when r13 < K)
 * with K = t->resv and 2^s > K, so that R iterations' K and R back edges
 * fit in r13 (see the top). */
static void emit_allowed(struct jc *c, const struct jtrip *t)
{
	struct xbuf *b = c->b;
	if (!t->resv) {
		x_mov_ri(b, 0, RAX, 0x7fffffff);
		x_alu_rr(b, 1, OP_CMP, R13, RAX);
		x_rr(b, 0, 1, 0x0f42, RAX, R13, 0); /* cmovb rax, r13 */
		return;
	}
	uint32_t pos = x_label(b), small = x_label(b);
	x_mov_rr(b, 1, RAX, R13);
	x_alu_ri(b, 1, OP_SUB, RAX, (int32_t)t->resv);
	x_jcc(b, CC_AE, pos);
	x_mov_ri(b, 0, RAX, 0);
	x_bind(b, pos);
	x_shift_ri(b, 1, 5, RAX, (uint8_t)(32 - __builtin_clz(t->resv))); /* shr */
	x_alu_ri(b, 1, OP_CMP, RAX, 0x7fffffff);
	x_jcc(b, CC_BE, small);
	x_mov_ri(b, 0, RAX, 0x7fffffff);
	x_bind(b, small);
}

/* ent: computes T(j0), d and n' into the cells (see the top). Uses RAX,
 * RDX and R11, free at the loop's entry (the stack is spilled). */
static void emit_entry(struct jc *c, const struct jtrip *t)
{
	struct xbuf *b = c->b;
	uint32_t fb = x_label(b);
	x_bind(b, t->ent);
	load_src(c, 1, t->j, RAX);
	emit_t(c, t->tk, RAX);
	x_store(b, 1, tcell(c, t, C_J0), RAX);
	uint32_t d = const_d(t);
	if (d & (d - 1)) { /* a constant the charges divide by */
		x_mov_ri(b, 0, R11, d);
		x_store(b, 1, tcell(c, t, C_D), R11);
	}
	emit_fast(c, t);
	if (t->step_local) {
		load_src(c, 1, t->step, R11);
		if (t->neg)
			x_rr(b, 0, 0, 0xf7, 3, R11, 0); /* neg r11d */
	} else {
		x_mov_ri(b, 0, R11, d);
	}
	if (!d) /* a local: the charges divide by it */
		x_store(b, 1, tcell(c, t, C_D), R11);
	uint32_t general = x_label(b), done = x_label(b);
	emit_fast_bound(c, t, general);
	x_bind(b, general);
	if (t->outer != UINT32_MAX) {
		emit_settle(c, &c->trips[t->outer]);
		x_load(b, 1, RAX, tcell(c, t, C_J0));
	}
	if (t->step_local) {
		x_alu_rr(b, 0, OP_OR, R11, R11);
		x_jcc(b, CC_E, fb); /* d = 0 */
	}
	x_mov_rr(b, 0, RDX, RAX);
	x_alu_rr(b, 0, OP_ADD, RDX, R11);
	x_jcc(b, CC_B, fb); /* T(j0) + d >= 2^32 */
	/* B, 64-bit, in RDX */
	int le = t->cmp >= 0x4c && t->cmp <= 0x4f;
	if (t->bound_local) {
		load_src(c, 1, t->bound, RDX);
		emit_t(c, t->tk, RDX);
		if (le)
			x_alu_ri(b, 1, OP_ADD, RDX, 1);
	} else {
		x_mov_ri(b, 1, RDX, (uint64_t)tk_apply(t->tk, t->bound) + (uint64_t)le);
	}
	if (t->cmp == 0 || t->cmp == 0x47) {
		x_alu_rr(b, 1, OP_CMP, RDX, RAX);
		x_jcc(b, CC_BE, fb); /* T(n) <= T(j0): j passes n only by wrapping */
		if (d > 1) {         /* d does not divide T(n) - T(j0): j skips n */
			x_mov_rr(b, 0, R11, RDX);
			x_alu_rr(b, 0, OP_SUB, R11, RAX);
			x_rr(b, 0, 0, 0xf7, 0, R11, 0); /* test r11d, imm32 */
			xb_u32(b, d - 1);
			x_jcc(b, CC_NE, fb);
			x_mov_ri(b, 0, R11, d);
		}
	}
	if (!t->resv)
		emit_fast_any(c, done);
	/* t = T(j0) + R * d + 1 */
	emit_allowed(c, t);
	x_rr(b, 0, 1, 0x0faf, RAX, R11, 0); /* imul rax, r11 */
	x_alu_rm(b, 1, OP_ADD, RAX, tcell(c, t, C_J0));
	x_alu_ri(b, 1, OP_ADD, RAX, 1);
	/* n' = min(t, B); then n' + d <= 2^32 */
	x_alu_rr(b, 1, OP_CMP, RAX, RDX);
	x_rr(b, 0, 1, 0x0f47, RAX, RDX, 0); /* cmova rax, rdx */
	x_lea(b, 1, RDX, xmemi(RAX, R11, 1, -1));
	x_shift_ri(b, 1, 5, RDX, 32); /* shr */
	x_jcc(b, CC_NE, fb);
	x_bind(b, done);
	emit_t(c, t->tk, RAX);
	set_n_reg(c, t, RAX);
	x_jmp(b, t->head);
	x_bind(b, fb);
	set_n_imm(c, t, tk_apply(t->tk, 0));
	x_jmp(b, t->head);
}

/* r13 -= the back edges taken: k (a trap before the update) or m - 1 (at
 * the exit). Uses RAX and RDX (dead at both places). */
static void emit_charge(struct jc *c, const struct jtrip *t, int at_exit)
{
	struct xbuf *b = c->b;
	uint32_t d = const_d(t);
	load_src(c, 1, t->j, RAX);
	emit_t(c, t->tk, RAX);
	x_alu_rm(b, 0, OP_SUB, RAX, tcell(c, t, C_J0));
	if (d && !(d & (d - 1))) {
		/* a power of two: the differences are exact multiples of d (also
		 * in the fallback, where the exit's is d itself) */
		if (d > 1)
			x_shift_ri(b, 0, 5, RAX, (uint8_t)__builtin_ctz(d));
		if (at_exit)
			x_alu_ri(b, 0, OP_SUB, RAX, 1);
		x_alu_rr(b, 1, OP_SUB, R13, RAX);
		return;
	}
	uint32_t skip = x_label(b);
	if (at_exit)
		x_alu_rm(b, 0, OP_SUB, RAX, tcell(c, t, C_D));
	else
		x_alu_rr(b, 0, OP_OR, RAX, RAX);
	x_jcc(b, CC_E, skip);
	x_mov_ri(b, 0, RDX, 0);
	x_rm(b, 0, 0, 0xf7, 6, tcell(c, t, C_D), 0); /* div dword [d] */
	x_alu_rr(b, 1, OP_SUB, R13, RAX);
	x_bind(b, skip);
}

uint32_t jc_trip_wanted(const struct jc *c)
{
	struct rd r = c->r;
	struct jtrip t;
	uint32_t cells = 0;
	while (rd_left(&r)) {
		uint8_t op = *r.p++;
		if (op == 0x03 && take_op(&r, 0x40)) {
			if (scan(c, r.p, &t, 1) && cells < (t.resv ? 6 : 3))
				cells = t.resv ? 6 : 3;
			continue;
		}
		if (jc_skip_imm(&r, op))
			return cells;
	}
	return cells;
}

void jc_trip_loop(struct jc *c, uint32_t head)
{
	struct jtrip t;
	uint32_t outer = c->trip_open ? (uint32_t)c->trip_open - 1 : UINT32_MAX;
	if (!c->st.metered || c->trip_cell == UINT32_MAX)
		return;
	if (outer == UINT32_MAX) {
		if (!scan(c, c->r.p, &t, 1))
			return;
	} else if (!c->trips[outer].resv) {
		return;
	} else if (!scan(c, c->r.p, &t, 0) || !const_b(&t)) {
		c->fail = 1; /* the outer loop's scan took it: cannot happen */
		return;
	}
	if (c->busy[RDX] || c->busy[RAX] || c->busy[R11]) {
		c->fail = 1; /* the stack is spilled at a loop: cannot happen */
		return;
	}
	if (c->ntrips == c->captrips) {
		uint32_t n = c->captrips ? c->captrips * 2 : 4;
		struct jtrip *p = realloc(c->trips, n * sizeof(*p));
		if (!p) {
			c->fail = 1;
			return;
		}
		c->trips = p;
		c->captrips = n;
	}
	t.ent = x_label(c->b);
	t.head = head;
	t.trap_lo = c->ntraps;
	t.site_lo = *c->nsites;
	t.outer = outer;
	t.cell = outer == UINT32_MAX ? 0 : 3;
	if (outer != UINT32_MAX)
		t.resv = 0;
	emit_entry(c, &t);
	c->trips[c->ntrips++] = t;
	c->trip_open = (int)c->ntrips;
}

void jc_trip_reserve(struct jc *c)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < c->nreglocals; i++) {
		uint32_t x = c->reglocals[i];
		if (c->loc[x].reg == N_REG)
			c->loc[x].reg = -1; /* it lives in its frame cell */
		else
			c->reglocals[k++] = x;
	}
	c->nreglocals = k;
	c->busy[N_REG] = 1;
}

int jc_trip_final(const struct jc *c)
{
	return c->trip_open && c->m->bytes + c->cur_off == c->trips[c->trip_open - 1].brif;
}

void jc_trip_branch(struct jc *c)
{
	struct jtrip *t = &c->trips[c->trip_open - 1];
	struct xbuf *b = c->b;
	c->r.p++; /* the label, 0 */
	c->trip_open = t->outer == UINT32_MAX ? 0 : (int)t->outer + 1;
	t->trap_hi = c->ntraps;
	t->site_hi = *c->nsites;
	struct jcond cd;
	jc_pop_cond(c, &cd);
	/* the compare as the pattern has it, on j's value */
	if (cd.cmp != t->cmp || cd.a.kind == JV_CONST ||
	    (cd.a.kind == JV_LOCAL && cd.a.local != t->j) || cd.a.kind == JV_SLOT) {
		c->fail = 1;
		return;
	}
	int temp, r = jc_reg(c, &cd.a, cd.pa, &temp);
	if (t->resv)
		x_alu_rm(b, 0, OP_CMP, r, tcell(c, t, C_N));
	else
		x_alu_rr(b, 0, OP_CMP, r, N_REG);
	if (temp)
		jc_free_reg(c, r);
	/* from here j's home (the value is there too) */
	cd.a = (struct jv){JV_LOCAL, CAPSA_WASM_I32, 0, t->j, 0};
	static const uint8_t cc[] = {
	    [TK_ID] = CC_B, [TK_SIGN] = CC_L, [TK_NOT] = CC_A, [TK_NSIGN] = CC_G};
	x_jcc(b, cc[t->tk], t->head);
	emit_charge(c, t, 1);
	/* the original condition: fuel stopped the loop, or it is done */
	uint32_t done = x_label(b);
	if (cd.cmp) {
		jc_cmp_branch(c, &cd, 0, done);
	} else {
		r = jc_reg(c, &cd.a, cd.pa, &temp);
		x_rr(b, 0, 0, 0x85, r, r, 0); /* test */
		if (temp)
			jc_free_reg(c, r);
		x_jcc(b, CC_E, done);
	}
	x_alu_ri(b, 1, OP_SUB, R13, 1);
	x_jcc(b, CC_NS, t->ent);
	x_jmp(b, jc_trap_label(c, JT_FUEL));
	if (c->ntraps)
		c->traps[c->ntraps - 1].back = t->ent;
	x_bind(b, done);
}

void jc_trip_trap(struct jc *c, uint32_t i)
{
	for (uint32_t k = 0; k < c->ntrips; k++) /* the loop and the one holding it */
		if (i >= c->trips[k].trap_lo && i < c->trips[k].trap_hi)
			emit_charge(c, &c->trips[k], 0);
}

void jc_trip_pads(struct jc *c)
{
	struct xbuf *b = c->b;
	for (uint32_t k = 0; k < c->ntrips; k++) {
		const struct jtrip *t = &c->trips[k];
		if (t->site_lo == t->site_hi)
			continue;
		/* Entered from the fault handler with ESI = the trap code and
		 * every register of the loop as it was. */
		uint32_t pad = (uint32_t)b->n;
		emit_charge(c, t, 0);
		if (t->outer != UINT32_MAX)
			emit_charge(c, &c->trips[t->outer], 0);
		x_store(b, 1, xmem(R15, CTX_BUDGET), R13);
		x_mov_rr(b, 1, RDI, R15);
		x_load(b, 1, RAX, xmem(R15, (int32_t)offsetof(struct jit_ctx, unwind)));
		x_rr(b, 0, 0, 0xff, 4, RAX, 0); /* jmp rax */
		for (uint32_t s = t->site_lo; s < t->site_hi && !c->fail; s++)
			(*c->sites)[s].pad = (int32_t)(pad - (*c->sites)[s].code);
	}
}
