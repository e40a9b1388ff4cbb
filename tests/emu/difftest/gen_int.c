/* SPDX-License-Identifier: Apache-2.0 */
/* Integer instruction generators: each emits one instruction (with the
 * setup it needs to stay defined and inside the data buffer) and updates
 * the undefined-flags state from the instruction's "Flags affected"
 * (Intel SDM vol. 2; where Intel and AMD differ, the tester masks what
 * either leaves undefined). */
#include "gen_ops.h"

#include <string.h>

static const char *const alu_names[8] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};

static int pick_size(struct dt_gen *g, unsigned mask)
{
	for (;;) {
		int s = 1 << dt_rn(g, 4);
		if (mask & (unsigned)s)
			return s;
	}
}

/* r/m operand: a register (a destination if `write`) or memory. */
static void pick_rm(struct dt_gen *g, struct dt_enc *e, int size, int write, int mem_pct)
{
	e->has_modrm = 1;
	if (dt_chance(g, mem_pct))
		dt_pick_mem(g, &e->rm, 0);
	else
		e->rm.is_mem = 0;
	dt_byte_mode(g, e, size);
	if (!e->rm.is_mem)
		e->rm.reg = write ? dt_wreg(g, size) : dt_anyreg(g, size);
}

static uint64_t rand_imm(struct dt_gen *g)
{
	static const uint64_t special[] = {0,          1,          0x7f,       0x80,
	                                   0xff,       0x7fff,     0x8000,     0xffff,
	                                   0x7fffffff, 0x80000000, 0xffffffff, ~0ULL};
	if (dt_chance(g, 30))
		return special[dt_rn(g, sizeof(special) / sizeof(special[0]))];
	return dt_rnd(g);
}

static int imm_bytes(int size)
{
	return size == 8 ? 4 : size;
}

void dt_gen_alu(struct dt_gen *g, const struct dt_tmpl *t)
{
	int op = t->a, size = pick_size(g, 15), form = (int)dt_rn(g, 4);
	int writes = op != 7;
	if (op == 2 || op == 3)
		dt_need_flags(g, DT_CF);
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	if (form == 0) { /* r/m, r */
		e.op[0] = (uint8_t)(op * 8 + (size != 1));
		pick_rm(g, &e, size, writes, 40);
		e.reg = dt_anyreg(g, size);
	} else if (form == 1) { /* r, r/m */
		e.op[0] = (uint8_t)(op * 8 + 2 + (size != 1));
		pick_rm(g, &e, size, 0, 40);
		e.reg = writes ? dt_wreg(g, size) : dt_anyreg(g, size);
	} else if (form == 2) { /* r/m, imm */
		int ib = size != 1 && dt_chance(g, 50);
		e.op[0] = size == 1 ? 0x80 : ib ? 0x83 : 0x81;
		e.reg = op;
		pick_rm(g, &e, size, writes, 40);
		e.imm_size = ib ? 1 : imm_bytes(size);
	} else { /* al/ax/eax/rax, imm */
		e.op[0] = (uint8_t)(op * 8 + 4 + (size != 1));
		e.imm_size = imm_bytes(size);
		g->hi = 0;
	}
	e.nop = 1;
	e.imm = rand_imm(g);
	if (e.has_modrm && e.rm.is_mem && writes && form != 1 && dt_chance(g, 20))
		e.lock = 1;
	dt_emit(g, &e, alu_names[op], DT_C_ALU, size);
	if (op == 1 || op == 4 || op == 6)
		dt_flags(g, DT_ARITH & ~DT_AF, DT_AF);
	else
		dt_flags(g, DT_ARITH, 0);
}

