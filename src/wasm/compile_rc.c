/* SPDX-License-Identifier: Apache-2.0 */
/* The interpreter's register-cached loop shapes (docs/wasm.md,
 * "Register-cached locals"): while compile.c translates a loop, it notes
 * candidate counter branches, multiply-accumulates and pointer chases
 * here; when the loop ends, wc_loop_rc turns the ones that qualify into
 * their register-cached forms. */
#include "wasm/compile.h"

/* Register-cached loop counters. A counter branch `x = x + K; if (x cmp L)`
 * back to the loop head (and its second induction variable `y = y + K2`) in an
 * innermost loop that makes no call, where it is the only write to x (and
 * y) in the loop, keeps x and y in two machine registers besides their
 * slots (written through, so the slots always hold the values): the
 * loop-carried chain of a counter is then a register add instead of a trip
 * through memory. The placeholder emitted before the loop head becomes the
 * op that loads the registers when the loop is entered; nothing else can
 * write the slots or the registers while the loop runs. */
static struct ctl *inner_loop(struct cc *c)
{
	for (uint32_t i = c->ncs; i-- > 0;)
		if (c->cs[i].kind == K_LOOP)
			return &c->cs[i];
	return NULL;
}

void wc_note_rc_cand(struct cc *c, const struct condv *cd, uint32_t op)
{
	if (cd->a != cd->add_s || cd->a >= c->nlocal_cells ||
	    (cd->add2 && (cd->add2_d != cd->add2_s || cd->add2_d >= c->nlocal_cells)))
		return;
	struct ctl *l = inner_loop(c);
	if (l)
		l->rc_cand = l->rc_cand == UINT32_MAX ? op : UINT32_MAX - 1;
}

/* A multiply-accumulate `x = load * load + y + x` keeps x in a third
 * register the same way. */
void wc_note_rc_mad(struct cc *c, uint32_t op)
{
	struct ctl *l = inner_loop(c);
	if (l)
		l->rc_mad = l->rc_mad == UINT32_MAX ? op : UINT32_MAX - 1;
}

/* Turns the memory instruction at op into another one: `checked`, and
 * `unchecked` where instantiation drops the bounds check (its RELOC_MEMOP).
 * 0 when op is no memory instruction. */
static int retarget_memop(struct cc *c, uint32_t op, enum wasm_op checked, enum wasm_op unchecked)
{
	for (uint32_t i = 0; i < c->nrelocs; i++)
		if (c->relocs[i].cell == op && c->relocs[i].kind == RELOC_MEMOP) {
			c->relocs[i].index = unchecked;
			c->code[op].h = c->labels[checked];
			return 1;
		}
	return 0;
}

/* A pointer chase `x = load(x + offset)` (the plain i32.load at op) keeps x
 * in rc1 when every write to x in the loop is such a load. */
void wc_note_rc_chase(struct cc *c, uint32_t op, uint32_t slot)
{
	struct ctl *l = inner_loop(c);
	if (!l)
		return;
	if (l->rc_chase_slot == UINT32_MAX)
		l->rc_chase_slot = slot;
	if (l->rc_chase_slot != slot || l->nchase == 4)
		l->rc_chase_slot = UINT32_MAX - 1;
	else
		l->rc_chase[l->nchase++] = op;
}

/* Counts the writes to a local slot in the innermost loop around them. */
void wc_count_write(struct cc *c, uint32_t slot)
{
	const struct ctl *l = inner_loop(c);
	uint32_t id = l ? l->start + 1 : 0;
	if (c->lw_loop[slot] != id) {
		c->lw_loop[slot] = id;
		c->lw_count[slot] = 0;
	}
	c->lw_count[slot]++;
}

/* Makes the chase loads of loop f use rc1; 1 when it did. */
static int rc_chase(struct cc *c, const struct ctl *f)
{
	uint32_t x = f->rc_chase_slot;
	if (x >= UINT32_MAX - 1 || c->lw_loop[x] != f->start + 1 || c->lw_count[x] != f->nchase)
		return 0;
	for (uint32_t k = 0; k < f->nchase; k++)
		if (c->code[f->rc_chase[k]].h != c->labels[OP_i32_load])
			return 0;
	for (uint32_t k = 0; k < f->nchase; k++)
		retarget_memop(c, f->rc_chase[k], OP_i32_load_chase, OP_i32_load_chase_g);
	return 1;
}

