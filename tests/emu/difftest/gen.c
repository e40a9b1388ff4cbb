/* SPDX-License-Identifier: Apache-2.0 */
/* Random sequences: the initial state (registers, flags, XMM, data
 * buffer) and a list of items drawn from the template table, with Jcc
 * items that skip a few of the following items. */
#include "gen_ops.h"

#include <string.h>

const char *const dt_class_names[DT_C_NCLASS] = {
    "alu",   "flags",   "shift",  "muldiv", "bit", "xchg", "mov",          "string",
    "stack", "sse-int", "sse-fp", "fault",  "ctl", "sys",  "movs-overlap", "sse-unmasked",
};

#define T(fn, a, w)                                                                                \
	{                                                                                          \
		dt_gen_##fn, a, w                                                                  \
	}
static const struct dt_tmpl int_tmpls[] = {
    T(alu, 0, 4),       T(alu, 1, 3),       T(alu, 2, 4),       T(alu, 3, 4),
    T(alu, 4, 3),       T(alu, 5, 4),       T(alu, 6, 3),       T(alu, 7, 3),
    T(test, 0, 3),      T(unary, 0, 2),     T(unary, 1, 2),     T(unary, 2, 2),
    T(unary, 3, 2),     T(mov, 0, 4),       T(shift, 0, 3),     T(shift, 1, 3),
    T(shift, 2, 3),     T(shift, 3, 3),     T(shift, 4, 3),     T(shift, 5, 3),
    T(shift, 7, 3),     T(shxd, 0, 3),      T(shxd, 1, 3),      T(mul, 0, 3),
    T(mul, 1, 3),       T(mul, 2, 3),       T(mul, 3, 3),       T(div, 0, 3),
    T(div, 1, 3),       T(bt, 0, 2),        T(bt, 1, 2),        T(bt, 2, 2),
    T(bt, 3, 2),        T(bsf, 0, 2),       T(bsf, 1, 2),       T(xchg, 0, 2),
    T(xchg, 1, 3),      T(xchg, 2, 2),      T(xchg, 3, 1),      T(movx, 0, 2),
    T(movx, 1, 2),      T(movx, 2, 2),      T(movx, 3, 2),      T(movx, 4, 2),
    T(conv, 0, 2),      T(conv, 1, 2),      T(lea, 0, 3),       T(setcc, 0, 3),
    T(setcc, 1, 3),     T(flagop, 0, 1),    T(flagop, 1, 1),    T(flagop, 2, 1),
    T(flagop, 3, 1),    T(flagop, 4, 1),    T(string, 0xa4, 2), T(string, 0xa6, 2),
    T(string, 0xaa, 2), T(string, 0xac, 2), T(string, 0xae, 2), T(stack, 0, 2),
    T(stack, 1, 2),     T(stack, 2, 1),     T(stack, 3, 1),     T(stack, 4, 1),
    T(flagprobe, 0, 8), T(callret, 0, 1),   T(callret, 1, 1),   T(callret, 2, 1),
    T(callret, 3, 1),   T(misc, 0, 2),      T(misc, 1, 1),      T(misc, 2, 1),
    T(misc, 3, 2),      T(misc, 4, 2),      T(misc, 5, 1),      T(misc, 6, 1),
    T(misc, 7, 1),      T(fault, 0, 0),     T(fault, 1, 0),     T(fault, 2, 0),
    T(fault, 3, 0),
};
#undef T
#define NINT (sizeof(int_tmpls) / sizeof(int_tmpls[0]))
/* Weight of all SSE templates together, of Jcc items. */
#define SSE_WEIGHT 45
#define JCC_WEIGHT 6

static unsigned int_weight(void)
{
	unsigned w = 0;
	for (unsigned i = 0; i < NINT; i++)
		w += int_tmpls[i].weight;
	return w;
}

static void gen_jcc(struct dt_gen *g);