void dt_gen_test(struct dt_gen *g, const struct dt_tmpl *t)
{
	(void)t;
	int size = pick_size(g, 15), form = (int)dt_rn(g, 3);
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	if (form == 0) {
		e.op[0] = (uint8_t)(0x84 + (size != 1));
		pick_rm(g, &e, size, 0, 40);
		e.reg = dt_anyreg(g, size);
	} else if (form == 1) {
		e.op[0] = (uint8_t)(0xf6 + (size != 1));
		e.reg = 0;
		pick_rm(g, &e, size, 0, 40);
		e.imm_size = imm_bytes(size);
	} else {
		e.op[0] = (uint8_t)(0xa8 + (size != 1));
		e.imm_size = imm_bytes(size);
		g->hi = 0;
	}
	e.nop = 1;
	e.imm = rand_imm(g);
	dt_emit(g, &e, "test", DT_C_ALU, size);
	dt_flags(g, DT_ARITH & ~DT_AF, DT_AF);
}

void dt_gen_unary(struct dt_gen *g, const struct dt_tmpl *t)
{
	/* a: 0 inc, 1 dec (FE/FF), 2 not, 3 neg (F6/F7) */
	static const char *const names[4] = {"inc", "dec", "not", "neg"};
	int size = pick_size(g, 15);
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	e.op[0] = (uint8_t)((t->a < 2 ? 0xfe : 0xf6) + (size != 1));
	e.nop = 1;
	e.reg = t->a;
	pick_rm(g, &e, size, 1, 40);
	if (e.rm.is_mem && dt_chance(g, 20))
		e.lock = 1;
	dt_emit(g, &e, names[t->a], DT_C_ALU, size);
	if (t->a < 2)
		dt_flags(g, DT_ARITH & ~DT_CF, 0);
	else if (t->a == 3)
		dt_flags(g, DT_ARITH, 0);
}

void dt_gen_mov(struct dt_gen *g, const struct dt_tmpl *t)
{
	(void)t;
	int size = pick_size(g, 15), form = (int)dt_rn(g, 4);
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	if (form == 0) {
		e.op[0] = (uint8_t)(0x88 + (size != 1));
		pick_rm(g, &e, size, 1, 50);
		e.reg = dt_anyreg(g, size);
	} else if (form == 1) {
		e.op[0] = (uint8_t)(0x8a + (size != 1));
		pick_rm(g, &e, size, 0, 50);
		e.reg = dt_wreg(g, size);
	} else if (form == 2) {
		e.op[0] = (uint8_t)(0xc6 + (size != 1));
		e.reg = 0;
		pick_rm(g, &e, size, 1, 50);
		e.imm_size = imm_bytes(size);
	} else {
		g->hi = size == 1 && dt_chance(g, 35);
		int r = dt_wreg(g, size);
		if (size != 1 && dt_chance(g, 50))
			e.w = 0; /* mov r32, imm32 zero-extends */
		dt_mov_imm(g, r, e.w ? 8 : size == 1 ? 1 : 4, rand_imm(g));
		return;
	}
	e.nop = 1;
	e.imm = rand_imm(g);
	dt_emit(g, &e, "mov", DT_C_MOV, size);
}

/* Shifts and rotates: a = /digit (0 rol .. 7 sar); the count is an
 * immediate, 1 or CL (set just before, so its value is known). */
void dt_gen_shift(struct dt_gen *g, const struct dt_tmpl *t)
{
	static const char *const names[8] = {"rol", "ror", "rcl", "rcr",
	                                     "shl", "shr", "sal", "sar"};
	int op = t->a, size = pick_size(g, 15), form = (int)dt_rn(g, 3);
	int bits = size * 8;
	unsigned count;
	static const unsigned special[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 255};
	count = dt_chance(g, 50) ? special[dt_rn(g, 15)] : dt_rn(g, 256);
	if (form == 1)
		count = 1;
	if (op == 2 || op == 3)
		dt_need_flags(g, DT_CF);
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	e.nop = 1;
	e.reg = op;
	if (form == 2) {
		g->hi = 0;
		dt_mov_imm(g, 1, 1, count); /* mov cl, count */
	}
	e.op[0] = (uint8_t)((form == 0 ? 0xc0 : form == 1 ? 0xd0 : 0xd2) + (size != 1));
	if (form == 0) {
		e.imm_size = 1;
		e.imm = count;
	}
	pick_rm(g, &e, size, 1, 30);
	dt_emit(g, &e, names[op], DT_C_SHIFT, size);
	unsigned mc = count & (size == 8 ? 63 : 31);
	if (mc == 0)
		return;
	uint16_t of = mc == 1 ? 0 : DT_OF;
	if (op < 4) {
		dt_flags(g, (uint16_t)(DT_CF | (DT_OF & ~of)), of);
		return;
	}
	uint16_t cf = (op != 7 && mc >= (unsigned)bits) ? DT_CF : 0;
	dt_flags(g, (uint16_t)((DT_ARITH & ~DT_AF & ~of & ~cf)), (uint16_t)(DT_AF | of | cf));
}

