/* SPDX-License-Identifier: Apache-2.0 */
/* Segmentation: descriptor loads with their checks, far JMP/CALL/RET and
 * IRET across privilege levels (incl. returns to compatibility mode and
 * real mode), LLDT/LTR, LAR/LSL, and the derived mode (CPL, code size,
 * effective segment bases). Call gates and task switches are not
 * implemented (#GP). */
#include "vm/emu/ops.h"

#define SEL_RPL(s) ((unsigned)(s)&3u)

/* Read the 8-byte descriptor for sel; raises vec(sel) if outside the table. */
static uint64_t read_desc(struct emu_cpu *c, uint16_t sel, int vec, uint64_t *addr)
{
	uint64_t base, limit;
	if (sel & 4) {
		const struct x86_segment *l = &c->s.seg[X86_LDTR];
		if (l->unusable || !l->present)
			emu_raise(c, vec, EMU_ERR, sel & 0xfffc);
		base = l->base;
		limit = l->limit;
	} else {
		base = c->s.gdt.base;
		limit = c->s.gdt.limit;
	}
	if ((uint64_t)(sel & ~7u) + 7 > limit)
		emu_raise(c, vec, EMU_ERR, sel & 0xfffc);
	uint64_t d;
	*addr = base + (sel & ~7u);
	emu_rd_sys(c, *addr, &d, 8);
	return d;
}

void emu_parse_desc(uint64_t d, uint16_t sel, struct x86_segment *s)
{
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	s->base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
	s->g = (d >> 55) & 1;
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->selector = sel;
	s->type = (d >> 40) & 15;
	s->s = (d >> 44) & 1;
	s->dpl = (d >> 45) & 3;
	s->present = (d >> 47) & 1;
	s->avl = (d >> 52) & 1;
	s->l = (d >> 53) & 1;
	s->db = (d >> 54) & 1;
	s->unusable = 0;
}

static void set_accessed(struct emu_cpu *c, uint64_t d, uint64_t addr)
{
	if (!(d & (1ULL << 40))) {
		uint8_t b = (uint8_t)((d >> 40) | 1);
		emu_wr_sys(c, addr + 5, &b, 1);
	}
}

void emu_update_mode(struct emu_cpu *c)
{
	const struct x86_segment *cs = &c->s.seg[X86_CS];
	c->long_mode = (c->s.efer & EMU_EFER_LMA) != 0;
	if (c->long_mode && cs->l)
		c->code_sz = 8;
	else
		c->code_sz = cs->db ? 4 : 2;
	c->stack_sz = c->code_sz == 8 ? 8 : (c->s.seg[X86_SS].db ? 4 : 2);
	c->cpl = (c->s.cr0 & EMU_CR0_PE) ? c->s.seg[X86_SS].dpl : 0;
	if ((c->s.cr0 & EMU_CR0_PE) && !c->long_mode && (c->s.rflags & EMU_F_VM))
		c->cpl = 3;
	c->la_mask = c->code_sz == 8 ? ~0ULL : 0xffffffffULL;
	for (int k = 0; k < 6; k++)
		c->segbase[k] = (c->code_sz == 8 && k < X86_FS) ? 0 : c->s.seg[k].base;
	c->tlb = c->tlbs[c->cpl == 3];
}

static void real_seg(struct emu_cpu *c, unsigned sreg, uint16_t sel)
{
	struct x86_segment *s = &c->s.seg[sreg];
	s->selector = sel;
	s->base = (uint64_t)sel << 4;
	s->present = 1;
	s->unusable = 0;
	if (sreg == X86_CS) { /* a far transfer in real mode: 16-bit code, CPL 0 */
		s->type = 0xb;
		s->s = 1;
		s->dpl = 0;
		s->l = 0;
	}
}

void emu_load_seg_real(struct emu_cpu *c, unsigned sreg, uint16_t sel)
{
	real_seg(c, sreg, sel);
	emu_update_mode(c);
}

