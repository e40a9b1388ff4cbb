/* SPDX-License-Identifier: Apache-2.0 */
/* Exceptions and interrupts: raising (longjmp back to the run loop),
 * combining a fault during delivery into #DF or a triple fault, and
 * delivery through the real-mode IVT or the protected/long-mode IDT with
 * privilege changes, TSS stacks and IST. */
#include "vm/emu/ops.h"

#include <stdio.h>

static const char *const names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09",
    "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",
};

static const char *vec_name(int v, char buf[16])
{
	if (v >= 0 && v < 32 && names[v])
		return names[v];
	snprintf(buf, 16, "%d", v);
	return buf;
}

_Noreturn void emu_raise(struct emu_cpu *c, int vec, int has_err, uint32_t err)
{
	if (c->delivering < 0 && c->cur)
		c->rip += c->cur->off; /* faults report the instruction itself */
	c->cur = NULL;
	c->exc_vec = vec;
	c->exc_has_err = has_err;
	c->exc_err = err;
	c->exc_trap = 0;
	longjmp(c->jb, 1);
}

_Noreturn void emu_raise_trap(struct emu_cpu *c, int vec, int soft)
{
	c->fault_rip = c->rip + c->cur->off;
	c->rip += c->cur->end;
	c->cur = NULL;
	c->exc_vec = vec;
	c->exc_has_err = 0;
	c->exc_err = 0;
	c->exc_trap = soft ? 2 : 1;
	longjmp(c->jb, 1);
}

_Noreturn void emu_internal(struct emu_cpu *c, const char *msg)
{
	if (c->delivering < 0 && c->cur)
		c->rip += c->cur->off;
	c->cur = NULL;
	c->exc_vec = -1;
	snprintf(c->exit_msg, sizeof(c->exit_msg), "%s (rip 0x%llx)", msg,
	         (unsigned long long)c->rip);
	longjmp(c->jb, 1);
}

static int contributory(int v)
{
	return v == EMU_DE || (v >= EMU_TS && v <= EMU_GP);
}

void emu_exception(struct emu_cpu *c)
{
	int vec = c->exc_vec, has_err = c->exc_has_err;
	uint32_t err = c->exc_err;
	char b1[16], b2[16];
	if (vec < 0) {
		c->delivering = -1;
		c->exit_pending = 1;
		c->exit_reason = EMU_EXIT_INTERNAL;
		return;
	}
	int prev = c->delivering;
	if (prev >= 0) {
		if (prev == EMU_DF) {
			snprintf(
			    c->exit_msg, sizeof(c->exit_msg),
			    "triple fault: %s (error 0x%x) while delivering #DF (first: %.40s) at "
			    "rip 0x%llx",
			    vec_name(vec, b1), err, c->shutdown_msg, (unsigned long long)c->rip);
			c->delivering = -1;
			c->exit_pending = 1;
			c->exit_reason = EMU_EXIT_SHUTDOWN;
			return;
		}
		if ((contributory(prev) && contributory(vec)) ||
		    (prev == EMU_PF && (vec == EMU_PF || contributory(vec)))) {
			snprintf(c->shutdown_msg, sizeof(c->shutdown_msg), "%s then %s",
			         vec_name(prev, b1), vec_name(vec, b2));
			vec = EMU_DF;
			has_err = 1;
			err = 0;
		}
	}
	int soft = c->exc_trap == 2;
	c->exc_trap = 0;
	/* INT n is no exception: a fault while delivering it is taken as is
	 * (0x100 marks it benign for the double-fault rules) */
	c->delivering = soft ? 0x100 | vec : vec;
	emu_deliver(c, vec, has_err, err, soft, 0);
	c->delivering = -1;
}

static void push_sys(struct emu_cpu *c, uint64_t *sp, uint64_t base, uint64_t mask, unsigned sz,
                     uint64_t v)
{
	*sp -= sz;
	emu_wr_sys(c, base + (*sp & mask), &v, sz);
}

static void deliver_real(struct emu_cpu *c, int vec)
{
	uint32_t ent;
	if ((uint64_t)vec * 4 + 3 > c->s.idt.limit)
		emu_raise(c, EMU_GP, EMU_ERR, 0);
	emu_rd_sys(c, c->s.idt.base + (uint64_t)vec * 4, &ent, 4);
	uint64_t sp = c->s.gpr[X86_RSP];
	uint64_t base = c->s.seg[X86_SS].base;
	push_sys(c, &sp, base, 0xffff, 2, emu_flags(c));
	push_sys(c, &sp, base, 0xffff, 2, c->s.seg[X86_CS].selector);
	push_sys(c, &sp, base, 0xffff, 2, c->rip);
	emu_set_sp(c, sp);
	c->s.rflags &= ~(uint64_t)(EMU_F_IF | EMU_F_TF | EMU_F_AC | EMU_F_RF);
	emu_load_seg_real(c, X86_CS, (uint16_t)(ent >> 16));
	c->rip = ent & 0xffff;
}