void dt_gen_shxd(struct dt_gen *g, const struct dt_tmpl *t)
{
	/* a: 0 shld (0F A4/A5), 1 shrd (0F AC/AD) */
	int size = pick_size(g, 14), bycl = dt_chance(g, 50);
	unsigned count = dt_chance(g, 40) ? (unsigned)(size * 8 - dt_rn(g, 3)) : dt_rn(g, 256);
	unsigned mask = size == 8 ? 63 : 31;
	if (size == 2 && (count & mask) > 16)
		count = dt_rn(g, 17); /* counts above 16 leave a 16-bit result undefined */
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	if (bycl) {
		g->hi = 0;
		dt_mov_imm(g, 1, 1, count);
	} else {
		e.imm_size = 1;
		e.imm = count;
	}
	e.op[0] = 0x0f;
	e.op[1] = (uint8_t)((t->a ? 0xac : 0xa4) + bycl);
	e.nop = 2;
	pick_rm(g, &e, size, 1, 30);
	e.reg = dt_anyreg(g, size);
	dt_emit(g, &e, t->a ? "shrd" : "shld", DT_C_SHIFT, size);
	unsigned mc = count & mask;
	if (mc == 0)
		return;
	uint16_t of = mc == 1 ? 0 : DT_OF;
	dt_flags(g, (uint16_t)(DT_ARITH & ~DT_AF & ~of), (uint16_t)(DT_AF | of));
}

void dt_gen_mul(struct dt_gen *g, const struct dt_tmpl *t)
{
	/* a: 0 mul, 1 imul (F6/F7 /4 /5), 2 imul r, r/m, 3 imul r, r/m, imm */
	static const char *const names[4] = {"mul", "imul", "imul2", "imul3"};
	int size = pick_size(g, t->a < 2 ? 15 : 14);
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	if (t->a < 2) {
		e.op[0] = (uint8_t)(0xf6 + (size != 1));
		e.nop = 1;
		e.reg = 4 + t->a;
		pick_rm(g, &e, size, 0, 40);
	} else if (t->a == 2) {
		e.op[0] = 0x0f;
		e.op[1] = 0xaf;
		e.nop = 2;
		pick_rm(g, &e, size, 0, 40);
		e.reg = dt_wreg(g, size);
	} else {
		int ib = dt_chance(g, 50);
		e.op[0] = ib ? 0x6b : 0x69;
		e.nop = 1;
		pick_rm(g, &e, size, 0, 40);
		e.reg = dt_wreg(g, size);
		e.imm_size = ib ? 1 : imm_bytes(size);
		e.imm = rand_imm(g);
	}
	dt_emit(g, &e, names[t->a], DT_C_MULDIV, size);
	dt_flags(g, DT_CF | DT_OF, DT_SF | DT_ZF | DT_AF | DT_PF);
}

/* DIV/IDIV: the dividend's high half is made zero (DIV) or the sign of
 * the low half (IDIV) and the divisor a known non-zero value, except in
 * a few raw ones that usually raise #DE on both sides. */