static int rc_written_once(const struct cc *c, uint64_t slot, uint32_t start)
{
	return c->lw_last[slot] > start && c->lw_prev[slot] <= start;
}

/* A loop whose body is exactly mul_ldld_padd, mad_ldld_rc adding the first
 * one's product, and a two-counter branch back to the head (a dot product
 * unrolled by two) becomes one instruction per iteration: the first cell
 * gets the handler that runs all three in place (OP_dot2_br_rc_*). Nothing
 * else can jump into the body: it holds no other branch, and wasm cannot
 * enter a loop but at its head. */
static void fuse_dot2(struct cc *c, const struct ctl *f)
{
	const uint32_t p = f->start, m = p + 11, b = m + 10;
	if (c->ncode < b + 9 || c->code[p].h != c->labels[OP_i32_mul_ldld_padd] ||
	    c->code[m].h != c->labels[OP_i32_mad_ldld_rc] || c->code[b + 8].i != -(int64_t)(b - p))
		return;
	const cell *P = &c->code[p], *M = &c->code[m], *B = &c->code[b];
	/* rc0 holds B's operand 4, rc1 its operand 1 (wc_loop_rc) */
	if (P[2].u == B[4].u && P[3].u != B[4].u) { /* x = counter + y: swap */
		uint64_t t = P[2].u;
		c->code[p + 2].u = P[3].u;
		c->code[p + 3].u = t;
	}
	if (P[3].u != B[4].u || P[5].u != B[1].u || P[8].u != P[1].u || M[2].u != B[1].u ||
	    M[5].u != P[1].u || M[8].u != P[4].u || P[1].u == P[2].u)
		return;
	for (int k = 0; k < 10; k++) {
		if (c->code[b].h != c->labels[OP_addi2_br_rc_eq + 2 * k])
			continue;
		retarget_memop(c, p, (enum wasm_op)(OP_dot2_br_rc_eq + 2 * k),
		               (enum wasm_op)(OP_dot2_br_rc_eq_g + 2 * k));
		return;
	}
}

void wc_loop_rc(struct cc *c, const struct ctl *f)
{
	if (f->rc_pre == UINT32_MAX || c->last_call > f->start || c->last_loop != f->start + 1)
		return;
	/* rc0..rc2 and the slot each mirrors; UINT64_MAX: unused */
	uint64_t slots[3] = {UINT64_MAX, UINT64_MAX, UINT64_MAX};
	uint32_t op = f->rc_cand;
	for (int k = 0; op < UINT32_MAX - 1 && k < 10; k++) {
		int two = c->code[op].h == c->labels[OP_addi2_br_eq + k];
		if (!two && c->code[op].h != c->labels[OP_addi_br_eq + k])
			continue;
		uint64_t x = c->code[op + (two ? 4 : 1)].u, y = two ? c->code[op + 1].u : x;
		int64_t back = -(int64_t)(op - f->start); /* a branch to the head */
		if (rc_written_once(c, x, f->start) && rc_written_once(c, y, f->start) &&
		    c->code[op + (two ? 8 : 5)].i == back) {
			slots[0] = x;
			if (two)
				slots[1] = y;
			c->code[op].h = c->labels[OP_addi_br_rc_eq + 2 * k + two];
		}
		break;
	}
	op = f->rc_mad;
	if (op < UINT32_MAX - 1 && c->code[op].h == c->labels[OP_i32_mad_ldld] &&
	    c->code[op + 1].u == c->code[op + 9].u &&
	    rc_written_once(c, c->code[op + 1].u, f->start) &&
	    retarget_memop(c, op, OP_i32_mad_ldld_rc, OP_i32_mad_ldld_rc_g))
		slots[2] = c->code[op + 1].u;
	if (slots[1] == UINT64_MAX && rc_chase(c, f))
		slots[1] = f->rc_chase_slot;
	uint64_t any = UINT64_MAX;
	for (int i = 0; i < 3; i++)
		if (slots[i] != UINT64_MAX)
			any = slots[i];
	if (any == UINT64_MAX)
		return;
	c->code[f->rc_pre].h = c->labels[OP_rc_load];
	for (int i = 0; i < 3; i++) /* an unused register loads some used slot */
		c->code[f->rc_pre + 1 + i].u = slots[i] != UINT64_MAX ? slots[i] : any;
	fuse_dot2(c, f);
}
