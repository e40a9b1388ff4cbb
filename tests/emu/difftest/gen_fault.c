/* SPDX-License-Identifier: Apache-2.0 */
/* Instructions that fault on purpose, so that exception delivery is
 * compared too: the vector, the faulting RIP, the registers and memory at
 * the fault, #GP and #PF error codes and CR2. */
#include "gen_ops.h"

/* A store that straddles the end of the data buffer (#PF: nothing may be
 * written), or a REP MOVS/STOS that runs off it (#PF in the middle: RCX,
 * RSI, RDI show the progress, the bytes before the page are written). */
static void gen_edge_fault(struct dt_gen *g)
{
	uint64_t end = DT_DATA + DT_DATA_SIZE;
	if (dt_chance(g, 50)) {
		int size = 2 << dt_rn(g, 3);
		int r = dt_wreg(g, 8);
		struct dt_enc e = {.op = {0x89}, .nop = 1, .has_modrm = 1, .reg = r};
		dt_set_size(&e, size);
		e.rm = (struct dt_rm){.is_mem = 1, .mk = DT_MK_ABS};
		e.rm.disp = (int32_t)(end - 1 - dt_rn(g, (unsigned)size - 1));
		dt_emit(g, &e, "mov-straddle", DT_C_FAULT, size);
		return;
	}
	int size = 1 << dt_rn(g, 4), movs = dt_chance(g, 50);
	unsigned before = 1 + dt_rn(g, 8);
	dt_mov_imm(g, 7, 4, end - (uint64_t)size * before + dt_rn(g, (unsigned)size));
	if (movs)
		dt_mov_imm(g, 6, 4, DT_DATA + 0x1000 + dt_rn(g, 0x1000));
	dt_mov_imm(g, 1, 4, before + 1 + dt_rn(g, 8));
	struct dt_enc e = {.op = {0xfc}, .nop = 1};
	dt_emit(g, &e, "cld", DT_C_FLAGS, 0);
	e = (struct dt_enc){.rep = 0xf3, .op = {(uint8_t)((movs ? 0xa4 : 0xaa) + (size != 1))}};
	e.nop = 1;
	dt_set_size(&e, size);
	dt_emit(g, &e, movs ? "rep-movs-off-end" : "rep-stos-off-end", DT_C_FAULT, size);
}

/* Privileged instructions at CPL 3: #GP(0). (Not CLI/STI/IN/OUT: the
 * emulated run has IOPL 3 so that OUT can end it; not SGDT and friends:
 * UMIP may be on in the host.) */
static void gen_privileged(struct dt_gen *g)
{
	static const struct {
		uint8_t op[3], nop, modrm;
		const char *name;
	} p[] = {
	    {{0xf4}, 1, 0, "hlt"},
	    {{0x0f, 0x22}, 2, 0xc0, "mov cr0"},
	    {{0x0f, 0x20}, 2, 0xd8, "mov from cr3"},
	    {{0x0f, 0x30}, 2, 0, "wrmsr"},
	    {{0x0f, 0x32}, 2, 0, "rdmsr"},
	    {{0x0f, 0x06}, 2, 0, "clts"},
	    {{0x0f, 0x09}, 2, 0, "wbinvd"},
	    {{0x0f, 0x01, 0xf8}, 3, 0, "swapgs"},
	    {{0x0f, 0x23}, 2, 0xc7, "mov dr7"},
	    {{0x0f, 0x00}, 2, 0xd8, "ltr"},
	};
	unsigned k = dt_rn(g, sizeof(p) / sizeof(p[0]));
	struct dt_enc e = {.nop = p[k].nop};
	for (int i = 0; i < 3; i++)
		e.op[i] = p[k].op[i];
	if (p[k].modrm) {
		e.op[e.nop++] = p[k].modrm;
	}
	dt_emit(g, &e, p[k].name, DT_C_SYS, 0);
}

/* INT3, INT 3, INTO (#UD in 64-bit mode) and INT n through a DPL 0 gate:
 * #GP with the error code n*8+2. */
