/* SPDX-License-Identifier: Apache-2.0 */
/* The fast system-call instructions: SYSCALL/SYSRET (64-bit and
 * compatibility mode) and SYSENTER/SYSEXIT. They load flat segments
 * without reading descriptors, as the hardware does. */
#include "vm/emu/ops.h"

static struct x86_segment flat(uint16_t sel, int code, unsigned dpl, int l)
{
	return (struct x86_segment){.base = 0,
	                            .limit = 0xffffffff,
	                            .selector = sel,
	                            .type = code ? 0xb : 0x3,
	                            .s = 1,
	                            .dpl = (uint8_t)dpl,
	                            .present = 1,
	                            .l = (uint8_t)l,
	                            .db = (uint8_t)!l,
	                            .g = 1};
}

static int op_syscall(struct emu_cpu *c, struct emu_insn *i)
{
	if (!(c->s.efer & EMU_EFER_SCE) || !(c->s.cr0 & EMU_CR0_PE))
		emu_ud(c);
	uint64_t next = c->rip + i->end, f = emu_flags(c);
	uint16_t sel = (uint16_t)(c->s.msr.star >> 32);
	if (c->long_mode) {
		c->s.gpr[X86_RCX] = next;
		c->s.gpr[X86_R11] = f & ~(uint64_t)EMU_F_RF;
		c->s.seg[X86_CS] = flat(sel & 0xfffc, 1, 0, 1);
		c->s.seg[X86_SS] = flat((uint16_t)(sel + 8), 0, 0, 0);
		emu_set_flags(c, f & ~c->s.msr.sfmask & ~(uint64_t)EMU_F_RF);
		uint64_t t = c->code_sz == 8 ? c->s.msr.lstar : c->s.msr.cstar;
		emu_update_mode(c);
		c->rip = t;
	} else {
		c->s.gpr[X86_RCX] = (uint32_t)next;
		c->s.seg[X86_CS] = flat(sel & 0xfffc, 1, 0, 0);
		c->s.seg[X86_SS] = flat((uint16_t)(sel + 8), 0, 0, 0);
		emu_set_flags(c, f & ~(uint64_t)(EMU_F_IF | EMU_F_VM | EMU_F_RF));
		emu_update_mode(c);
		c->rip = (uint32_t)c->s.msr.star;
	}
	return 1;
}

static int op_sysret(struct emu_cpu *c, struct emu_insn *i)
{
	if (!(c->s.efer & EMU_EFER_SCE) || !(c->s.cr0 & EMU_CR0_PE))
		emu_ud(c);
	if (c->cpl)
		emu_gp0(c);
	uint16_t sel = (uint16_t)(c->s.msr.star >> 48);
	int to64 = (i->pfx & EMU_PFX_REXW) != 0;
	uint64_t rip = to64 ? c->s.gpr[X86_RCX] : (uint32_t)c->s.gpr[X86_RCX];
	if (to64 && (uint64_t)((int64_t)(rip << 16) >> 16) != rip)
		emu_gp0(c);
	if (c->long_mode) {
		emu_set_flags(c, (c->s.gpr[X86_R11] & 0x3c7fd7) | 2);
		c->s.seg[X86_CS] = to64 ? flat((uint16_t)((sel + 16) | 3), 1, 3, 1)
		                        : flat((uint16_t)(sel | 3), 1, 3, 0);
	} else {
		emu_set_flags(c, emu_flags(c) | EMU_F_IF);
		c->s.seg[X86_CS] = flat((uint16_t)(sel | 3), 1, 3, 0);
	}
	c->s.seg[X86_SS] = flat((uint16_t)((sel + 8) | 3), 0, 3, 0);
	emu_update_mode(c);
	c->rip = rip;
	return 1;
}

static int op_sysenter(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	uint16_t sel = (uint16_t)c->s.msr.sysenter_cs;
	if (!(c->s.cr0 & EMU_CR0_PE) || (sel & 0xfffc) == 0)
		emu_gp0(c);
	int l = c->long_mode;
	emu_set_flags(c, emu_flags(c) & ~(uint64_t)(EMU_F_IF | EMU_F_VM | EMU_F_RF));
	c->s.seg[X86_CS] = flat(sel & 0xfffc, 1, 0, l);
	c->s.seg[X86_SS] = flat((uint16_t)((sel & 0xfffc) + 8), 0, 0, 0);
	emu_update_mode(c);
	c->s.gpr[X86_RSP] = l ? c->s.msr.sysenter_esp : (uint32_t)c->s.msr.sysenter_esp;
	c->rip = l ? c->s.msr.sysenter_eip : (uint32_t)c->s.msr.sysenter_eip;
	return 1;
}

static int op_sysexit(struct emu_cpu *c, struct emu_insn *i)
{
	uint16_t sel = (uint16_t)c->s.msr.sysenter_cs;
	if (!(c->s.cr0 & EMU_CR0_PE) || (sel & 0xfffc) == 0 || c->cpl)
		emu_gp0(c);
	int to64 = (i->pfx & EMU_PFX_REXW) != 0;
	if (to64) {
		c->s.seg[X86_CS] = flat((uint16_t)((sel + 32) | 3), 1, 3, 1);
		c->s.seg[X86_SS] = flat((uint16_t)((sel + 40) | 3), 0, 3, 0);
	} else {
		c->s.seg[X86_CS] = flat((uint16_t)((sel + 16) | 3), 1, 3, 0);
		c->s.seg[X86_SS] = flat((uint16_t)((sel + 24) | 3), 0, 3, 0);
	}
	uint64_t rip = to64 ? c->s.gpr[X86_RDX] : (uint32_t)c->s.gpr[X86_RDX];
	uint64_t rsp = to64 ? c->s.gpr[X86_RCX] : (uint32_t)c->s.gpr[X86_RCX];
	emu_update_mode(c);
	c->s.gpr[X86_RSP] = rsp;
	c->rip = rip;
	return 1;
}

emu_fn emu_syscall_handler(unsigned op)
{
	switch (op) {
	case 0x05:
		return op_syscall;
	case 0x07:
		return op_sysret;
	case 0x34:
		return op_sysenter;
	default:
		return op_sysexit;
	}
}
