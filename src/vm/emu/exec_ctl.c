/* SPDX-License-Identifier: Apache-2.0 */
/* Control transfers: JMP/Jcc/LOOP/JCXZ, CALL/RET (near and far), ENTER/
 * LEAVE, INT n/INT3/INTO/INT1, IRET and HLT. Every handler here ends the
 * block (returns 1) except ENTER/LEAVE. */
#include "vm/emu/ops.h"

/* Branch target truncated to the operand size outside 64-bit mode. */
static uint64_t target(const struct emu_cpu *c, const struct emu_insn *i, uint64_t t)
{
	if (i->osz == 2)
		return (uint16_t)t;
	if (c->code_sz != 8)
		return (uint32_t)t;
	return t;
}

static int op_jmp_rel(struct emu_cpu *c, struct emu_insn *i)
{
	c->rip = target(c, i, c->rip + i->end + i->imm);
	return 1;
}

static int op_jcc(struct emu_cpu *c, struct emu_insn *i)
{
	if (emu_cond(c, i->op & 15))
		c->rip = target(c, i, c->rip + i->end + i->imm);
	else
		c->rip += i->end;
	return 1;
}

static uint64_t count_reg(struct emu_cpu *c, const struct emu_insn *i)
{
	return emu_getreg(c, X86_RCX, i->asz);
}

static int op_loop(struct emu_cpu *c, struct emu_insn *i) /* E0 E1 E2 E3 */
{
	int take;
	if (i->op == 0xe3) {
		take = count_reg(c, i) == 0;
	} else {
		uint64_t n = count_reg(c, i) - 1;
		emu_setreg(c, X86_RCX, i->asz, n);
		if (i->asz == 2)
			n = (uint16_t)n;
		else if (i->asz == 4)
			n = (uint32_t)n;
		take = n != 0;
		if (i->op == 0xe0)
			take = take && !emu_cond(c, 4);
		else if (i->op == 0xe1)
			take = take && emu_cond(c, 4);
	}
	if (take)
		c->rip = target(c, i, c->rip + i->end + i->imm);
	else
		c->rip += i->end;
	return 1;
}

static int op_call_rel(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t next = c->rip + i->end;
	emu_push(c, i->osz, next);
	c->rip = target(c, i, next + i->imm);
	emu_rs_push(c, next);
	return 1;
}

static int op_call_rm(struct emu_cpu *c, struct emu_insn *i) /* FF /2 */
{
	uint64_t t = emu_rd_rm(c, i);
	uint64_t next = c->rip + i->end;
	emu_push(c, i->osz, next);
	c->rip = target(c, i, t);
	emu_rs_push(c, next);
	return 1;
}

static int op_jmp_rm(struct emu_cpu *c, struct emu_insn *i) /* FF /4 */
{
	c->rip = target(c, i, emu_rd_rm(c, i));
	return 1;
}

static int op_ret(struct emu_cpu *c, struct emu_insn *i) /* C3, C2 iw */
{
	uint64_t t = emu_pop(c, i->osz);
	if (i->op == 0xc2)
		emu_set_sp(c, c->s.gpr[X86_RSP] + i->imm);
	c->rip = target(c, i, t);
	c->ret_pending = 1;
	return 1;
}

static int op_ret64(struct emu_cpu *c, struct emu_insn *i) /* C3 in 64-bit mode */
{
	(void)i;
	uint64_t sp = c->s.gpr[X86_RSP];
	c->rip = emu_rd64(c, sp);
	c->s.gpr[X86_RSP] = sp + 8;
	c->ret_pending = 1;
	return 1;
}

static int op_enter(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned sz = i->osz, level = i->imm2 & 31;
	uint64_t bp = c->s.gpr[X86_RBP];
	emu_push(c, sz, bp);
	uint64_t frame = c->s.gpr[X86_RSP];
	if (level) {
		uint64_t m = emu_stack_mask(c);
		for (unsigned k = 1; k < level; k++) {
			bp = (bp & ~m) | ((bp - sz) & m);
			emu_push(c, sz, emu_rd(c, emu_stack_la(c, bp), sz));
		}
		emu_push(c, sz, frame);
	}
	emu_setreg(c, X86_RBP, c->stack_sz < sz ? c->stack_sz : sz, frame);
	emu_set_sp(c, c->s.gpr[X86_RSP] - i->imm);
	return 0;
}