void dt_gen_div(struct dt_gen *g, const struct dt_tmpl *t)
{
	int size = pick_size(g, 15), sgn = t->a;
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	e.op[0] = (uint8_t)(0xf6 + (size != 1));
	e.nop = 1;
	e.reg = 6 + sgn;
	int raw = dt_chance(g, 4);
	uint64_t d = dt_chance(g, 50) ? 1 + dt_rn(g, 300) : dt_rnd(g);
	if (sgn && dt_chance(g, 10))
		d = ~0ULL;
	uint64_t low = size == 8 ? 0xffffffffULL : (1ULL << (size * 8)) - 1;
	if (!(d & low))
		d |= 1;
	e.has_modrm = 1;
	if (dt_chance(g, 40)) {
		dt_pick_mem(g, &e.rm, 0);
		if (!raw) {
			/* mov size [mem], imm */
			struct dt_enc m = {0};
			dt_set_size(&m, size);
			m.op[0] = (uint8_t)(0xc6 + (size != 1));
			m.nop = 1;
			m.has_modrm = 1;
			m.rm = e.rm;
			m.imm_size = imm_bytes(size);
			m.imm = d;
			dt_emit(g, &m, "mov", DT_C_MOV, size);
		}
	} else {
		g->hi = 0;
		int r;
		do
			r = dt_wreg(g, 8);
		while (r == 0 || r == 2);
		e.rm.reg = r;
		e.rex40 = size == 1 && r >= 4;
		if (!raw)
			dt_mov_imm(g, r, size == 8 ? 8 : 4, d);
	}
	if (!raw) {
		struct dt_enc x = {0};
		if (!sgn && size == 1) { /* movzx eax, al */
			x = (struct dt_enc){.op = {0x0f, 0xb6}, .nop = 2, .has_modrm = 1};
			dt_emit(g, &x, "movzx", DT_C_MOV, 4);
		} else if (!sgn) { /* xor edx, edx */
			x = (struct dt_enc){.op = {0x31}, .nop = 1, .has_modrm = 1, .reg = 2};
			x.rm.reg = 2;
			dt_emit(g, &x, "xor", DT_C_ALU, 4);
			dt_flags(g, DT_ARITH & ~DT_AF, DT_AF);
		} else { /* cbw / cwd / cdq / cqo */
			x = (struct dt_enc){.op = {size == 1 ? 0x98 : 0x99}, .nop = 1};
			dt_set_size(&x, size == 1 ? 2 : size);
			dt_emit(g, &x, size == 1 ? "cbw" : "cwd/cdq/cqo", DT_C_MOV, size);
		}
	}
	dt_emit(g, &e, sgn ? "idiv" : "div", DT_C_MULDIV, size);
	dt_flags(g, 0, DT_ARITH);
}

/* BT/BTS/BTR/BTC (a = 0..3). A register bit offset into memory is set
 * to a small known value first (it may address far outside the operand). */
void dt_gen_bt(struct dt_gen *g, const struct dt_tmpl *t)
{
	static const char *const names[4] = {"bt", "bts", "btr", "btc"};
	int size = pick_size(g, 14), imm = dt_chance(g, 50);
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	e.op[0] = 0x0f;
	e.nop = 2;
	pick_rm(g, &e, size, t->a != 0, 40);
	if (imm) {
		e.op[1] = 0xba;
		e.reg = 4 + t->a;
		e.imm_size = 1;
		e.imm = dt_rn(g, 256);
	} else {
		e.op[1] = (uint8_t)(0xa3 + 8 * t->a);
		if (e.rm.is_mem) {
			e.reg = dt_wreg(g, 8);
			dt_mov_imm(g, e.reg, 8, (uint64_t)((int64_t)dt_rn(g, 1024) - 512));
		} else {
			e.reg = dt_anyreg(g, size);
		}
	}
	if (e.rm.is_mem && t->a && dt_chance(g, 20))
		e.lock = 1;
	dt_emit(g, &e, names[t->a], DT_C_BIT, size);
	/* ZF: unaffected on Intel, undefined on AMD. */
	dt_flags(g, DT_CF, DT_OF | DT_SF | DT_AF | DT_PF | DT_ZF);
}

/* BSF/BSR (a = 0/1): the source is made non-zero first (the destination
 * is undefined for a zero source). */
