/* SPDX-License-Identifier: Apache-2.0 */
/* RDMSR/WRMSR for the MSRs the CPU keeps itself, and the checked writes of
 * CR0/CR3/CR4/CR8 (these decide the paging mode, so they flush the TLB and
 * recompute the derived mode). */
#include "vm/emu/msr.h"

#define CR4_ALLOWED 0x7ffULL /* VME..OSXMMEXCPT */

static int canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

static uint64_t *mtrr_slot(struct emu_cpu *c, uint32_t idx)
{
	if (idx >= 0x200 && idx < 0x210)
		return &c->mtrr[idx - 0x200];
	switch (idx) {
	case 0x250:
		return &c->mtrr[16];
	case 0x258:
		return &c->mtrr[17];
	case 0x259:
		return &c->mtrr[18];
	case 0x2ff:
		return &c->mtrr[19];
	}
	if (idx >= 0x268 && idx < 0x270)
		return &c->mtrr[20 + idx - 0x268];
	return NULL;
}

int emu_msr_read(struct emu_cpu *c, uint32_t idx, uint64_t *v)
{
	struct x86_msrs *m = &c->s.msr;
	uint64_t *slot;
	switch (idx) {
	case EMU_MSR_TSC:
		*v = emu_tsc(c);
		return 0;
	case EMU_MSR_APIC_BASE:
		*v = m->apic_base;
		return 0;
	case EMU_MSR_SYSENTER_CS:
		*v = m->sysenter_cs;
		return 0;
	case EMU_MSR_SYSENTER_ESP:
		*v = m->sysenter_esp;
		return 0;
	case EMU_MSR_SYSENTER_EIP:
		*v = m->sysenter_eip;
		return 0;
	case EMU_MSR_MISC_ENABLE:
		*v = m->misc_enable;
		return 0;
	case EMU_MSR_PAT:
		*v = m->pat;
		return 0;
	case EMU_MSR_MTRRCAP:
		*v = 0x508; /* 8 variable ranges, fixed ranges, write-combining */
		return 0;
	case EMU_MSR_ARCH_CAP:
		*v = EMU_ARCH_CAP_VALUE;
		return 0;
	case EMU_MSR_EFER:
		*v = c->s.efer;
		return 0;
	case EMU_MSR_STAR:
		*v = m->star;
		return 0;
	case EMU_MSR_LSTAR:
		*v = m->lstar;
		return 0;
	case EMU_MSR_CSTAR:
		*v = m->cstar;
		return 0;
	case EMU_MSR_SFMASK:
		*v = m->sfmask;
		return 0;
	case EMU_MSR_FS_BASE:
		*v = c->s.seg[X86_FS].base;
		return 0;
	case EMU_MSR_GS_BASE:
		*v = c->s.seg[X86_GS].base;
		return 0;
	case EMU_MSR_KERNEL_GS:
		*v = m->kernel_gs_base;
		return 0;
	case EMU_MSR_TSC_AUX:
		*v = m->tsc_aux;
		return 0;
	case 0x8b: /* microcode revision */
	case 0x17: /* platform ID */
		*v = 0;
		return 0;
	}
	if ((slot = mtrr_slot(c, idx))) {
		*v = *slot;
		return 0;
	}
	if (c->bus.msr && c->bus.msr(c->bus.ctx, idx, v, 0) == 0)
		return 0;
	return -1;
}

static int write_efer(struct emu_cpu *c, uint64_t v)
{
	const uint64_t ok = EMU_EFER_SCE | EMU_EFER_LME | EMU_EFER_LMA | EMU_EFER_NXE;
	if (v & ~ok)
		return -1;
	if ((c->s.cr0 & EMU_CR0_PG) && ((v ^ c->s.efer) & EMU_EFER_LME))
		return -1;
	v = (v & ~EMU_EFER_LMA) | (c->s.efer & EMU_EFER_LMA); /* LMA is read-only */
	if ((v ^ c->s.efer) & EMU_EFER_NXE)
		emu_tlb_flush(c, 0);
	c->s.efer = v;
	return 0;
}

