/* SPDX-License-Identifier: Apache-2.0 */
/* Before compiling a function: skip over instructions, find what the
 * compiler does not handle, count uses of each local (weighted by
 * loop depth) and pick the locals that live in registers. */
#include "wasm/jit/jc.h"

#include <stdlib.h>
#include <string.h>

static int skip_u32(struct rd *r)
{
	uint32_t v;
	return rd_u32(r, &v);
}

static int skip_blocktype(struct rd *r)
{
	if (!rd_left(r))
		return -1;
	uint8_t b = *r->p;
	if (b == 0x40 || (b >= 0x6f && b <= 0x7f)) {
		r->p++;
		return 0;
	}
	int64_t v;
	return rd_s33(r, &v);
}

int jc_skip_imm(struct rd *r, uint8_t op)
{
	uint8_t u8;
	uint32_t n;
	int64_t s;
	const uint8_t *bytes;
	switch (op) {
	case 0x02:
	case 0x03:
	case 0x04:
		return skip_blocktype(r);
	case 0x0c:
	case 0x0d:
	case 0x10:
	case 0x12:
	case 0xd2:
		return skip_u32(r);
	case 0x0e:
		if (rd_u32(r, &n))
			return -1;
		for (uint64_t i = 0; i <= n; i++)
			if (skip_u32(r))
				return -1;
		return 0;
	case 0x11:
	case 0x13:
		return skip_u32(r) || skip_u32(r) ? -1 : 0;
	case 0x1c:
		if (rd_u32(r, &n))
			return -1;
		return rd_bytes(r, n, &bytes);
	case 0x20:
	case 0x21:
	case 0x22:
	case 0x23:
	case 0x24:
	case 0x25:
	case 0x26:
		return skip_u32(r);
	case 0x3f:
	case 0x40:
	case 0xd0:
		return rd_u8(r, &u8);
	case 0x41:
		return rd_s33(r, &s);
	case 0x42:
		return rd_s64(r, &s);
	case 0x43:
		return rd_bytes(r, 4, &bytes);
	case 0x44:
		return rd_bytes(r, 8, &bytes);
	case 0xfc:
		if (rd_u32(r, &n))
			return -1;
		switch (n) {
		case 8:
			return skip_u32(r) || rd_u8(r, &u8) ? -1 : 0;
		case 10:
			return rd_u8(r, &u8) || rd_u8(r, &u8) ? -1 : 0;
		case 11:
			return rd_u8(r, &u8);
		case 12:
		case 14:
			return skip_u32(r) || skip_u32(r) ? -1 : 0;
		case 9:
		case 13:
		case 15:
		case 16:
		case 17:
			return skip_u32(r);
		default:
			return n <= 7 ? 0 : -1;
		}
	case 0xfd:
		if (rd_u32(r, &n))
			return -1;
		if (n == 12 || n == 13)
			return rd_bytes(r, 16, &bytes);
		if (n >= 21 && n <= 34)
			return rd_u8(r, &u8);
		if (n <= 11 || (n >= 84 && n <= 93)) {
			if (skip_u32(r) || skip_u32(r))
				return -1;
			return n >= 84 && n <= 91 ? rd_u8(r, &u8) : 0;
		}
		return 0;
	default:
		if (op >= 0x28 && op <= 0x3e)
			return skip_u32(r) || skip_u32(r) ? -1 : 0;
		return 0;
	}
}

/* One LEB128 number at *p skipped (the body is validated: only its end
 * is checked); 0 or -1. */
static inline int skip_leb_at(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *q = *p;
	while (q < end && (*q & 0x80))
		q++;
	if (q >= end)
		return -1;
	*p = q + 1;
	return 0;
}

static inline int skip_leb(struct rd *r)
{
	return skip_leb_at(&r->p, r->end);
}

/* The immediates of the most common instructions skipped inline, the rest
 * through jc_skip_imm. */