void dt_gen_bsf(struct dt_gen *g, const struct dt_tmpl *t)
{
	int size = pick_size(g, 14);
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	e.op[0] = 0x0f;
	e.op[1] = (uint8_t)(0xbc + t->a);
	e.nop = 2;
	pick_rm(g, &e, size, 0, 40);
	e.reg = dt_wreg(g, size);
	if (e.rm.is_mem || dt_writable(g, e.rm.reg)) {
		/* bts size src, k */
		struct dt_enc b = {0};
		dt_set_size(&b, size);
		b.op[0] = 0x0f;
		b.op[1] = 0xba;
		b.nop = 2;
		b.has_modrm = 1;
		b.reg = 5;
		b.rm = e.rm;
		b.imm_size = 1;
		b.imm = dt_rn(g, (unsigned)size * 8);
		dt_emit(g, &b, "bts", DT_C_BIT, size);
	}
	dt_emit(g, &e, t->a ? "bsr" : "bsf", DT_C_BIT, size);
	dt_flags(g, DT_ZF, DT_CF | DT_OF | DT_SF | DT_AF | DT_PF);
}

/* a: 0 xchg, 1 cmpxchg, 2 xadd, 3 xchg eax, r (90+r) */
void dt_gen_xchg(struct dt_gen *g, const struct dt_tmpl *t)
{
	static const char *const names[4] = {"xchg", "cmpxchg", "xadd", "xchg-acc"};
	int size = pick_size(g, t->a == 3 ? 14 : 15);
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	if (t->a == 3) {
		int r = dt_wreg(g, 8);
		e.op[0] = (uint8_t)(0x90 + (r & 7));
		e.rexb = r >= 8;
		e.nop = 1;
		dt_emit(g, &e, r == 0 && size != 8 ? "nop/xchg" : names[3], DT_C_XCHG, size);
		return;
	}
	static const uint8_t op[3][2] = {{0x86, 0}, {0x0f, 0xb0}, {0x0f, 0xc0}};
	e.op[0] = op[t->a][0];
	e.op[1] = (uint8_t)(op[t->a][1] + (size != 1));
	e.nop = t->a ? 2 : 1;
	if (!t->a)
		e.op[0] = (uint8_t)(0x86 + (size != 1));
	pick_rm(g, &e, size, 1, 50);
	e.reg = t->a == 1 ? dt_anyreg(g, size) : dt_wreg(g, size);
	if (e.rm.is_mem && t->a && dt_chance(g, 50))
		e.lock = 1;
	dt_emit(g, &e, names[t->a], DT_C_XCHG, size);
	if (t->a)
		dt_flags(g, DT_ARITH, 0);
}

/* a: 0 movzx b, 1 movzx w, 2 movsx b, 3 movsx w, 4 movsxd */
void dt_gen_movx(struct dt_gen *g, const struct dt_tmpl *t)
{
	static const char *const names[5] = {"movzx8", "movzx16", "movsx8", "movsx16", "movsxd"};
	static const uint8_t ops[4] = {0xb6, 0xb7, 0xbe, 0xbf};
	int size = t->a == 4 ? (dt_chance(g, 85) ? 8 : 4) : pick_size(g, (t->a & 1) ? 12 : 14);
	int ssize = t->a == 4 ? 4 : (t->a & 1) ? 2 : 1;
	struct dt_enc e = {0};
	dt_set_size(&e, size);
	if (t->a == 4) {
		e.op[0] = 0x63;
		e.nop = 1;
	} else {
		e.op[0] = 0x0f;
		e.op[1] = ops[t->a];
		e.nop = 2;
	}
	pick_rm(g, &e, ssize, 0, 40);
	if (ssize == 1 && g->hi && size == 8) {
		g->hi = 0; /* REX.W: codes 4..7 are SPL..DIL */
		e.rm.reg = dt_anyreg(g, 1);
	}
	e.reg = g->hi ? dt_wreg(g, 1) : dt_wreg(g, 8);
	if (g->hi && e.reg >= 4) /* without REX the destination codes 4..7 are rsp..rdi */
		while (!dt_writable(g, e.reg))
			e.reg = (int)dt_rn(g, 8);
	dt_emit(g, &e, names[t->a], DT_C_MOV, size);
}

