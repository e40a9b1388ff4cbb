/* SPDX-License-Identifier: Apache-2.0 */
/* Control transfers that stay inside the sequence (CALL/RET/JMP through a
 * register) and the remaining integer instructions user space uses:
 * PUSHF/POPF, LAHF/SAHF, BSWAP, CMPXCHG8B/16B, ENTER/LEAVE, long NOPs and
 * prefetches with any address (neither may fault). */
#include "gen_ops.h"

/* lea r, [rip + (target)] where target is `ahead` bytes after the LEA. */
static void lea_ahead(struct dt_gen *g, int r, unsigned ahead)
{
	struct dt_enc e = {.w = 1, .op = {0x8d}, .nop = 1, .has_modrm = 1, .reg = r, .noseg = 1};
	e.rm = (struct dt_rm){.is_mem = 1, .mk = DT_MK_RIP};
	/* REX.W + 8D + ModRM + disp32 */
	e.rm.target = DT_SEQ + g->s->len + 7 + ahead;
	dt_emit(g, &e, "lea", DT_C_MOV, 8);
}

static int reg_op_len(int r)
{
	return r >= 8 ? 2 : 1;
}

/* a: 0 call $+5; pop r   1 lea; push; ret [imm16]   2 lea; jmp r   3 lea; call r */
void dt_gen_callret(struct dt_gen *g, const struct dt_tmpl *t)
{
	int r = dt_wreg(g, 8);
	struct dt_enc e = {0};
	switch (t->a) {
	case 0:
		e = (struct dt_enc){.op = {0xe8}, .nop = 1, .imm_size = 4};
		dt_emit(g, &e, "call", DT_C_CTL, 8);
		e = (struct dt_enc){.op = {(uint8_t)(0x58 + (r & 7))}, .nop = 1, .rexb = r >= 8};
		dt_emit(g, &e, "pop", DT_C_STACK, 8);
		break;
	case 1: {
		int imm = dt_chance(g, 30);
		lea_ahead(g, r, (unsigned)reg_op_len(r) + (imm ? 3 : 1));
		e = (struct dt_enc){.op = {(uint8_t)(0x50 + (r & 7))}, .nop = 1, .rexb = r >= 8};
		dt_emit(g, &e, "push", DT_C_STACK, 8);
		e = (struct dt_enc){.op = {imm ? 0xc2 : 0xc3}, .nop = 1};
		if (imm) {
			e.imm_size = 2;
			e.imm = 8 * dt_rn(g, 4);
		}
		dt_emit(g, &e, "ret", DT_C_CTL, 8);
		break;
	}
	default:
		lea_ahead(g, r, (unsigned)reg_op_len(r) + 1);
		e = (struct dt_enc){
		    .op = {0xff}, .nop = 1, .has_modrm = 1, .reg = t->a == 2 ? 4 : 2};
		e.rm.reg = r;
		dt_emit(g, &e, t->a == 2 ? "jmp r" : "call r", DT_C_CTL, 8);
	}
}

static void gen_cmpxchg8b(struct dt_gen *g)
{
	int wide = dt_chance(g, 50);
	struct dt_enc e = {.w = wide, .op = {0x0f, 0xc7}, .nop = 2, .has_modrm = 1, .reg = 1};
	dt_pick_mem(g, &e.rm, wide);
	e.lock = dt_chance(g, 50);
	if (dt_chance(g, 50)) {
		/* make it succeed sometimes: load RDX:RAX from the operand */
		struct dt_enc m = {.w = 1, .op = {0x8b}, .nop = 1, .has_modrm = 1, .reg = 0};
		m.rm = e.rm;
		dt_emit(g, &m, "mov", DT_C_MOV, 8);
		if (wide) {
			m.reg = 2;
			if (m.rm.mk == DT_MK_BASE || m.rm.mk == DT_MK_BASE_IDX)
				m.rm.dsize = 4;
			m.rm.disp += 8;
			if (m.rm.mk == DT_MK_RIP)
				m.rm.target += 8;
			dt_emit(g, &m, "mov", DT_C_MOV, 8);
		}
	}
	dt_emit(g, &e, wide ? "cmpxchg16b" : "cmpxchg8b", DT_C_XCHG, wide ? 16 : 8);
	dt_flags(g, DT_ZF, 0);
}

/* a: 0 push imm; popfq   1 lahf   2 sahf   3 bswap   4 cmpxchg8b/16b
 *    5 enter; leave   6 nop r/m   7 prefetch */
void dt_gen_misc(struct dt_gen *g, const struct dt_tmpl *t)
{
	struct dt_enc e = {0};
	g->hi = 0;
	switch (t->a) {
	case 0:
		e = (struct dt_enc){.op = {0x68}, .nop = 1, .imm_size = 4};
		e.imm = 0x2 | (dt_rnd(g) & (DT_ARITH | DT_DF));
		dt_emit(g, &e, "push-imm", DT_C_STACK, 8);
		e = (struct dt_enc){.op = {0x9d}, .nop = 1};
		dt_emit(g, &e, "popfq", DT_C_FLAGS, 8);
		dt_flags(g, DT_ARITH, 0);
		break;
	case 1:
		dt_need_flags(g, DT_SF | DT_ZF | DT_AF | DT_PF | DT_CF);
		e = (struct dt_enc){.op = {0x9f}, .nop = 1};
		dt_emit(g, &e, "lahf", DT_C_FLAGS, 1);
		break;
	case 2:
		e = (struct dt_enc){.op = {0x9e}, .nop = 1};
		dt_emit(g, &e, "sahf", DT_C_FLAGS, 1);
		dt_flags(g, DT_SF | DT_ZF | DT_AF | DT_PF | DT_CF, 0);
		break;
	case 3: {
		int r = dt_wreg(g, 8);
		e = (struct dt_enc){.w = dt_chance(g, 50), .op = {0x0f, (uint8_t)(0xc8 + (r & 7))}};
		e.nop = 2;
		e.rexb = r >= 8;
		dt_emit(g, &e, "bswap", DT_C_MOV, e.w ? 8 : 4);
		break;
	}
	case 4:
		gen_cmpxchg8b(g);
		break;
	case 5:
		if (!dt_writable(g, 5))
			return;
		e = (struct dt_enc){.op = {0xc8}, .nop = 1, .imm_size = 3};
		e.imm = 8 * dt_rn(g, 8); /* iw size, then level 0 */
		dt_emit(g, &e, "enter", DT_C_STACK, 8);
		e = (struct dt_enc){.op = {0xc9}, .nop = 1};
		dt_emit(g, &e, "leave", DT_C_STACK, 8);
		break;
	case 6:
	case 7:
		e = (struct dt_enc){
		    .op = {0x0f, t->a == 6 ? 0x1f : 0x18}, .nop = 2, .has_modrm = 1};
		e.reg = t->a == 6 ? 0 : (int)dt_rn(g, 4);
		dt_pick_lea(g, &e.rm);
		dt_set_size(&e, t->a == 6 && dt_chance(g, 30) ? 2 : 4);
		dt_emit(g, &e, t->a == 6 ? "nop r/m" : "prefetch", DT_C_MOV, 0);
		break;
	}
}