static void gen_int_n(struct dt_gen *g)
{
	struct dt_enc e = {.nop = 1};
	unsigned k = dt_rn(g, 4), n;
	if (k == 0) {
		e.op[0] = 0xcc;
		dt_emit(g, &e, "int3", DT_C_SYS, 0);
		return;
	}
	if (k == 1) {
		e.op[0] = 0xce;
		dt_emit(g, &e, "into", DT_C_SYS, 0);
		return;
	}
	do
		n = k == 2 ? 3 : dt_rn(g, 256);
	while (n == 0x80 || n == 4);
	e.op[0] = 0xcd;
	e.imm_size = 1;
	e.imm = n;
	dt_emit(g, &e, "int n", DT_C_SYS, 0);
}

/* add eax, ebx behind ignored DS prefixes: 14 to 17 bytes; more than 15
 * is #GP(0). */
static void gen_long_insn(struct dt_gen *g)
{
	unsigned len = 14 + dt_rn(g, 4);
	struct dt_enc e = {.nop = 0};
	/* the encoder takes up to 3 opcode bytes: emit the prefixes as
	 * separate pieces of one instruction record */
	uint32_t start = g->s->len;
	for (unsigned i = 0; i + 2 < len; i++) {
		if (g->s->len + 16 > DT_SEQ_MAX - 64) {
			g->failed = 1;
			return;
		}
		g->s->code[g->s->len++] = 0x3e;
	}
	e.op[0] = 0x01;
	e.op[1] = 0xd8;
	e.nop = 2;
	uint16_t undef = g->undef;
	if (!dt_emit(g, &e, len > 15 ? "long-insn #GP" : "long-insn", DT_C_SYS, 4))
		return;
	struct dt_insn *in = &g->s->insn[g->s->ninsn - 1];
	in->off = start; /* the record covers the prefixes too */
	in->len = (uint8_t)(g->s->len - start);
	in->undef_before = undef;
	dt_flags(g, DT_ARITH, 0);
}

/* Instructions that fault on purpose, to compare exception delivery
 * (vector, faulting RIP, registers at the fault). a: 0 ud2, 1 lock on a
 * register operand (#UD), 2 load from an unmapped page (#PF), 3 load from
 * a non-canonical address (#GP), 4 off the end of the data buffer. */
void dt_gen_fault(struct dt_gen *g, const struct dt_tmpl *t)
{
	static const char *const names[4] = {"ud2", "lock-reg", "load-unmapped", "load-noncanon"};
	struct dt_enc e = {0};
	g->hi = 0;
	switch (t->a) {
	case 4:
		gen_edge_fault(g);
		return;
	case 0:
		e = (struct dt_enc){.op = {0x0f, 0x0b}, .nop = 2};
		break;
	case 1:
		e = (struct dt_enc){.lock = 1, .op = {0x01}, .nop = 1, .has_modrm = 1, .w = 1};
		e.reg = dt_anyreg(g, 8);
		e.rm.reg = dt_wreg(g, 8);
		if (dt_chance(g, 50)) { /* lock mov [mem], r: not lockable */
			e.op[0] = 0x89;
			dt_pick_mem(g, &e.rm, 0);
		}
		break;
	case 5:
		gen_privileged(g);
		return;
	case 6:
		gen_int_n(g);
		return;
	case 7:
		gen_long_insn(g);
		return;
	default: {
		/* mov reg, [disp32] (absolute): the page after the data buffer
		 * is mapped in neither run; a non-canonical address needs a
		 * register: mov rax, imm64; mov reg, [rax] */
		int r = dt_wreg(g, 8);
		e = (struct dt_enc){.op = {0x8b}, .nop = 1, .has_modrm = 1, .w = 1};
		e.reg = r;
		e.rm.is_mem = 1;
		if (t->a == 2) {
			e.rm.mk = DT_MK_ABS;
			e.rm.disp = (int32_t)(DT_DATA + DT_DATA_SIZE + 0x1000 * dt_rn(g, 4));
		} else {
			/* bit 63 set, bit 62 clear: never canonical */
			dt_mov_imm(g, 0, 8, 0x8000000000000000ULL | (dt_rnd(g) >> 2));
			e.rm.mk = DT_MK_BASE;
			e.rm.base = 0;
		}
	}
	}
	dt_emit(g, &e, names[t->a], DT_C_FAULT, 8);
}