void emu_load_seg(struct emu_cpu *c, unsigned sreg, uint16_t sel)
{
	if (!(c->s.cr0 & EMU_CR0_PE)) {
		emu_load_seg_real(c, sreg, sel);
		return;
	}
	struct x86_segment *s = &c->s.seg[sreg];
	unsigned cpl = c->cpl, rpl = SEL_RPL(sel);
	if ((sel & ~3u) == 0) {
		if (sreg == X86_SS && !(c->code_sz == 8 && cpl < 3 && rpl == cpl))
			emu_gp0(c);
		*s = (struct x86_segment){
		    .selector = sel, .unusable = 1, .dpl = (uint8_t)(sreg == X86_SS ? cpl : 0)};
		if (sreg == X86_SS)
			s->db = 1;
		emu_update_mode(c);
		return;
	}
	uint64_t addr, d = read_desc(c, sel, EMU_GP, &addr);
	struct x86_segment n;
	emu_parse_desc(d, sel, &n);
	if (sreg == X86_SS) {
		if (rpl != cpl || !n.s || (n.type & 8) || !(n.type & 2) || n.dpl != cpl)
			emu_raise(c, EMU_GP, EMU_ERR, sel & 0xfffc);
		if (!n.present)
			emu_raise(c, EMU_SS, EMU_ERR, sel & 0xfffc);
	} else {
		/* data, or readable code; DPL >= max(CPL, RPL) unless conforming code */
		if (!n.s || ((n.type & 8) && !(n.type & 2)))
			emu_raise(c, EMU_GP, EMU_ERR, sel & 0xfffc);
		int conforming = (n.type & 0xc) == 0xc;
		if (!conforming && (n.dpl < cpl || n.dpl < rpl))
			emu_raise(c, EMU_GP, EMU_ERR, sel & 0xfffc);
		if (!n.present)
			emu_raise(c, EMU_NP, EMU_ERR, sel & 0xfffc);
	}
	set_accessed(c, d, addr);
	n.type |= 1;
	if (sreg >= X86_FS && c->code_sz == 8)
		n.base = (uint32_t)n.base;
	*s = n;
	emu_update_mode(c);
}

/* Checks for a code segment reached by a far JMP/CALL/RET or IRET; returns
 * the descriptor parsed. `ret`: a return to `rpl` (may be outer). */
static void load_code_desc(struct emu_cpu *c, uint16_t sel, unsigned new_cpl, int ret,
                           struct x86_segment *n)
{
	if ((sel & ~3u) == 0)
		emu_gp0(c);
	uint64_t addr, d = read_desc(c, sel, EMU_GP, &addr);
	emu_parse_desc(d, sel, n);
	unsigned rpl = SEL_RPL(sel);
	if (!n->s || !(n->type & 8))
		emu_raise(c, EMU_GP, EMU_ERR, sel & 0xfffc); /* call gates: not implemented */
	int conforming = (n->type & 4) != 0;
	if (ret) {
		if (rpl < c->cpl || (conforming ? n->dpl > rpl : n->dpl != rpl))
			emu_raise(c, EMU_GP, EMU_ERR, sel & 0xfffc);
	} else if (conforming ? n->dpl > c->cpl : (rpl > c->cpl || n->dpl != c->cpl)) {
		emu_raise(c, EMU_GP, EMU_ERR, sel & 0xfffc);
	}
	if (!n->present)
		emu_raise(c, EMU_NP, EMU_ERR, sel & 0xfffc);
	if (c->long_mode && n->l && n->db)
		emu_raise(c, EMU_GP, EMU_ERR, sel & 0xfffc);
	set_accessed(c, d, addr);
	n->type |= 1;
	n->selector = (uint16_t)((sel & ~3u) | new_cpl);
	n->dpl = conforming ? n->dpl : (uint8_t)new_cpl;
}

static void set_cs(struct emu_cpu *c, const struct x86_segment *n, unsigned cpl, uint64_t rip)
{
	c->s.seg[X86_CS] = *n;
	c->s.seg[X86_CS].dpl = (uint8_t)cpl;
	c->s.seg[X86_SS].dpl = (uint8_t)cpl;
	emu_update_mode(c);
	c->rip = c->code_sz == 8 ? rip : (uint32_t)rip;
}

void emu_far_jmp(struct emu_cpu *c, uint16_t sel, uint64_t off)
{
	if (!(c->s.cr0 & EMU_CR0_PE)) {
		real_seg(c, X86_CS, sel);
		emu_update_mode(c);
		c->rip = (uint32_t)off;
		return;
	}
	struct x86_segment n;
	load_code_desc(c, sel, c->cpl, 0, &n);
	set_cs(c, &n, c->cpl, off);
}

void emu_far_call(struct emu_cpu *c, uint16_t sel, uint64_t off, unsigned osz, uint64_t ret)
{
	uint16_t old_cs = c->s.seg[X86_CS].selector;
	if (!(c->s.cr0 & EMU_CR0_PE)) {
		emu_push(c, osz, old_cs);
		emu_push(c, osz, ret);
		real_seg(c, X86_CS, sel);
		emu_update_mode(c);
		c->rip = (uint32_t)off;
		return;
	}
	struct x86_segment n;
	load_code_desc(c, sel, c->cpl, 0, &n);
	uint64_t sp = c->s.gpr[X86_RSP];
	emu_push(c, osz, old_cs);
	emu_push(c, osz, ret);
	(void)sp;
	set_cs(c, &n, c->cpl, off);
}

