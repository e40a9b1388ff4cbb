/* SPDX-License-Identifier: Apache-2.0 */
/* SSE4.2: the string comparisons PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM
 * (66 0F 3A 60-63), PCMPGTQ (66 0F 38 37) and CRC32 (F2 0F 38 F0/F1),
 * written in C so that the host need not have SSE4.2. */
#include "vm/emu/sse_impl.h"

/* One string-compare operation: the imm8 control and the two operands
 * with their lengths in elements. */
struct strcmp_op {
	unsigned imm, n; /* n: 16 bytes or 8 words */
	int la, lb;      /* valid elements of a (xmm1) and b (xmm2/m128) */
	int64_t a[16], b[16];
};

static void elements(const sse_v *v, unsigned imm, int64_t *out)
{
	for (unsigned k = 0; k < ((imm & 1) ? 8u : 16u); k++) {
		switch (imm & 3) {
		case 0:
			out[k] = v->b[k];
			break;
		case 1:
			out[k] = v->w[k];
			break;
		case 2:
			out[k] = v->sb[k];
			break;
		default:
			out[k] = v->sw[k];
			break;
		}
	}
}

/* implicit length: elements before the first zero */
static int implicit_len(const int64_t *e, unsigned n)
{
	unsigned k = 0;
	while (k < n && e[k] != 0)
		k++;
	return (int)k;
}

/* explicit length: |reg| saturated to n */
static int explicit_len(uint64_t r, int w, unsigned n)
{
	int64_t v = w ? (int64_t)r : (int64_t)(int32_t)r;
	uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	return m > n ? (int)n : (int)m;
}

/* IntRes1 by the aggregation operation, with the overrides for invalid
 * elements (Intel SDM vol. 2, "Override of BoolRes for invalid elements") */
static unsigned intres1(const struct strcmp_op *s)
{
	unsigned n = s->n, r = 0;
	switch ((s->imm >> 2) & 3) {
	case 0: /* equal any */
		for (unsigned j = 0; j < (unsigned)s->lb; j++)
			for (unsigned i = 0; i < (unsigned)s->la; i++)
				if (s->b[j] == s->a[i])
					r |= 1u << j;
		break;
	case 1: /* ranges: a[i] <= b[j] <= a[i+1] for even i */
		for (unsigned j = 0; j < (unsigned)s->lb; j++)
			for (unsigned i = 0; i + 1 < (unsigned)s->la; i += 2)
				if (s->b[j] >= s->a[i] && s->b[j] <= s->a[i + 1])
					r |= 1u << j;
		break;
	case 2: /* equal each */
		for (unsigned i = 0; i < n; i++) {
			int va = (int)i < s->la, vb = (int)i < s->lb;
			if ((!va && !vb) || (va && vb && s->a[i] == s->b[i]))
				r |= 1u << i;
		}
		break;
	default: /* equal ordered: a occurs in b at j */
		for (unsigned j = 0; j < n; j++) {
			unsigned ok = 1;
			for (unsigned k = 0; k < n - j && ok; k++) {
				int va = (int)k < s->la, vb = (int)(j + k) < s->lb;
				if (!va)
					continue;
				ok = vb && s->a[k] == s->b[j + k];
			}
			r |= ok << j;
		}
		break;
	}
	return r;
}

static unsigned intres2(const struct strcmp_op *s, unsigned r1)
{
	unsigned all = (1u << s->n) - 1;
	switch ((s->imm >> 4) & 3) {
	case 1:
		return ~r1 & all;
	case 3:
		return (r1 ^ ((1u << s->lb) - 1)) & all;
	default:
		return r1;
	}
}

/* 66 0F 3A 60 (ESTRM), 61 (ESTRI), 62 (ISTRM), 63 (ISTRI) */
static int op_pcmpstr(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v a, b;
	sse_src(c, i, &b, 16, 0);
	sse_get(c, i->reg, &a);
	struct strcmp_op s = {.imm = (unsigned)i->imm & 0xff};
	s.n = (s.imm & 1) ? 8 : 16;
	elements(&a, s.imm, s.a);
	elements(&b, s.imm, s.b);
	if (i->op <= 0x61) {
		int w = (i->pfx & EMU_PFX_REXW) != 0;
		s.la = explicit_len(c->s.gpr[X86_RAX], w, s.n);
		s.lb = explicit_len(c->s.gpr[X86_RDX], w, s.n);
	} else {
		s.la = implicit_len(s.a, s.n);
		s.lb = implicit_len(s.b, s.n);
	}
	unsigned r2 = intres2(&s, intres1(&s));
	if (i->op & 1) { /* index in ECX */
		unsigned idx = s.n;
		if (r2)
			idx = (s.imm & 0x40) ? 31u - (unsigned)__builtin_clz(r2)
			                     : (unsigned)__builtin_ctz(r2);
		c->s.gpr[X86_RCX] = idx;
	} else { /* mask in XMM0 */
		sse_v m = {0};
		if (s.imm & 0x40) {
			for (unsigned k = 0; k < s.n; k++)
				if ((r2 >> k) & 1)
					memset(&m.b[k * (16 / s.n)], 0xff, 16 / s.n);
		} else {
			m.d[0] = r2;
		}
		sse_put(c, 0, &m);
	}
	uint64_t f = emu_flags(c) & ~(uint64_t)EMU_F_ARITH;
	f |= (r2 ? EMU_F_CF : 0) | ((unsigned)s.lb < s.n ? EMU_F_ZF : 0) |
	     ((unsigned)s.la < s.n ? EMU_F_SF : 0) | ((r2 & 1) ? EMU_F_OF : 0);
	emu_set_flags(c, f);
	EMU_NEXT(c, i);
}

/* PCMPGTQ xmm, xmm/m128 (66 0F 38 37) */
static int op_pcmpgtq(struct emu_cpu *c, struct emu_insn *i)
{
	sse_check(c);
	sse_v d, s;
	sse_src(c, i, &s, 16, 1);
	sse_get(c, i->reg, &d);
	for (int k = 0; k < 2; k++)
		d.q[k] = d.sq[k] > s.sq[k] ? ~0ULL : 0;
	sse_put(c, i->reg, &d);
	EMU_NEXT(c, i);
}

/* CRC32 r32/r64, r/m8 (F2 0F 38 F0) and r/m16/32/64 (F1): CRC-32C,
 * reflected, no inversion */
static int op_crc32(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned n = i->op == 0xf0 ? 1 : i->osz;
	uint64_t v;
	if (i->mem)
		v = emu_rd(c, emu_ea(c, i), n);
	else if (n == 1)
		v = *emu_r8p(c, i->rm8);
	else
		v = emu_getreg(c, i->rm, n);
	uint32_t crc = (uint32_t)c->s.gpr[i->reg];
	for (unsigned k = 0; k < 8 * n; k++) {
		uint32_t bit = (crc ^ (uint32_t)(v >> k)) & 1;
		crc = (crc >> 1) ^ (bit ? 0x82f63b78u : 0);
	}
	c->s.gpr[i->reg] = crc;
	EMU_NEXT(c, i);
}

emu_fn sse_sse42_pick(const struct emu_insn *i)
{
	unsigned p = sse_pidx(i);
	if (i->map == 2 && (i->op == 0xf0 || i->op == 0xf1))
		return p == 3 ? op_crc32 : NULL;
	if (p != 1)
		return NULL;
	if (i->map == 2 && i->op == 0x37)
		return op_pcmpgtq;
	if (i->map == 3 && i->op >= 0x60 && i->op <= 0x63)
		return op_pcmpstr;
	return NULL;
}
