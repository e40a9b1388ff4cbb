/* SPDX-License-Identifier: Apache-2.0 */
/* System instructions: port I/O, CLI/STI, PUSHF/POPF, control and debug
 * registers, descriptor-table registers, RDMSR/WRMSR, CPUID, RDTSC(P),
 * CLTS, INVLPG, caches and fences, SWAPGS, segment register moves. */
#include "vm/emu/msr.h"
#include "vm/emu/ops.h"

static uint64_t iopl(struct emu_cpu *c)
{
	return (c->s.rflags >> 12) & 3;
}

void emu_io_check(struct emu_cpu *c, uint16_t port, unsigned len)
{
	if (!(c->s.cr0 & EMU_CR0_PE) || c->cpl <= iopl(c))
		return;
	/* TSS I/O permission bitmap: base at TSS+0x66, every bit for the
	 * accessed ports must be 0 */
	const struct x86_segment *tr = &c->s.seg[X86_TR];
	if (!tr->present || (tr->type != 0x9 && tr->type != 0xb) || tr->limit < 0x67)
		emu_gp0(c);
	uint16_t base;
	emu_rd_sys(c, tr->base + 0x66, &base, 2);
	uint32_t at = (uint32_t)base + port / 8;
	if (at + 1 > tr->limit)
		emu_gp0(c);
	uint16_t bits;
	emu_rd_sys(c, tr->base + at, &bits, 2);
	if ((bits >> (port & 7)) & ((1u << len) - 1))
		emu_gp0(c);
}

static int op_io(struct emu_cpu *c, struct emu_insn *i) /* E4-E7 EC-EF */
{
	unsigned sz = i->osz == 1 ? 1 : i->osz == 2 ? 2 : 4;
	uint16_t port = (i->op & 8) ? (uint16_t)c->s.gpr[X86_RDX] : (uint16_t)i->imm;
	emu_io_check(c, port, sz);
	uint8_t buf[4] = {0xff, 0xff, 0xff, 0xff};
	if (i->op & 2) {
		uint32_t v = (uint32_t)c->s.gpr[X86_RAX];
		memcpy(buf, &v, 4);
		if (c->bus.pio)
			c->bus.pio(c->bus.ctx, port, buf, sz, 1);
	} else {
		if (c->bus.pio)
			c->bus.pio(c->bus.ctx, port, buf, sz, 0);
		uint32_t v;
		memcpy(&v, buf, 4);
		if (sz == 1)
			*emu_r8p(c, 0) = (uint8_t)v;
		else
			emu_setreg(c, X86_RAX, sz, v);
	}
	/* The device may have ended the machine (debug exit, reset) and kicked
	 * this vCPU: stop before the next instruction, as a hardware exit would. */
	if (EMU_UNLIKELY(atomic_load_explicit(&c->req, memory_order_relaxed) & EMU_REQ_KICK)) {
		c->rip = emu_next_rip(c, i);
		return 1;
	}
	return 0;
}

static int op_cli(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	if ((c->s.cr0 & EMU_CR0_PE) && c->cpl > iopl(c))
		emu_gp0(c);
	c->s.rflags &= ~(uint64_t)EMU_F_IF;
	return 0;
}

static int op_sti(struct emu_cpu *c, struct emu_insn *i)
{
	if ((c->s.cr0 & EMU_CR0_PE) && c->cpl > iopl(c))
		emu_gp0(c);
	if (!(c->s.rflags & EMU_F_IF))
		c->s.ev.interrupt_shadow = 1;
	c->s.rflags |= EMU_F_IF;
	c->rip += i->end;
	return 1;
}

static int op_pushf(struct emu_cpu *c, struct emu_insn *i)
{
	/* VM and RF read as 0 in the pushed image */
	emu_push(c, i->osz, emu_flags(c) & ~(uint64_t)(EMU_F_VM | EMU_F_RF));
	return 0;
}

static int op_popf(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t v = emu_pop(c, i->osz);
	emu_write_flags(c, v, i->osz);
	c->rip += i->end;
	return 1;
}

void emu_write_flags(struct emu_cpu *c, uint64_t v, unsigned osz)
{
	uint64_t f = emu_flags(c);
	uint64_t chg = EMU_F_ARITH | EMU_F_TF | EMU_F_DF | EMU_F_NT | EMU_F_AC | EMU_F_ID;
	if (c->cpl == 0)
		chg |= EMU_F_IOPL | EMU_F_IF;
	else if (c->cpl <= iopl(c))
		chg |= EMU_F_IF;
	if (osz == 2)
		chg &= 0xffff;
	emu_set_flags(c, (f & ~chg) | (v & chg));
}