/* Null data segment registers the new (outer) privilege level may not use. */
static void null_outer_segs(struct emu_cpu *c)
{
	static const unsigned regs[] = {X86_ES, X86_DS, X86_FS, X86_GS};
	for (unsigned k = 0; k < 4; k++) {
		struct x86_segment *s = &c->s.seg[regs[k]];
		int conforming_code = (s->type & 0xc) == 0xc;
		if (!s->unusable && s->s && !conforming_code && s->dpl < c->cpl) {
			s->selector = 0;
			s->unusable = 1;
			if (regs[k] < X86_FS || c->code_sz != 8)
				s->base = 0;
		}
	}
	emu_update_mode(c);
}

/* Load SS:RSP for a return to an outer level (CPL already the new one). */
static void load_outer_stack(struct emu_cpu *c, uint16_t ss, uint64_t sp, unsigned osz)
{
	emu_load_seg(c, X86_SS, ss);
	if (osz == 8 || c->long_mode)
		c->s.gpr[X86_RSP] = osz == 8 ? sp : (uint32_t)sp;
	else
		emu_set_sp(c, sp);
}

void emu_far_ret(struct emu_cpu *c, unsigned osz, unsigned pop)
{
	uint64_t off = emu_peek(c, osz, 0);
	uint16_t sel = (uint16_t)emu_peek(c, osz, osz);
	if (!(c->s.cr0 & EMU_CR0_PE)) {
		emu_set_sp(c, c->s.gpr[X86_RSP] + 2 * osz + pop);
		real_seg(c, X86_CS, sel);
		emu_update_mode(c);
		c->rip = (uint32_t)off;
		return;
	}
	unsigned rpl = SEL_RPL(sel);
	struct x86_segment n;
	load_code_desc(c, sel, rpl, 1, &n);
	if (rpl == c->cpl) {
		emu_set_sp(c, c->s.gpr[X86_RSP] + 2 * osz + pop);
		set_cs(c, &n, rpl, off);
		return;
	}
	uint64_t sp = emu_peek(c, osz, 2 * osz + pop);
	uint16_t ss = (uint16_t)emu_peek(c, osz, 3 * osz + pop);
	set_cs(c, &n, rpl, off);
	load_outer_stack(c, ss, sp + pop, osz);
	null_outer_segs(c);
}

static void iret_real(struct emu_cpu *c, unsigned osz)
{
	uint64_t ip = emu_peek(c, osz, 0);
	uint16_t cs = (uint16_t)emu_peek(c, osz, osz);
	uint64_t fl = emu_peek(c, osz, 2 * osz);
	emu_set_sp(c, c->s.gpr[X86_RSP] + 3 * osz);
	real_seg(c, X86_CS, cs);
	uint64_t keep = osz == 2 ? ~0xffffULL : (EMU_F_VM | EMU_F_VIF | EMU_F_VIP);
	emu_set_flags(c, (emu_flags(c) & keep) | (fl & ~keep));
	emu_update_mode(c);
	c->rip = osz == 2 ? (uint16_t)ip : (uint32_t)ip;
}

void emu_iret(struct emu_cpu *c, unsigned osz)
{
	c->s.ev.nmi_masked = 0;
	if (!(c->s.cr0 & EMU_CR0_PE)) {
		iret_real(c, osz);
		return;
	}
	if (emu_flags(c) & EMU_F_NT)
		emu_internal(c, "IRET with NT set (task switch) is not implemented");
	uint64_t ip = emu_peek(c, osz, 0);
	uint16_t cs = (uint16_t)emu_peek(c, osz, osz);
	uint64_t fl = emu_peek(c, osz, 2 * osz);
	if (!c->long_mode && (fl & EMU_F_VM) && c->cpl == 0)
		emu_internal(c, "IRET to virtual-8086 mode is not implemented");
	unsigned rpl = SEL_RPL(cs), old_cpl = c->cpl;
	struct x86_segment n;
	load_code_desc(c, cs, rpl, 1, &n);
	int outer = rpl != old_cpl || c->code_sz == 8;
	uint64_t sp = 0;
	uint16_t ss = 0;
	if (outer) {
		sp = emu_peek(c, osz, 3 * osz);
		ss = (uint16_t)emu_peek(c, osz, 4 * osz);
	}
	/* flags with the old CPL's privileges */
	uint64_t f = emu_flags(c);
	uint64_t chg = EMU_F_ARITH | EMU_F_TF | EMU_F_DF | EMU_F_NT | EMU_F_AC | EMU_F_ID |
	               EMU_F_RF | EMU_F_VIF | EMU_F_VIP;
	if (old_cpl == 0)
		chg |= EMU_F_IOPL;
	if (old_cpl <= ((f >> 12) & 3))
		chg |= EMU_F_IF;
	if (osz == 2)
		chg &= 0xffff;
	if (!outer)
		emu_set_sp(c, c->s.gpr[X86_RSP] + 3 * osz);
	emu_set_flags(c, (f & ~chg) | (fl & chg));
	set_cs(c, &n, rpl, osz == 2 ? (uint16_t)ip : ip);
	if (outer) {
		load_outer_stack(c, ss, sp, osz);
		if (rpl > old_cpl)
			null_outer_segs(c);
	}
}