static inline int skip_imm_fast(struct rd *r, uint8_t op)
{
	if ((op >= 0x45 && op <= 0xc4) || op == 0x1a || op == 0x1b || op == 0x0b || op == 0x01)
		return 0; /* no immediate */
	if ((op >= 0x20 && op <= 0x24) || op == 0x41 || op == 0x42 || op == 0x0c || op == 0x0d ||
	    op == 0x10)
		return skip_leb(r);
	if (op >= 0x28 && op <= 0x3e)
		return skip_leb(r) || skip_leb(r) ? -1 : 0;
	return jc_skip_imm(r, op);
}

struct cand {
	uint32_t local;
	uint64_t weight;
};

/* Heaviest first; equal weights keep their order (a stable insertion
 * sort: at most 64 candidates, most functions have a few). */
static void by_weight(struct cand *cd, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct cand x = cd[i];
		uint32_t k = i;
		for (; k && cd[k - 1].weight < x.weight; k--)
			cd[k] = cd[k - 1];
		cd[k] = x;
	}
}

/* The most common instructions, which the scan takes in one step: no
 * immediate, one LEB128 number, a local's index, a memory access, a block
 * and its end, a float constant. */
enum { S_OTHER, S_NONE, S_LEB, S_LOCAL, S_MEM, S_BLOCK, S_END, S_F32, S_F64 };
static const uint8_t scan_kind[256] = {
    [0x01] = S_NONE,          [0x1a] = S_NONE, [0x1b] = S_NONE,
    [0x45 ... 0xc4] = S_NONE, [0x0c] = S_LEB,  [0x0d] = S_LEB,
    [0x10] = S_LEB,           [0x23] = S_LEB,  [0x24] = S_LEB,
    [0x41] = S_LEB,           [0x42] = S_LEB,  [0x20 ... 0x22] = S_LOCAL,
    [0x28 ... 0x3e] = S_MEM,  [0x0b] = S_END,  [0x02 ... 0x04] = S_BLOCK,
    [0x43] = S_F32,           [0x44] = S_F64,
};

/* The weights of c's locals, all zero (kept by the compiler of the next
 * function: jc_prepass leaves them zero); NULL out of memory. */
static uint64_t *weights(struct jc *c)
{
	if (c->nlocals + 1 > c->capweights) {
		free(c->weights);
		c->weights = calloc(c->nlocals + 1, sizeof(uint64_t));
		c->capweights = c->weights ? c->nlocals + 1 : 0;
	}
	return c->weights;
}

/* The scan's block nesting: the kind of each open block (the first 256),
 * how many loops are open, and what a use of a local weighs there. */
struct scan {
	uint8_t kinds[256];
	uint32_t depth, loops;
	uint64_t weight;
};

static void loops_changed(struct scan *s)
{
	s->weight = (uint64_t)1 << (3 * (s->loops < 6 ? s->loops : 6));
}

/* block, loop or if: its type (an if with parameters saves them in extra
 * frame cells); 0 or -1. */
static int scan_block(struct jc *c, struct rd *r, uint8_t op, struct scan *s)
{
	if (op == 0x04 && rd_left(r) && *r->p != 0x40 && !(*r->p >= 0x6f && *r->p <= 0x7f)) {
		struct rd t = *r;
		int64_t ti;
		if (!rd_s33(&t, &ti) && ti >= 0 && (uint64_t)ti < c->m->ntypes)
			c->nextra += c->m->types[ti].pcells;
	}
	if (s->depth < sizeof(s->kinds))
		s->kinds[s->depth] = op;
	s->depth++;
	s->loops += op == 0x03;
	loops_changed(s);
	return skip_blocktype(r);
}

static void scan_end(struct scan *s)
{
	if (!s->depth)
		return;
	s->depth--;
	if (s->depth < sizeof(s->kinds) && s->kinds[s->depth] == 0x03) {
		s->loops--;
		loops_changed(s);
	}
}