static void gen_one(struct dt_gen *g)
{
	static unsigned total;
	if (!total)
		total = int_weight();
	if (dt_rn(g, 1000) < 3) { /* a fault ends the sequence: rarely */
		struct dt_tmpl t = {dt_gen_fault, (int)dt_rn(g, 8), 0};
		dt_gen_fault(g, &t);
		return;
	}
	unsigned sse = g->nosse ? 0 : SSE_WEIGHT;
	unsigned k = dt_rn(g, total + sse + JCC_WEIGHT);
	if (k < total) {
		for (unsigned i = 0; i < NINT; i++) {
			if (k < int_tmpls[i].weight) {
				int_tmpls[i].fn(g, &int_tmpls[i]);
				return;
			}
			k -= int_tmpls[i].weight;
		}
	}
	if (g->nojcc && g->nosse) {
		int_tmpls[0].fn(g, &int_tmpls[0]);
		return;
	}
	if (k < total + sse || g->nojcc) {
		struct dt_tmpl t = {dt_gen_sse, (int)dt_rn(g, dt_nsse), 1};
		dt_gen_sse(g, &t);
		return;
	}
	gen_jcc(g);
}

/* A forward branch over the next 1..3 items: Jcc (rel8 or rel32), JMP,
 * LOOP/LOOPE/LOOPNE or JRCXZ/JECXZ. Afterwards a flag is undefined if it
 * is on either path. */
static void gen_jcc(struct dt_gen *g)
{
	struct dt_seq *s = g->s;
	unsigned kind = dt_rn(g, 12);
	int cc = (int)dt_rn(g, 16), rel32 = kind < 7 && dt_chance(g, 25);
	struct dt_enc e = {.nop = 1, .imm_size = rel32 ? 4 : 1};
	const char *name = "jcc";
	int cls = DT_C_FLAGS;
	if (kind < 7) {
		dt_need_flags(g, dt_cc_flags(cc));
		e.op[0] = (uint8_t)(rel32 ? 0x0f : 0x70 + cc);
		e.op[1] = (uint8_t)(0x80 + cc);
		e.nop = rel32 ? 2 : 1;
	} else if (kind < 9) {
		int loope = dt_chance(g, 50);
		if (loope)
			dt_need_flags(g, DT_ZF);
		e.op[0] = loope ? (uint8_t)(0xe0 + dt_rn(g, 2)) : 0xe2;
		name = loope ? "loope/loopne" : "loop";
		cls = DT_C_CTL;
	} else if (kind < 11) {
		e.op[0] = 0xe3;
		e.rm.a32 = dt_chance(g, 50); /* 0x67: JECXZ */
		e.has_modrm = 0;
		e.p66 = 0;
		name = "jrcxz";
		cls = DT_C_CTL;
		if (e.rm.a32) {
			e.op[0] = 0x67;
			e.op[1] = 0xe3;
			e.nop = 2;
			name = "jecxz";
		}
	} else {
		rel32 = dt_chance(g, 50);
		e.op[0] = rel32 ? 0xe9 : 0xeb;
		e.imm_size = rel32 ? 4 : 1;
		name = "jmp";
		cls = DT_C_CTL;
	}
	unsigned at = s->ninsn;
	if (!dt_emit(g, &e, name, cls, 0))
		return;
	uint32_t start = s->len;
	uint16_t before = g->undef;
	g->nojcc = 1;
	unsigned n = 1 + dt_rn(g, 3);
	for (unsigned i = 0; i < n && !g->failed; i++) {
		uint32_t l0 = s->len;
		unsigned i0 = s->ninsn;
		uint16_t u0 = g->undef;
		gen_one(g);
		if (!rel32 && s->len - start > 127) { /* does not fit rel8: drop it */
			s->len = l0;
			s->ninsn = i0;
			g->undef = u0;
			break;
		}
	}
	g->nojcc = 0;
	uint32_t d = s->len - start;
	memcpy(s->code + s->insn[at].off + s->insn[at].len - (rel32 ? 4 : 1), &d, rel32 ? 4 : 1);
	g->undef |= before;
}

static uint64_t rand_gpr(struct dt_gen *g)
{
	switch (dt_rn(g, 8)) {
	case 0:
		return dt_rn(g, 64);
	case 1:
		return (uint64_t)0 - dt_rn(g, 64);
	case 2:
		return 1ULL << dt_rn(g, 64);
	case 3:
		return dt_rnd(g) & 0xffffffff;
	case 4:
		return (uint64_t)(int64_t)(int32_t)dt_rnd(g);
	default:
		return dt_rnd(g);
	}
}