/* The stack for a privilege change (or IST) from the TSS. */
static uint64_t tss_stack(struct emu_cpu *c, unsigned cpl, unsigned ist, uint16_t *ss)
{
	const struct x86_segment *tr = &c->s.seg[X86_TR];
	if (tr->unusable || !tr->present)
		emu_raise(c, EMU_TS, EMU_ERR, tr->selector & 0xfffc);
	if (c->long_mode) {
		uint64_t off = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * cpl, v;
		if (off + 7 > tr->limit)
			emu_raise(c, EMU_TS, EMU_ERR, tr->selector & 0xfffc);
		emu_rd_sys(c, tr->base + off, &v, 8);
		*ss = (uint16_t)cpl;
		return v;
	}
	uint64_t off = 4 + 8 * cpl;
	if (off + 5 > tr->limit)
		emu_raise(c, EMU_TS, EMU_ERR, tr->selector & 0xfffc);
	uint32_t esp;
	emu_rd_sys(c, tr->base + off, &esp, 4);
	emu_rd_sys(c, tr->base + off + 4, ss, 2);
	return esp;
}

/* Read the gate for vec: returns the target offset, sets sel/type/dpl/ist. */
static uint64_t read_gate(struct emu_cpu *c, int vec, int ext, uint16_t *sel, unsigned *type,
                          unsigned *dpl, unsigned *ist)
{
	unsigned gsz = c->long_mode ? 16 : 8;
	uint32_t gerr = (uint32_t)vec * 8 + 2 + (uint32_t)ext;
	if ((uint64_t)vec * gsz + gsz - 1 > c->s.idt.limit)
		emu_raise(c, EMU_GP, EMU_ERR, gerr);
	uint64_t g[2] = {0, 0};
	emu_rd_sys(c, c->s.idt.base + (uint64_t)vec * gsz, g, gsz);
	*type = (g[0] >> 40) & 15;
	*dpl = (g[0] >> 45) & 3;
	*sel = (uint16_t)(g[0] >> 16);
	*ist = c->long_mode ? (g[0] >> 32) & 7 : 0;
	int ok = c->long_mode ? (*type == 0xe || *type == 0xf)
	                      : (*type == 0xe || *type == 0xf || *type == 6 || *type == 7);
	if (!ok || ((g[0] >> 44) & 1))
		emu_raise(c, EMU_GP, EMU_ERR, gerr); /* task gates are not implemented */
	if (!((g[0] >> 47) & 1))
		emu_raise(c, EMU_NP, EMU_ERR, gerr);
	uint64_t off = (g[0] & 0xffff) | ((g[0] >> 32) & 0xffff0000);
	if (c->long_mode)
		off |= g[1] << 32;
	else if (*type == 6 || *type == 7)
		off &= 0xffff;
	return off;
}

/* The code segment of a gate's selector, checked; sets *new_cpl. */
static struct x86_segment gate_cs(struct emu_cpu *c, uint16_t sel, int ext, unsigned *new_cpl)
{
	uint32_t e = (sel & 0xfffcu) + (uint32_t)ext;
	if ((sel & ~3u) == 0)
		emu_raise(c, EMU_GP, EMU_ERR, (uint32_t)ext);
	uint64_t tl = (sel & 4) ? c->s.seg[X86_LDTR].limit : c->s.gdt.limit;
	uint64_t tb = (sel & 4) ? c->s.seg[X86_LDTR].base : c->s.gdt.base, d;
	if ((uint64_t)(sel & ~7u) + 7 > tl)
		emu_raise(c, EMU_GP, EMU_ERR, e);
	emu_rd_sys(c, tb + (sel & ~7u), &d, 8);
	struct x86_segment cs;
	emu_parse_desc(d, sel, &cs);
	cs.type |= 1;
	if (!cs.s || !(cs.type & 8) || cs.dpl > c->cpl)
		emu_raise(c, EMU_GP, EMU_ERR, e);
	if (!cs.present)
		emu_raise(c, EMU_NP, EMU_ERR, e);
	if (c->long_mode && !cs.l)
		emu_raise(c, EMU_GP, EMU_ERR, e);
	*new_cpl = (cs.type & 4) ? c->cpl : cs.dpl;
	return cs;
}