/* ---- control and debug registers ---- */
static int op_mov_cr(struct emu_cpu *c, struct emu_insn *i) /* 0F 20 / 0F 22 */
{
	if (c->cpl)
		emu_gp0(c);
	unsigned cr = i->reg; /* REX.R selects CR8 */
	unsigned r = i->rm;
	unsigned sz = c->long_mode ? 8 : 4;
	if (i->op == 0x20) {
		uint64_t v;
		switch (cr) {
		case 0:
			v = c->s.cr0;
			break;
		case 2:
			v = c->s.cr2;
			break;
		case 3:
			v = c->s.cr3;
			break;
		case 4:
			v = c->s.cr4;
			break;
		case 8:
			v = c->s.cr8;
			break;
		default:
			emu_ud(c);
		}
		emu_setreg(c, r, sz, v);
	} else {
		uint64_t v = emu_getreg(c, r, sz);
		if (emu_write_cr(c, cr, v) < 0)
			emu_gp0(c);
	}
	c->rip += i->end;
	return 1;
}

static int op_mov_dr(struct emu_cpu *c, struct emu_insn *i) /* 0F 21 / 0F 23 */
{
	if (c->cpl)
		emu_gp0(c);
	unsigned dr = i->ext, r = i->rm;
	if (dr == 4 || dr == 5)
		dr += 2;
	unsigned sz = c->long_mode ? 8 : 4;
	if (i->op == 0x21) {
		emu_setreg(c, r, sz, c->s.dr[dr]);
	} else {
		uint64_t v = emu_getreg(c, r, sz);
		if (dr >= 6 && (v >> 32))
			emu_gp0(c);
		c->s.dr[dr] = dr == 6 ? (v | 0xffff0ff0) : dr == 7 ? (v | 0x400) : v;
	}
	c->rip += i->end;
	return 1;
}

static int op_clts(struct emu_cpu *c, struct emu_insn *i)
{
	if (c->cpl)
		emu_gp0(c);
	c->s.cr0 &= ~EMU_CR0_TS;
	c->rip += i->end;
	return 1;
}

static int op_wbinvd(struct emu_cpu *c, struct emu_insn *i)
{
	if (c->cpl)
		emu_gp0(c);
	c->rip += i->end;
	return 1;
}