void dt_gen_conv(struct dt_gen *g, const struct dt_tmpl *t)
{
	/* a: 0 cbw/cwde/cdqe (98), 1 cwd/cdq/cqo (99) */
	static const char *const names[2][3] = {{"cbw", "cwde", "cdqe"}, {"cwd", "cdq", "cqo"}};
	int size = pick_size(g, 14);
	struct dt_enc e = {.op = {(uint8_t)(0x98 + t->a)}, .nop = 1};
	dt_set_size(&e, size);
	dt_emit(g, &e, names[t->a][size == 2 ? 0 : size == 4 ? 1 : 2], DT_C_MOV, size);
}

void dt_gen_lea(struct dt_gen *g, const struct dt_tmpl *t)
{
	(void)t;
	int size = pick_size(g, 14);
	struct dt_enc e = {.op = {0x8d}, .nop = 1, .has_modrm = 1};
	dt_set_size(&e, size);
	dt_pick_lea(g, &e.rm);
	e.rm.a32 = dt_chance(g, 20);
	e.reg = dt_wreg(g, 8);
	dt_emit(g, &e, "lea", DT_C_MOV, size);
}

void dt_gen_setcc(struct dt_gen *g, const struct dt_tmpl *t)
{
	int cc = (int)dt_rn(g, 16), cmov = t->a;
	dt_need_flags(g, dt_cc_flags(cc));
	struct dt_enc e = {.op = {0x0f, (uint8_t)((cmov ? 0x40 : 0x90) + cc)}, .nop = 2};
	int size = cmov ? pick_size(g, 14) : 1;
	dt_set_size(&e, size);
	pick_rm(g, &e, size, !cmov, 35);
	e.reg = cmov ? dt_wreg(g, size) : 0;
	dt_emit(g, &e, cmov ? "cmovcc" : "setcc", DT_C_FLAGS, size);
}

void dt_gen_flagop(struct dt_gen *g, const struct dt_tmpl *t)
{
	/* a: 0 clc, 1 stc, 2 cmc, 3 cld, 4 std */
	static const uint8_t ops[5] = {0xf8, 0xf9, 0xf5, 0xfc, 0xfd};
	static const char *const names[5] = {"clc", "stc", "cmc", "cld", "std"};
	if (t->a == 2)
		dt_need_flags(g, DT_CF);
	struct dt_enc e = {.op = {ops[t->a]}, .nop = 1};
	dt_emit(g, &e, names[t->a], DT_C_FLAGS, 0);
	if (t->a < 3)
		dt_flags(g, DT_CF, 0);
}

/* String instructions: a = opcode (even, byte form). RSI/RDI point into
 * the data buffer's middle, RCX is a small count. */