int emu_msr_write(struct emu_cpu *c, uint32_t idx, uint64_t v)
{
	struct x86_msrs *m = &c->s.msr;
	uint64_t *slot;
	switch (idx) {
	case EMU_MSR_TSC:
		c->tsc_offset = v - x86_clock_tsc(c->clock);
		return 0;
	case EMU_MSR_APIC_BASE:
		m->apic_base = (v & ~0x1ffULL) | (m->apic_base & 0x100); /* BSP bit is read-only */
		return 0;
	case EMU_MSR_SYSENTER_CS:
		m->sysenter_cs = v & 0xffff;
		return 0;
	case EMU_MSR_SYSENTER_ESP:
		m->sysenter_esp = v;
		return canonical(v) ? 0 : -1;
	case EMU_MSR_SYSENTER_EIP:
		m->sysenter_eip = v;
		return canonical(v) ? 0 : -1;
	case EMU_MSR_MISC_ENABLE:
		m->misc_enable = v;
		return 0;
	case EMU_MSR_PAT:
		for (int k = 0; k < 8; k++) {
			unsigned t = (v >> (8 * k)) & 0xff;
			if (t == 2 || t == 3 || t > 7)
				return -1;
		}
		m->pat = v;
		return 0;
	case EMU_MSR_EFER:
		return write_efer(c, v);
	case EMU_MSR_STAR:
		m->star = v;
		return 0;
	case EMU_MSR_LSTAR:
	case EMU_MSR_CSTAR:
		if (!canonical(v))
			return -1;
		*(idx == EMU_MSR_LSTAR ? &m->lstar : &m->cstar) = v;
		return 0;
	case EMU_MSR_SFMASK:
		m->sfmask = v & 0xffffffff;
		return 0;
	case EMU_MSR_FS_BASE:
	case EMU_MSR_GS_BASE:
		if (!canonical(v))
			return -1;
		c->s.seg[idx == EMU_MSR_FS_BASE ? X86_FS : X86_GS].base = v;
		emu_update_mode(c);
		return 0;
	case EMU_MSR_KERNEL_GS:
		if (!canonical(v))
			return -1;
		m->kernel_gs_base = v;
		return 0;
	case EMU_MSR_TSC_AUX:
		if (v >> 32)
			return -1;
		m->tsc_aux = v;
		return 0;
	case 0x8b:
	case 0x79: /* microcode update trigger: ignored */
		return 0;
	}
	if ((slot = mtrr_slot(c, idx))) {
		*slot = v;
		return 0;
	}
	if (c->bus.msr && c->bus.msr(c->bus.ctx, idx, &v, 1) == 0)
		return 0;
	return -1;
}

static int write_cr0(struct emu_cpu *c, uint64_t v)
{
	uint64_t old = c->s.cr0;
	if (v >> 32)
		return -1;
	v |= EMU_CR0_ET;
	if ((v & EMU_CR0_PG) && !(v & EMU_CR0_PE))
		return -1;
	if ((v & (1u << 29)) && !(v & (1u << 30))) /* NW without CD */
		return -1;
	if ((v & EMU_CR0_PG) && !(old & EMU_CR0_PG) && (c->s.efer & EMU_EFER_LME)) {
		if (!(c->s.cr4 & EMU_CR4_PAE))
			return -1;
		c->s.efer |= EMU_EFER_LMA;
	}
	if (!(v & EMU_CR0_PG) && (old & EMU_CR0_PG) && (c->s.efer & EMU_EFER_LMA)) {
		if (c->code_sz == 8)
			return -1;
		c->s.efer &= ~EMU_EFER_LMA;
	}
	c->s.cr0 = v;
	if ((old ^ v) & (EMU_CR0_PG | EMU_CR0_WP | EMU_CR0_PE))
		emu_tlb_flush(c, 0);
	emu_update_mode(c);
	return 0;
}

int emu_write_cr(struct emu_cpu *c, unsigned cr, uint64_t v)
{
	switch (cr) {
	case 0:
		return write_cr0(c, v);
	case 2:
		c->s.cr2 = v;
		return 0;
	case 3:
		if (c->long_mode && (v >> 52))
			return -1;
		c->s.cr3 = v;
		emu_tlb_flush(c, 1);
		return 0;
	case 4: {
		if (v & ~CR4_ALLOWED)
			return -1;
		if (c->long_mode && !(v & EMU_CR4_PAE))
			return -1;
		uint64_t chg = v ^ c->s.cr4;
		c->s.cr4 = v;
		if (chg & (EMU_CR4_PGE | EMU_CR4_PAE | EMU_CR4_PSE))
			emu_tlb_flush(c, 0);
		return 0;
	}
	case 8:
		if (v >> 4)
			return -1;
		c->s.cr8 = v;
		return 0;
	}
	return -1;
}
