/* SPDX-License-Identifier: Apache-2.0 */
/* Encoder and operand pickers of the differential tester's generator. */
#include "gen.h"

#include <string.h>

uint64_t dt_rnd(struct dt_gen *g)
{
	/* splitmix64: every sequence is reproducible from its seed. */
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned dt_rn(struct dt_gen *g, unsigned n)
{
	return (unsigned)(dt_rnd(g) % n);
}

int dt_chance(struct dt_gen *g, unsigned pct)
{
	return dt_rn(g, 100) < pct;
}

void dt_set_size(struct dt_enc *e, int size)
{
	e->p66 = size == 2;
	e->w = size == 8;
}

int dt_mem_needs_rex(const struct dt_rm *rm)
{
	if (!rm->is_mem)
		return rm->reg >= 8;
	int b = (rm->mk == DT_MK_BASE || rm->mk == DT_MK_BASE_IDX) && rm->base >= 8;
	int x = (rm->mk == DT_MK_BASE_IDX || rm->mk == DT_MK_IDX_ONLY) && rm->index >= 8;
	return b || x;
}

static int scale_bits(int scale)
{
	return scale == 8 ? 3 : scale == 4 ? 2 : scale == 2 ? 1 : 0;
}

/* ModRM, SIB and displacement; *disp_at is where a RIP-relative
 * displacement goes (-1 if none). */
static int enc_modrm(const struct dt_enc *e, uint8_t *b, int *disp_at)
{
	const struct dt_rm *rm = &e->rm;
	int n = 0, reg = (e->reg & 7) << 3;
	*disp_at = -1;
	if (!rm->is_mem) {
		b[n++] = (uint8_t)(0xc0 | reg | (rm->reg & 7));
		return n;
	}
	int dsize = rm->dsize;
	switch (rm->mk) {
	case DT_MK_RIP:
		b[n++] = (uint8_t)(reg | 5);
		*disp_at = n;
		dsize = 4;
		break;
	case DT_MK_ABS:
	case DT_MK_IDX_ONLY: {
		int idx = rm->mk == DT_MK_ABS ? 4 : (rm->index & 7);
		b[n++] = (uint8_t)(reg | 4);
		b[n++] = (uint8_t)((scale_bits(rm->scale) << 6) | (idx << 3) | 5);
		dsize = 4;
		break;
	}
	default: {
		int base = rm->base & 7;
		if (dsize == 0 && base == 5)
			dsize = 1; /* [rbp]/[r13] only exist with a displacement */
		int mod = dsize == 0 ? 0 : dsize == 1 ? 0x40 : 0x80;
		if (rm->mk == DT_MK_BASE_IDX || base == 4) {
			int idx = rm->mk == DT_MK_BASE_IDX ? (rm->index & 7) : 4;
			int sc = rm->mk == DT_MK_BASE_IDX ? scale_bits(rm->scale) : 0;
			b[n++] = (uint8_t)(mod | reg | 4);
			b[n++] = (uint8_t)((sc << 6) | (idx << 3) | base);
		} else {
			b[n++] = (uint8_t)(mod | reg | base);
		}
	}
	}
	memcpy(b + n, &rm->disp, (size_t)dsize);
	return n + dsize;
}

int dt_emit(struct dt_gen *g, const struct dt_enc *e, const char *name, int cls, int size)
{
	struct dt_seq *s = g->s;
	uint8_t b[32];
	int n = 0, disp_at = -1;
	if (e->lock)
		b[n++] = 0xf0;
	if (e->rep)
		b[n++] = e->rep;
	if (e->p66)
		b[n++] = 0x66;
	if (e->has_modrm && e->rm.is_mem && e->rm.a32)
		b[n++] = 0x67;
	/* Segment overrides that do not move the address in 64-bit mode: ES,
	 * CS, SS, DS are ignored and GS has base 0 in both runs (not FS: the
	 * native one holds the thread pointer). */
	if (e->has_modrm && e->rm.is_mem && !e->noseg && dt_chance(g, 6)) {
		static const uint8_t seg[5] = {0x26, 0x2e, 0x36, 0x3e, 0x65};
		b[n++] = seg[dt_rn(g, 5)];
	}
	if (e->mand)
		b[n++] = e->mand;
	uint8_t rex = (uint8_t)((e->w ? 8 : 0) | (e->rexb ? 1 : 0));
	if (e->has_modrm) {
		rex |= (uint8_t)(e->reg >= 8 ? 4 : 0);
		const struct dt_rm *rm = &e->rm;
		if (!rm->is_mem)
			rex |= rm->reg >= 8 ? 1 : 0;
		else {
			if ((rm->mk == DT_MK_BASE || rm->mk == DT_MK_BASE_IDX) && rm->base >= 8)
				rex |= 1;
			if ((rm->mk == DT_MK_BASE_IDX || rm->mk == DT_MK_IDX_ONLY) &&
			    rm->index >= 8)
				rex |= 2;
		}
	}
	if (rex || e->rex40)
		b[n++] = (uint8_t)(0x40 | rex);
	for (int i = 0; i < e->nop; i++)
		b[n++] = e->op[i];
	if (e->has_modrm) {
		int at;
		n += enc_modrm(e, b + n, &at);
		if (at >= 0)
			disp_at = n - 4;
	}
	memcpy(b + n, &e->imm, (size_t)e->imm_size);
	n += e->imm_size;
	if (s->len + (uint32_t)n > DT_SEQ_MAX - 64 || s->ninsn >= DT_MAX_INSNS) {
		g->failed = 1;
		return 0;
	}
	if (disp_at >= 0) {
		int64_t d = (int64_t)e->rm.target - (int64_t)(DT_SEQ + s->len + (uint32_t)n);
		int32_t d32 = (int32_t)d;
		memcpy(b + disp_at, &d32, 4);
	}
	struct dt_insn *in = &s->insn[s->ninsn++];
	in->off = s->len;
	in->len = (uint8_t)n;
	in->cls = (uint8_t)cls;
	in->size = (uint8_t)size;
	in->mem = (uint8_t)(e->has_modrm && e->rm.is_mem);
	in->undef_before = g->undef;
	in->name = name;
	memcpy(s->code + s->len, b, (size_t)n);
	s->len += (uint32_t)n;
	return n;
}

/* Offsets from DT_DATA + DT_BASE_OFF stay inside [-4 KiB, +12 KiB). */
static int32_t pick_off(struct dt_gen *g, int align16)
{
	int32_t off = (int32_t)dt_rn(g, 8192) - 4096;
	return align16 ? off & ~15 : off;
}

void dt_pick_mem(struct dt_gen *g, struct dt_rm *rm, int align16)
{
	memset(rm, 0, sizeof(*rm));
	rm->is_mem = 1;
	rm->a32 = dt_chance(g, 5);
	rm->base = g->rb;
	rm->index = g->ri;
	rm->scale = 1 << dt_rn(g, 4);
	unsigned k = dt_rn(g, 100);
	uint64_t base = DT_DATA + DT_BASE_OFF;
	if (k < 20) {
		rm->mk = DT_MK_BASE;
		rm->dsize = 0;
	} else if (k < 45) {
		rm->mk = DT_MK_BASE;
		rm->dsize = 1;
		rm->disp = (int8_t)dt_rn(g, 256);
	} else if (k < 60) {
		rm->mk = DT_MK_BASE;
		rm->dsize = 4;
		rm->disp = pick_off(g, align16);
	} else if (k < 80) {
		rm->mk = DT_MK_BASE_IDX;
		rm->dsize = (int)dt_rn(g, 3);
		rm->dsize = rm->dsize == 2 ? 4 : rm->dsize;
		rm->disp = rm->dsize == 1 ? (int8_t)dt_rn(g, 256) : rm->dsize ? pick_off(g, 0) : 0;
	} else if (k < 90) {
		rm->mk = DT_MK_RIP;
		rm->target = base + (uint64_t)(int64_t)pick_off(g, align16);
	} else if (k < 95) {
		rm->mk = DT_MK_IDX_ONLY;
		rm->disp = (int32_t)(base + (uint64_t)(int64_t)pick_off(g, 0));
	} else {
		rm->mk = DT_MK_ABS;
		rm->disp = (int32_t)(base + (uint64_t)(int64_t)pick_off(g, align16));
	}
	if (align16)
		rm->disp &= ~15;
}

void dt_pick_lea(struct dt_gen *g, struct dt_rm *rm)
{
	dt_pick_mem(g, rm, 0);
	rm->base = (int)dt_rn(g, 16);
	do
		rm->index = (int)dt_rn(g, 16);
	while (rm->index == 4);
	if (rm->mk == DT_MK_BASE || rm->mk == DT_MK_BASE_IDX)
		rm->disp = (int32_t)dt_rnd(g);
	if (rm->dsize == 1)
		rm->disp = (int8_t)rm->disp;
}

int dt_writable(const struct dt_gen *g, int r)
{
	return r != 4 && r != g->rb && r != g->ri;
}

static int byte_target(const struct dt_gen *g, int code)
{
	return g->hi && code >= 4 && code < 8 ? code - 4 : code;
}

int dt_wreg(struct dt_gen *g, int size)
{
	for (;;) {
		int r = (int)dt_rn(g, size == 1 && g->hi ? 8 : 16);
		if (dt_writable(g, size == 1 ? byte_target(g, r) : r))
			return r;
	}
}

int dt_anyreg(struct dt_gen *g, int size)
{
	return (int)dt_rn(g, size == 1 && g->hi ? 8 : 16);
}

void dt_byte_mode(struct dt_gen *g, struct dt_enc *e, int size)
{
	g->hi = 0;
	if (size != 1)
		return;
	if (!(e->has_modrm && e->rm.is_mem && dt_mem_needs_rex(&e->rm)) && dt_chance(g, 35))
		g->hi = 1;
	else
		e->rex40 = 1; /* codes 4..7 are SPL..DIL */
}

void dt_flags(struct dt_gen *g, uint16_t def, uint16_t undef)
{
	g->undef = (uint16_t)((g->undef & ~(def | undef)) | undef);
}

uint16_t dt_cc_flags(int cc)
{
	static const uint16_t f[8] = {DT_OF, DT_CF, DT_ZF,         DT_CF | DT_ZF,
	                              DT_SF, DT_PF, DT_SF | DT_OF, DT_SF | DT_OF | DT_ZF};
	return f[(cc >> 1) & 7];
}

void dt_need_flags(struct dt_gen *g, uint16_t reads)
{
	if (!(g->undef & reads))
		return;
	/* cmp r64, r64 defines all six arithmetic flags. */
	struct dt_enc e = {.w = 1, .op = {0x39}, .nop = 1, .has_modrm = 1};
	e.reg = (int)dt_rn(g, 16);
	e.rm.reg = (int)dt_rn(g, 16);
	dt_emit(g, &e, "cmp", DT_C_ALU, 8);
	dt_flags(g, DT_ARITH, 0);
}

void dt_mov_imm(struct dt_gen *g, int reg, int size, uint64_t imm)
{
	struct dt_enc e = {0};
	e.rexb = reg >= 8;
	if (size == 1) {
		e.op[0] = (uint8_t)(0xb0 + (reg & 7));
		e.rex40 = !g->hi;
		e.imm_size = 1;
	} else if (size == 8) {
		e.w = 1;
		e.op[0] = (uint8_t)(0xb8 + (reg & 7));
		e.imm_size = 8;
	} else {
		e.op[0] = (uint8_t)(0xb8 + (reg & 7));
		e.imm_size = 4;
	}
	e.nop = 1;
	e.imm = imm;
	dt_emit(g, &e, "mov", DT_C_MOV, size);
}