/* The other instructions: what they use, a local index from 128 on. */
static int scan_other(struct jc *c, struct rd *r, uint8_t op, uint64_t *w, const struct scan *s)
{
	if ((op >= 0x28 && op <= 0x40) || op == 0xfc) {
		c->uses_mem = 1;
	} else if (op == 0xfd) {
		c->uses_mem = 1;
		c->wide = 1;
	} else if (op >= 0x20 && op <= 0x22) {
		struct rd t = *r;
		uint32_t x;
		if (!rd_u32(&t, &x) && x < c->nlocals)
			w[x] += s->weight;
	}
	return skip_imm_fast(r, op);
}

/* The body from r: local weights into w, c->nextra, what it uses; 0, or
 * -1 when it ends inside an instruction. The common instructions are
 * taken with the position in a local variable, the rest through r. */
static int scan_body(struct jc *c, struct rd r, uint64_t *w)
{
	struct scan s;
	s.depth = s.loops = 0;
	loops_changed(&s);
	const uint8_t *p = r.p, *end = r.end;
	while (p < end) {
		uint8_t op = *p++;
		uint8_t kind = scan_kind[op];
		switch (kind) {
		case S_NONE:
			continue;
		case S_LOCAL:
			if (p < end && *p < 0x80) { /* an index below 128 */
				uint32_t x = *p++;
				if (x < c->nlocals)
					w[x] += s.weight;
				continue;
			}
			break;
		case S_LEB:
			if (skip_leb_at(&p, end))
				return -1;
			continue;
		case S_MEM:
			c->uses_mem = 1;
			if (skip_leb_at(&p, end) || skip_leb_at(&p, end))
				return -1;
			continue;
		case S_END:
			scan_end(&s);
			continue;
		case S_F32:
		case S_F64:
			if (end - p < (kind == S_F32 ? 4 : 8))
				return -1;
			p += kind == S_F32 ? 4 : 8;
			continue;
		default:
			break;
		}
		r.p = p;
		if (kind == S_BLOCK ? scan_block(c, &r, op, &s) : scan_other(c, &r, op, w, &s))
			return -1;
		p = r.p;
	}
	return 0;
}

/* Scans the body at c->r (after the local declarations); fills c->nextra
 * and assigns registers to the locals used most. */
int jc_prepass(struct jc *c)
{
	uint64_t *w = weights(c);
	if (!w)
		return -1;
	c->nextra = 0;
	if (scan_body(c, c->r, w)) {
		memset(w, 0, (c->nlocals + 1) * sizeof(*w));
		return -1;
	}
	/* The heaviest locals get registers; the rest live in the frame. */
	static const int gregs[] = {RBX, RBP, R12, R8, R9, R10, RDI};
	struct cand cd[64];
	uint32_t ncd = 0;
	for (uint32_t i = 0; i < c->nlocals; i++) {
		c->loc[i].reg = -1;
		if (!w[i])
			continue;
		struct cand x = {i, w[i]};
		w[i] = 0;
		if (ncd < 64) {
			cd[ncd++] = x;
		} else {
			uint32_t lo = 0;
			for (uint32_t k = 1; k < ncd; k++)
				if (cd[k].weight < cd[lo].weight)
					lo = k;
			if (cd[lo].weight < x.weight)
				cd[lo] = x;
		}
	}
	by_weight(cd, ncd);
	uint32_t ng = 0, nx = 0;
	for (uint32_t k = 0; k < ncd; k++) {
		struct jlocal *l = &c->loc[cd[k].local];
		if (jt_isx(l->type)) {
			if (nx < 6) {
				c->reglocals[c->nreglocals++] = cd[k].local;
				l->reg = (int8_t)XMM(8 + nx);
				c->busy[XMM(8 + nx++)] = 1;
			}
		} else if (ng < sizeof(gregs) / sizeof(gregs[0])) {
			c->reglocals[c->nreglocals++] = cd[k].local;
			l->reg = (int8_t)gregs[ng];
			c->busy[gregs[ng++]] = 1;
		}
	}
	return 0;
}