/* The stack segment for an inner privilege level (or IST); sets *sp. */
static struct x86_segment inner_stack(struct emu_cpu *c, unsigned new_cpl, unsigned ist,
                                      uint64_t *sp)
{
	uint16_t nss;
	*sp = tss_stack(c, new_cpl, ist, &nss);
	if (c->long_mode) {
		if (new_cpl == c->cpl) /* IST without a privilege change keeps SS */
			return c->s.seg[X86_SS];
		return (struct x86_segment){
		    .selector = (uint16_t)new_cpl, .unusable = 1, .dpl = (uint8_t)new_cpl, .db = 1};
	}
	uint64_t sd;
	if ((nss & ~3u) == 0 || (uint64_t)(nss & ~7u) + 7 > c->s.gdt.limit)
		emu_raise(c, EMU_TS, EMU_ERR, nss & 0xfffc);
	emu_rd_sys(c, c->s.gdt.base + (nss & ~7u), &sd, 8);
	struct x86_segment ss;
	emu_parse_desc(sd, nss, &ss);
	ss.type |= 1;
	if (!ss.s || (ss.type & 8) || !(ss.type & 2) || ss.dpl != new_cpl || (nss & 3) != new_cpl)
		emu_raise(c, EMU_TS, EMU_ERR, nss & 0xfffc);
	if (!ss.present)
		emu_raise(c, EMU_SS, EMU_ERR, nss & 0xfffc);
	return ss;
}

void emu_deliver(struct emu_cpu *c, int vec, int has_err, uint32_t err, int soft, int ext)
{
	if (!(c->s.cr0 & EMU_CR0_PE)) {
		deliver_real(c, vec);
		return;
	}
	uint16_t sel;
	unsigned type, dpl, ist, new_cpl;
	uint64_t off = read_gate(c, vec, ext, &sel, &type, &dpl, &ist);
	if (soft && dpl < c->cpl) {
		c->rip = c->fault_rip;
		c->delivering = -1; /* reported for the INT instruction itself */
		emu_raise(c, EMU_GP, EMU_ERR, (uint32_t)vec * 8 + 2);
	}
	struct x86_segment cs = gate_cs(c, sel, ext, &new_cpl);
	unsigned psz = c->long_mode ? 8 : (type & 8) ? 4 : 2;
	uint64_t old_flags = emu_flags(c);
	uint64_t old_sp = c->s.gpr[X86_RSP];
	uint16_t old_ss = c->s.seg[X86_SS].selector, old_cs = c->s.seg[X86_CS].selector;
	struct x86_segment ss = c->s.seg[X86_SS];
	uint64_t sp = old_sp, smask, sbase;
	if (new_cpl < c->cpl || ist)
		ss = inner_stack(c, new_cpl, ist, &sp);
	if (c->long_mode) {
		sp &= ~15ULL;
		smask = ~0ULL;
		sbase = 0;
	} else {
		smask = ss.db ? 0xffffffffULL : 0xffffULL;
		sbase = ss.base;
	}
	if (c->long_mode || new_cpl < c->cpl) {
		push_sys(c, &sp, sbase, smask, psz, old_ss);
		push_sys(c, &sp, sbase, smask, psz, old_sp);
	}
	push_sys(c, &sp, sbase, smask, psz, old_flags);
	push_sys(c, &sp, sbase, smask, psz, old_cs);
	push_sys(c, &sp, sbase, smask, psz, c->rip);
	if (has_err)
		push_sys(c, &sp, sbase, smask, psz, err);
	/* commit */
	c->s.seg[X86_SS] = ss;
	c->s.seg[X86_SS].dpl = (uint8_t)new_cpl;
	cs.selector = (uint16_t)((sel & ~3u) | new_cpl);
	cs.dpl = (uint8_t)new_cpl;
	c->s.seg[X86_CS] = cs;
	uint64_t f = old_flags & ~(uint64_t)(EMU_F_TF | EMU_F_NT | EMU_F_RF | EMU_F_VM);
	if (!(type & 1))
		f &= ~(uint64_t)EMU_F_IF;
	emu_set_flags(c, f);
	emu_update_mode(c);
	if (c->long_mode)
		c->s.gpr[X86_RSP] = sp;
	else
		emu_set_sp(c, sp);
	c->rip = c->code_sz == 8 ? off : (uint32_t)off;
	if (vec == EMU_NMI && ext)
		c->s.ev.nmi_masked = 1;
	c->s.ev.interrupt_shadow = 0;
}