void dt_gen_string(struct dt_gen *g, const struct dt_tmpl *t)
{
	int size = pick_size(g, 15);
	int op = t->a, cmp = op == 0xa6 || op == 0xae;
	int uses_si = op == 0xa4 || op == 0xa6 || op == 0xac;
	int uses_di = op != 0xac;
	g->hi = 0;
	uint64_t si = DT_DATA + 0x800 + dt_rn(g, 0x3000);
	/* MOVS between overlapping ranges: element by element, each read
	 * sees the writes before it */
	int overlap = op == 0xa4 && dt_chance(g, 30);
	int span = dt_chance(g, 50) ? 2 * size : 48;
	uint64_t di = overlap
	                  ? si + (uint64_t)(int64_t)((int)dt_rn(g, 2 * (unsigned)span + 1) - span)
	                  : DT_DATA + 0x800 + dt_rn(g, 0x3000);
	if (uses_si)
		dt_mov_imm(g, 6, 4, si);
	if (uses_di)
		dt_mov_imm(g, 7, 4, di);
	int rep = dt_chance(g, 70);
	unsigned count = dt_rn(g, 10);
	if (rep)
		dt_mov_imm(g, 1, 4, count);
	if (dt_chance(g, 30)) {
		struct dt_enc d = {.op = {dt_chance(g, 50) ? 0xfd : 0xfc}, .nop = 1};
		dt_emit(g, &d, d.op[0] == 0xfd ? "std" : "cld", DT_C_FLAGS, 0);
	}
	struct dt_enc e = {.op = {(uint8_t)(op + (size != 1))}, .nop = 1};
	dt_set_size(&e, size);
	if (rep)
		e.rep = cmp && dt_chance(g, 50) ? 0xf2 : 0xf3;
	const char *name = op == 0xa4   ? "movs"
	                   : op == 0xa6 ? "cmps"
	                   : op == 0xaa ? "stos"
	                   : op == 0xac ? "lods"
	                                : "scas";
	/* random addresses may overlap too: same class */
	uint64_t dist = di > si ? di - si : si - di,
	         reach = (uint64_t)size * ((rep ? count : 1) + 1);
	overlap = overlap || (op == 0xa4 && dist < reach);
	dt_emit(g, &e, overlap ? "movs-overlap" : name, overlap ? DT_C_STROVL : DT_C_STRING, size);
	if (cmp && !(rep && count == 0)) /* a zero count leaves the flags alone */
		dt_flags(g, DT_ARITH, 0);
}

/* A flags probe: pushfq; and qword [rsp], defined-flags mask; pop reg.
 * The defined flags of the moment end up in a register that is compared
 * at the end, so a wrong flag is seen even if later instructions
 * overwrite it. The mask also drops IF/IOPL, which differ on purpose. */
void dt_gen_flagprobe(struct dt_gen *g, const struct dt_tmpl *t)
{
	(void)t;
	struct dt_enc e = {.op = {0x9c}, .nop = 1};
	dt_emit(g, &e, "pushfq", DT_C_FLAGS, 8);
	e = (struct dt_enc){.w = 1, .op = {0x81}, .nop = 1, .has_modrm = 1, .reg = 4};
	e.rm = (struct dt_rm){.is_mem = 1, .mk = DT_MK_BASE, .base = 4};
	e.imm_size = 4;
	e.imm = (DT_ARITH | DT_DF) & ~(uint64_t)g->undef;
	dt_emit(g, &e, "and", DT_C_ALU, 8);
	dt_flags(g, DT_ARITH & ~DT_AF, DT_AF);
	g->hi = 0;
	int r = dt_wreg(g, 8);
	e = (struct dt_enc){.op = {(uint8_t)(0x58 + (r & 7))}, .nop = 1, .rexb = r >= 8};
	dt_emit(g, &e, "pop", DT_C_STACK, 8);
}

/* a: 0 push r, 1 pop r, 2 push imm, 3 push m, 4 pop m */
void dt_gen_stack(struct dt_gen *g, const struct dt_tmpl *t)
{
	static const char *const names[5] = {"push", "pop", "push-imm", "push-m", "pop-m"};
	struct dt_enc e = {0};
	int size = dt_chance(g, 85) ? 8 : 2;
	e.p66 = size == 2;
	g->hi = 0;
	switch (t->a) {
	case 0:
	case 1: {
		int r = t->a ? dt_wreg(g, 8) : (int)dt_rn(g, 16);
		e.op[0] = (uint8_t)((t->a ? 0x58 : 0x50) + (r & 7));
		e.rexb = r >= 8;
		e.nop = 1;
		break;
	}
	case 2:
		e.op[0] = dt_chance(g, 50) ? 0x6a : 0x68;
		e.nop = 1;
		e.imm_size = e.op[0] == 0x6a ? 1 : size == 2 ? 2 : 4;
		e.imm = rand_imm(g);
		break;
	default:
		e.op[0] = t->a == 3 ? 0xff : 0x8f;
		e.reg = t->a == 3 ? 6 : 0;
		e.nop = 1;
		e.has_modrm = 1;
		dt_pick_mem(g, &e.rm, 0);
	}
	dt_emit(g, &e, names[t->a], DT_C_STACK, size);
}