static int op_leave(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t m = emu_stack_mask(c);
	uint64_t sp = (c->s.gpr[X86_RSP] & ~m) | (c->s.gpr[X86_RBP] & m);
	uint64_t v = emu_rd(c, emu_stack_la(c, sp), i->osz);
	emu_set_sp(c, sp + i->osz);
	emu_setreg(c, X86_RBP, i->osz, v);
	return 0;
}

static int op_int(struct emu_cpu *c, struct emu_insn *i) /* CC CD CE F1 */
{
	switch (i->op) {
	case 0xcc:
		emu_raise_trap(c, EMU_BP, 1);
	case 0xcd:
		emu_raise_trap(c, (int)i->imm, 1);
	case 0xce:
		if (!emu_cond(c, 0)) {
			c->rip += i->end;
			return 1;
		}
		emu_raise_trap(c, EMU_OF, 1);
	default:
		emu_raise_trap(c, EMU_DB, 0);
	}
}

static int op_iret(struct emu_cpu *c, struct emu_insn *i)
{
	emu_iret(c, i->osz);
	return 1;
}

static int op_hlt(struct emu_cpu *c, struct emu_insn *i)
{
	if (c->cpl)
		emu_gp0(c);
	c->rip += i->end;
	c->s.ev.run_state = X86_HALTED;
	c->exit_pending = 1;
	c->exit_reason = EMU_EXIT_HALT;
	return 1;
}

static int op_jmp_far(struct emu_cpu *c, struct emu_insn *i) /* EA */
{
	emu_far_jmp(c, i->imm2, i->imm);
	return 1;
}
static int op_call_far(struct emu_cpu *c, struct emu_insn *i) /* 9A */
{
	emu_far_call(c, i->imm2, i->imm, i->osz, c->rip + i->end);
	return 1;
}
/* FF /3 and /5: m16:16/32/64 */
static int op_far_ind(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t la = emu_ea(c, i);
	uint64_t off = emu_rd(c, la, i->osz);
	uint16_t sel = emu_rd16(c, (la + i->osz) & c->la_mask);
	if (i->ext == 3)
		emu_far_call(c, sel, off, i->osz, c->rip + i->end);
	else
		emu_far_jmp(c, sel, off);
	return 1;
}
static int op_ret_far(struct emu_cpu *c, struct emu_insn *i) /* CA CB */
{
	emu_far_ret(c, i->osz, i->op == 0xca ? (unsigned)i->imm : 0);
	return 1;
}

emu_fn emu_ctl_pick(struct emu_insn *i)
{
	if (i->pfx & EMU_PFX_LOCK)
		return NULL;
	if (i->map == 1)
		return (i->op >= 0x80 && i->op <= 0x8f) ? op_jcc : NULL;
	if (i->map != 0)
		return NULL;
	switch (i->op) {
	case 0x70 ... 0x7f:
		return op_jcc;
	case 0xe0 ... 0xe3:
		return op_loop;
	case 0xe8:
		return op_call_rel;
	case 0xe9:
	case 0xeb:
		return op_jmp_rel;
	case 0xc2:
		return op_ret;
	case 0xc3:
		return i->csz == 8 && i->osz == 8 ? op_ret64 : op_ret;
	case 0xc8:
		return op_enter;
	case 0xc9:
		return op_leave;
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xf1:
		return op_int;
	case 0xcf:
		return op_iret;
	case 0xf4:
		return op_hlt;
	case 0xea:
		return op_jmp_far;
	case 0x9a:
		return op_call_far;
	case 0xca:
	case 0xcb:
		return op_ret_far;
	case 0xff:
		switch (i->ext) {
		case 2:
			if (i->csz == 8)
				i->osz = 8;
			return op_call_rm;
		case 4:
			if (i->csz == 8)
				i->osz = 8;
			return op_jmp_rm;
		case 3:
		case 5:
			return i->mem ? op_far_ind : NULL;
		}
		return NULL;
	}
	return NULL;
}