void emu_load_sys_seg(struct emu_cpu *c, unsigned sreg, uint16_t sel)
{
	struct x86_segment *s = &c->s.seg[sreg];
	if ((sel & ~3u) == 0) {
		if (sreg == X86_TR)
			emu_gp0(c);
		*s = (struct x86_segment){.selector = sel, .unusable = 1};
		return;
	}
	if (sel & 4)
		emu_raise(c, EMU_GP, EMU_ERR, sel & 0xfffc);
	uint64_t addr, d = read_desc(c, sel, EMU_GP, &addr), hi = 0;
	struct x86_segment n;
	emu_parse_desc(d, sel, &n);
	if (n.s || (sreg == X86_LDTR ? n.type != 2 : (n.type != 9 && n.type != 1)))
		emu_raise(c, EMU_GP, EMU_ERR, sel & 0xfffc);
	if (!n.present)
		emu_raise(c, EMU_NP, EMU_ERR, sel & 0xfffc);
	if (c->long_mode) {
		emu_rd_sys(c, addr + 8, &hi, 8);
		n.base |= hi << 32;
	}
	if (sreg == X86_TR) { /* mark busy */
		uint8_t b = (uint8_t)((d >> 40) | 2);
		emu_wr_sys(c, addr + 5, &b, 1);
		n.type |= 2;
	}
	*s = n;
}

/* LAR / LSL (0F 02 / 0F 03) */
static int op_lar_lsl(struct emu_cpu *c, struct emu_insn *i)
{
	uint16_t sel = (uint16_t)(i->mem ? emu_rd16(c, emu_ea(c, i)) : c->s.gpr[i->rm]);
	int ok = 0;
	uint64_t d = 0, addr;
	if (!(c->s.cr0 & EMU_CR0_PE))
		emu_ud(c);
	uint64_t tl = (sel & 4) ? c->s.seg[X86_LDTR].limit : c->s.gdt.limit;
	if ((sel & ~3u) && (uint64_t)(sel & ~7u) + 7 <= tl) {
		d = read_desc(c, sel, EMU_GP, &addr);
		struct x86_segment n;
		emu_parse_desc(d, sel, &n);
		int conforming = n.s && (n.type & 0xc) == 0xc;
		if (n.s)
			ok = conforming || (n.dpl >= c->cpl && n.dpl >= SEL_RPL(sel));
		else
			ok = (n.type == 1 || n.type == 2 || n.type == 3 || n.type == 9 ||
			      n.type == 0xb) &&
			     n.dpl >= c->cpl && n.dpl >= SEL_RPL(sel);
		if (ok) {
			if (i->op == 0x03)
				emu_setreg(c, i->reg, i->osz == 2 ? 2 : 4, n.limit);
			else
				emu_setreg(c, i->reg, i->osz == 2 ? 2 : 4, (d >> 32) & 0x00f0ff00);
		}
	}
	emu_flags_materialize(c);
	c->s.rflags = (c->s.rflags & ~(uint64_t)EMU_F_ZF) | (ok ? EMU_F_ZF : 0);
	return 0;
}

/* VERR / VERW (0F 00 /4 /5): ZF = the segment is readable / writable at
 * the current privilege */
void emu_verr_verw(struct emu_cpu *c, uint16_t sel, int write)
{
	int ok = 0;
	uint64_t tl = (sel & 4) ? c->s.seg[X86_LDTR].limit : c->s.gdt.limit, addr;
	if ((sel & ~3u) && (uint64_t)(sel & ~7u) + 7 <= tl) {
		struct x86_segment n;
		emu_parse_desc(read_desc(c, sel, EMU_GP, &addr), sel, &n);
		int code = (n.type & 8) != 0, conforming = code && (n.type & 4);
		ok = n.s && (conforming || (n.dpl >= c->cpl && n.dpl >= SEL_RPL(sel)));
		if (write)
			ok = ok && !code && (n.type & 2);
		else
			ok = ok && (!code || (n.type & 2));
	}
	emu_flags_materialize(c);
	c->s.rflags = (c->s.rflags & ~(uint64_t)EMU_F_ZF) | (ok ? EMU_F_ZF : 0);
}

emu_fn emu_lar_lsl_handler(void)
{
	return op_lar_lsl;
}
