/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the instruction handler files: the per-file opcode pickers
 * that emu_pick (ops.c) asks in turn, and stack helpers. */
#ifndef CAPSA_VM_EMU_OPS_H
#define CAPSA_VM_EMU_OPS_H

#include "vm/emu/internal.h"

/* Each returns the handler for i's opcode if the file implements it, else
 * NULL; it may adjust decoded fields for its handlers. */
emu_fn emu_alu_pick(struct emu_insn *i);
emu_fn emu_mov_pick(struct emu_insn *i);
emu_fn emu_bits_pick(struct emu_insn *i);
emu_fn emu_ctl_pick(struct emu_insn *i);
emu_fn emu_str_pick(struct emu_insn *i);
emu_fn emu_sys_pick(struct emu_insn *i);
/* The fused CMP/TEST+Jcc form of a CMP/TEST handler, or NULL. */
emu_fn emu_fuse_jcc(emu_fn cmp);

static inline uint64_t emu_stack_mask(const struct emu_cpu *c)
{
	return c->stack_sz == 8 ? ~0ULL : c->stack_sz == 4 ? 0xffffffffULL : 0xffffULL;
}
static inline void emu_set_sp(struct emu_cpu *c, uint64_t sp)
{
	uint64_t m = emu_stack_mask(c);
	c->s.gpr[X86_RSP] = (c->s.gpr[X86_RSP] & ~m) | (sp & m);
}
static inline uint64_t emu_stack_la(const struct emu_cpu *c, uint64_t sp)
{
	return ((sp & emu_stack_mask(c)) + c->segbase[X86_SS]) & c->la_mask;
}
static inline void emu_push(struct emu_cpu *c, unsigned sz, uint64_t v)
{
	uint64_t sp = c->s.gpr[X86_RSP] - sz;
	emu_wr(c, emu_stack_la(c, sp), sz, v);
	emu_set_sp(c, sp);
}
/* Read the top of stack at depth `off` bytes without popping. */
static inline uint64_t emu_peek(struct emu_cpu *c, unsigned sz, uint64_t off)
{
	return emu_rd(c, emu_stack_la(c, c->s.gpr[X86_RSP] + off), sz);
}
static inline uint64_t emu_pop(struct emu_cpu *c, unsigned sz)
{
	uint64_t v = emu_peek(c, sz, 0);
	emu_set_sp(c, c->s.gpr[X86_RSP] + sz);
	return v;
}

/* r/m operand of size i->osz (register or memory) */
static inline uint64_t emu_rd_rm(struct emu_cpu *c, struct emu_insn *i)
{
	if (i->mem)
		return emu_rd(c, emu_ea(c, i), i->osz);
	return i->osz == 1 ? *emu_r8p(c, i->rm8) : emu_getreg(c, i->rm, i->osz);
}
static inline void emu_wr_rm(struct emu_cpu *c, struct emu_insn *i, uint64_t v)
{
	if (i->mem)
		emu_wr(c, emu_ea(c, i), i->osz, v);
	else if (i->osz == 1)
		*emu_r8p(c, i->rm8) = (uint8_t)v;
	else
		emu_setreg(c, i->rm, i->osz, v);
}
static inline uint64_t emu_rd_reg(struct emu_cpu *c, struct emu_insn *i)
{
	return i->osz == 1 ? *emu_r8p(c, i->reg8) : emu_getreg(c, i->reg, i->osz);
}
static inline void emu_wr_reg(struct emu_cpu *c, struct emu_insn *i, uint64_t v)
{
	if (i->osz == 1)
		*emu_r8p(c, i->reg8) = (uint8_t)v;
	else
		emu_setreg(c, i->reg, i->osz, v);
}

/* Port I/O permission: CPL <= IOPL, else the TSS I/O bitmap; #GP(0). */
void emu_io_check(struct emu_cpu *c, uint16_t port, unsigned len);

/* Segment loads and far transfers (seg.c). */
/* The 8-byte descriptor d of selector sel as a segment register's hidden part. */
void emu_parse_desc(uint64_t d, uint16_t sel, struct x86_segment *s);
void emu_load_seg(struct emu_cpu *c, unsigned sreg, uint16_t sel);
void emu_load_seg_real(struct emu_cpu *c, unsigned sreg, uint16_t sel);
/* Far jump/call/return to sel:off (osz: operand size of the instruction). */
void emu_far_jmp(struct emu_cpu *c, uint16_t sel, uint64_t off);
void emu_far_call(struct emu_cpu *c, uint16_t sel, uint64_t off, unsigned osz, uint64_t ret);
void emu_far_ret(struct emu_cpu *c, unsigned osz, unsigned pop);
void emu_iret(struct emu_cpu *c, unsigned osz);
/* LLDT / LTR */
void emu_load_sys_seg(struct emu_cpu *c, unsigned sreg, uint16_t sel);
emu_fn emu_lar_lsl_handler(void);
void emu_verr_verw(struct emu_cpu *c, uint16_t sel, int write);
/* SYSCALL (0x05), SYSRET (0x07), SYSENTER (0x34), SYSEXIT (0x35) */
emu_fn emu_syscall_handler(unsigned op);
/* RFLAGS write by POPF/IRET with the privilege rules. */
void emu_write_flags(struct emu_cpu *c, uint64_t v, unsigned osz);

#endif