static int op_fence(struct emu_cpu *c, struct emu_insn *i) /* 0F AE /5 /6 /7 reg, /7 mem */
{
	if (i->mem) {
		emu_rd8(c, emu_ea(c, i)); /* CLFLUSH faults like a read */
		return 0;
	}
	if (i->ext == 6)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

/* ---- descriptor-table registers (0F 01 memory forms, 0F 00) ---- */
static int op_grp7_mem(struct emu_cpu *c, struct emu_insn *i)
{
	uint64_t la = emu_ea(c, i);
	unsigned bsz = c->code_sz == 8 ? 8 : 4;
	struct x86_dtable *t = (i->ext & 1) ? &c->s.idt : &c->s.gdt;
	switch (i->ext) {
	case 0:
	case 1: /* SGDT / SIDT (no UMIP) */
		emu_wr16(c, la, t->limit);
		emu_wr(c, (la + 2) & c->la_mask, bsz, t->base);
		break;
	case 2:
	case 3: { /* LGDT / LIDT */
		if (c->cpl)
			emu_gp0(c);
		uint16_t lim = emu_rd16(c, la);
		uint64_t base = emu_rd(c, (la + 2) & c->la_mask, bsz);
		if (bsz == 4 && i->osz == 2)
			base &= 0xffffff;
		t->limit = lim;
		t->base = base;
		break;
	}
	case 4: /* SMSW m16 */
		emu_wr16(c, la, (uint16_t)c->s.cr0);
		break;
	case 6: { /* LMSW: PE can be set but not cleared */
		if (c->cpl)
			emu_gp0(c);
		uint64_t v = emu_rd16(c, la) & 0xf;
		emu_write_cr(c, 0, (c->s.cr0 & ~0xeULL) | v | (c->s.cr0 & 1));
		break;
	}
	case 7: /* INVLPG */
		if (c->cpl)
			emu_gp0(c);
		emu_tlb_flush_page(c, la);
		break;
	default:
		emu_ud(c);
	}
	c->rip += i->end;
	return 1;
}

static int op_grp7_reg(struct emu_cpu *c, struct emu_insn *i)
{
	switch (i->modrm) {
	case 0xf8: /* SWAPGS */
		if (c->cpl)
			emu_gp0(c);
		{
			uint64_t t = c->s.seg[X86_GS].base;
			c->s.seg[X86_GS].base = c->s.msr.kernel_gs_base;
			c->s.msr.kernel_gs_base = t;
			emu_update_mode(c);
		}
		break;
	case 0xf9: { /* RDTSCP */
		if ((c->s.cr4 & (1u << 2)) && c->cpl)
			emu_gp0(c);
		uint64_t t = emu_tsc(c);
		c->s.gpr[X86_RAX] = (uint32_t)t;
		c->s.gpr[X86_RDX] = t >> 32;
		c->s.gpr[X86_RCX] = (uint32_t)c->s.msr.tsc_aux;
		break;
	}
	default:
		if (i->ext == 4) { /* SMSW r */
			emu_setreg(c, i->rm, i->osz, c->s.cr0 & (i->osz == 2 ? 0xffff : ~0ULL));
			break;
		}
		if (i->ext == 6) { /* LMSW r */
			if (c->cpl)
				emu_gp0(c);
			uint64_t v = c->s.gpr[i->rm] & 0xf;
			emu_write_cr(c, 0, (c->s.cr0 & ~0xeULL) | v | (c->s.cr0 & 1));
			break;
		}
		emu_ud(c);
	}
	c->rip += i->end;
	return 1;
}

static int op_grp6(struct emu_cpu *c, struct emu_insn *i) /* 0F 00 */
{
	if (!(c->s.cr0 & EMU_CR0_PE))
		emu_ud(c);
	switch (i->ext) {
	case 0: /* SLDT */
	case 1: /* STR */
		if (i->mem)
			i->osz = 2;
		emu_wr_rm(c, i, c->s.seg[i->ext == 0 ? X86_LDTR : X86_TR].selector);
		break;
	case 2:
	case 3: {
		if (c->cpl)
			emu_gp0(c);
		i->osz = 2;
		uint16_t sel = (uint16_t)emu_rd_rm(c, i);
		emu_load_sys_seg(c, i->ext == 2 ? X86_LDTR : X86_TR, sel);
		break;
	}
	case 4:
	case 5:
		i->osz = 2;
		emu_verr_verw(c, (uint16_t)emu_rd_rm(c, i), i->ext == 5);
		return 0;
	default:
		emu_ud(c);
	}
	c->rip += i->end;
	return 1;
}

/* ---- MSRs, CPUID, TSC ---- */
static int op_wrmsr(struct emu_cpu *c, struct emu_insn *i)
{
	if (c->cpl)
		emu_gp0(c);
	uint64_t v = (uint32_t)c->s.gpr[X86_RAX] | c->s.gpr[X86_RDX] << 32;
	if (emu_msr_write(c, (uint32_t)c->s.gpr[X86_RCX], v) < 0)
		emu_gp0(c);
	c->rip += i->end;
	return 1;
}
static int op_rdmsr(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	if (c->cpl)
		emu_gp0(c);
	uint64_t v;
	if (emu_msr_read(c, (uint32_t)c->s.gpr[X86_RCX], &v) < 0)
		emu_gp0(c);
	c->s.gpr[X86_RAX] = (uint32_t)v;
	c->s.gpr[X86_RDX] = v >> 32;
	return 0;
}
static int op_rdtsc(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	if ((c->s.cr4 & (1u << 2)) && c->cpl)
		emu_gp0(c);
	uint64_t t = emu_tsc(c);
	c->s.gpr[X86_RAX] = (uint32_t)t;
	c->s.gpr[X86_RDX] = t >> 32;
	return 0;
}
/* RDPMC: no performance counters are offered, so every counter index is
 * invalid: #GP(0) */
static int op_rdpmc(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	emu_gp0(c);
}

static int op_cpuid(struct emu_cpu *c, struct emu_insn *i)
{
	(void)i;
	uint32_t leaf = (uint32_t)c->s.gpr[X86_RAX], sub = (uint32_t)c->s.gpr[X86_RCX];
	uint32_t r[4] = {0, 0, 0, 0};
	for (size_t k = 0; k < c->ncpuid; k++) {
		const struct cpuid_entry *e = &c->cpuid[k];
		if (e->function != leaf || ((e->flags & 1) && e->index != sub))
			continue;
		r[0] = e->eax;
		r[1] = e->ebx;
		r[2] = e->ecx;
		r[3] = e->edx;
		break;
	}
	c->s.gpr[X86_RAX] = r[0];
	c->s.gpr[X86_RBX] = r[1];
	c->s.gpr[X86_RCX] = r[2];
	c->s.gpr[X86_RDX] = r[3];
	return 0;
}

/* ---- segment registers ---- */
static int op_mov_from_sreg(struct emu_cpu *c, struct emu_insn *i) /* 8C */
{
	if (i->ext > 5)
		emu_ud(c);
	uint16_t sel = c->s.seg[i->ext].selector;
	if (i->mem)
		emu_wr16(c, emu_ea(c, i), sel);
	else
		emu_setreg(c, i->rm, i->osz == 2 ? 2 : (i->osz == 8 ? 8 : 4), sel);
	return 0;
}
static int op_mov_to_sreg(struct emu_cpu *c, struct emu_insn *i) /* 8E */
{
	if (i->ext == X86_CS || i->ext > 5)
		emu_ud(c);
	uint16_t sel = i->mem ? emu_rd16(c, emu_ea(c, i)) : (uint16_t)c->s.gpr[i->rm];
	emu_load_seg(c, i->ext, sel);
	if (i->ext == X86_SS)
		c->s.ev.interrupt_shadow = 2;
	c->rip += i->end;
	return 1;
}
static unsigned sreg_of(const struct emu_insn *i)
{
	if (i->map == 1)
		return (i->op & 8) ? X86_GS : X86_FS;
	return (i->op >> 3) & 3;
}
static int op_push_sreg(struct emu_cpu *c, struct emu_insn *i)
{
	emu_push(c, i->osz, c->s.seg[sreg_of(i)].selector);
	return 0;
}
static int op_pop_sreg(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned s = sreg_of(i);
	uint16_t sel = (uint16_t)emu_peek(c, i->osz, 0);
	emu_load_seg(c, s, sel);
	emu_set_sp(c, c->s.gpr[X86_RSP] + i->osz);
	if (s == X86_SS)
		c->s.ev.interrupt_shadow = 2;
	c->rip += i->end;
	return 1;
}
static int op_lxs(struct emu_cpu *c, struct emu_insn *i) /* C4 C5 0F B2 B4 B5 */
{
	unsigned s;
	if (i->map == 0)
		s = i->op == 0xc4 ? X86_ES : X86_DS;
	else
		s = i->op == 0xb2 ? X86_SS : i->op == 0xb4 ? X86_FS : X86_GS;
	uint64_t la = emu_ea(c, i);
	uint64_t off = emu_rd(c, la, i->osz);
	uint16_t sel = emu_rd16(c, (la + i->osz) & c->la_mask);
	emu_load_seg(c, s, sel);
	emu_setreg(c, i->reg, i->osz, off);
	c->rip += i->end;
	return 1;
}

static emu_fn pick_0f(struct emu_insn *i)
{
	switch (i->op) {
	case 0x00:
		return op_grp6;
	case 0x01:
		return i->mem ? op_grp7_mem : op_grp7_reg;
	case 0x02:
	case 0x03:
		return emu_lar_lsl_handler();
	case 0x05:
		return emu_syscall_handler(0x05);
	case 0x07:
		return emu_syscall_handler(0x07);
	case 0x34:
		return emu_syscall_handler(0x34);
	case 0x35:
		return emu_syscall_handler(0x35);
	case 0x06:
		return op_clts;
	case 0x08:
	case 0x09:
		return op_wbinvd;
	case 0x20:
	case 0x22:
		return op_mov_cr;
	case 0x21:
	case 0x23:
		return op_mov_dr;
	case 0x30:
		return op_wrmsr;
	case 0x31:
		return op_rdtsc;
	case 0x32:
		return op_rdmsr;
	case 0x33:
		return op_rdpmc;
	case 0xa2:
		return op_cpuid;
	case 0xa0:
	case 0xa8:
		return op_push_sreg;
	case 0xa1:
	case 0xa9:
		return op_pop_sreg;
	case 0xb2:
	case 0xb4:
	case 0xb5:
		return i->mem ? op_lxs : NULL;
	case 0xae:
		if (i->mem)
			return i->ext == 7 ? op_fence : NULL;
		return i->ext >= 5 ? op_fence : NULL;
	}
	return NULL;
}

emu_fn emu_sys_pick(struct emu_insn *i)
{
	if (i->pfx & EMU_PFX_LOCK)
		return NULL;
	if (i->map == 1)
		return pick_0f(i);
	if (i->map != 0)
		return NULL;
	switch (i->op) {
	case 0xe4 ... 0xe7:
	case 0xec ... 0xef:
		return op_io;
	case 0xfa:
		return op_cli;
	case 0xfb:
		return op_sti;
	case 0x9c:
		return op_pushf;
	case 0x9d:
		return op_popf;
	case 0x8c:
		return op_mov_from_sreg;
	case 0x8e:
		return op_mov_to_sreg;
	case 0x06:
	case 0x0e:
	case 0x16:
	case 0x1e:
		return op_push_sreg;
	case 0x07:
	case 0x17:
	case 0x1f:
		return op_pop_sreg;
	case 0xc4:
	case 0xc5:
		return i->mem ? op_lxs : NULL;
	}
	return NULL;
}