/* XMM lanes: raw bits, or floats/doubles of moderate size and sign. */
static void rand_xmm(struct dt_gen *g, uint8_t x[16])
{
	unsigned k = dt_rn(g, 4);
	for (int i = 0; i < 4; i++) {
		uint32_t v = (uint32_t)dt_rnd(g);
		if (k == 1) {
			float f = (float)((int)dt_rn(g, 2001) - 1000) / (float)(1 + dt_rn(g, 16));
			memcpy(&v, &f, 4);
		}
		memcpy(x + 4 * i, &v, 4);
	}
	if (k == 2) {
		for (int i = 0; i < 2; i++) {
			double d =
			    (double)((int)dt_rn(g, 20001) - 10000) / (double)(1 + dt_rn(g, 64));
			memcpy(x + 8 * i, &d, 8);
		}
	}
}

static void init_state(struct dt_gen *g)
{
	struct dt_seq *s = g->s;
	static const int reserved_pool[] = {3, 5, 8, 9, 10, 11, 12, 13, 14, 15};
	g->rb = reserved_pool[dt_rn(g, 10)];
	do
		g->ri = reserved_pool[dt_rn(g, 10)];
	while (g->ri == g->rb);
	g->ri_val = 16 * (1 + dt_rn(g, 63));
	for (int i = 0; i < 16; i++)
		s->init.gpr[i] = rand_gpr(g);
	s->init.gpr[4] = DT_STACK;
	s->init.gpr[g->rb] = DT_DATA + DT_BASE_OFF;
	s->init.gpr[g->ri] = g->ri_val;
	s->init.rflags = 0x2 | (dt_rnd(g) & (DT_ARITH | DT_DF));
	/* Rounding mode random in a quarter of the sequences; FTZ/DAZ rarely. */
	s->init.mxcsr = 0x1f80;
	if (dt_chance(g, 25))
		s->init.mxcsr |= (uint32_t)dt_rn(g, 4) << 13;
	if (dt_chance(g, 5))
		s->init.mxcsr |= 0x8040;
	/* Unmasked SSE exceptions now and then: #XM, compared like the rest. */
	if (dt_chance(g, 4))
		s->init.mxcsr &= ~((uint32_t)dt_rn(g, 64) << 7);
	for (int i = 0; i < 16; i++)
		rand_xmm(g, s->init.xmm[i]);
	for (uint64_t i = 0; i < DT_DATA_SIZE; i += 8) {
		uint64_t v = dt_chance(g, 20) ? rand_gpr(g) : dt_rnd(g);
		memcpy(s->data + i, &v, 8);
	}
	for (uint64_t i = 0; i < DT_DATA_SIZE; i += 16)
		if (dt_chance(g, 15))
			rand_xmm(g, s->data + i);
}

unsigned dt_items_for(uint64_t seed)
{
	struct dt_gen g = {.rng = seed ^ 0x1735a0b3c9d2e4f1ULL};
	return 1 + dt_rn(&g, 40);
}

void dt_generate(struct dt_seq *s, uint64_t seed, unsigned items, unsigned opts)
{
	memset(s, 0, sizeof(*s));
	struct dt_gen g = {.s = s, .rng = seed, .nosse = !!(opts & DT_GEN_NO_SSE)};
	s->seed = seed;
	init_state(&g);
	if (items < 1)
		items = 1;
	if (items > DT_MAX_ITEMS)
		items = DT_MAX_ITEMS;
	unsigned tries = 0;
	for (unsigned i = 0; i < items && !g.failed; i++) {
		uint32_t l0 = s->len;
		unsigned i0 = s->ninsn;
		uint16_t u0 = g.undef;
		gen_one(&g);
		if (!g.failed && s->len == l0 && tries++ < 64) {
			i--; /* the template had nothing to emit here: draw again */
			continue;
		}
		if (g.failed || s->len == l0) {
			s->len = l0;
			s->ninsn = i0;
			g.undef = u0;
			break;
		}
		s->item_end[s->nitems] = s->len;
		s->item_undef[s->nitems] = g.undef;
		s->item_insns[s->nitems] = s->ninsn;
		s->nitems++;
	}
	s->undef_end = g.undef;
}

void dt_truncate(struct dt_seq *s, unsigned n)
{
	if (n == 0 || n >= s->nitems)
		return;
	s->len = s->item_end[n - 1];
	s->ninsn = s->item_insns[n - 1];
	s->undef_end = s->item_undef[n - 1];
	s->nitems = n;
}

const struct dt_insn *dt_insn_at(const struct dt_seq *s, uint64_t off)
{
	for (unsigned i = 0; i < s->ninsn; i++)
		if (off >= s->insn[i].off && off < (uint64_t)s->insn[i].off + s->insn[i].len)
			return &s->insn[i];
	return NULL;
}
