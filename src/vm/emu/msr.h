/* SPDX-License-Identifier: Apache-2.0 */
/* MSRs and control-register writes of the software CPU. */
#ifndef CAPSA_VM_EMU_MSR_H
#define CAPSA_VM_EMU_MSR_H

#include "vm/emu/internal.h"

#define EMU_MSR_TSC       0x10u
#define EMU_MSR_APIC_BASE 0x1bu
#define EMU_MSR_SPEC_CTRL 0x48u
#define EMU_MSR_MTRRCAP   0xfeu
#define EMU_MSR_ARCH_CAP  0x10au
/* RDCL_NO, SKIP_L1DFL_VMENTRY, SSB_NO, MDS_NO, PSCHANGE_MC_NO, TAA_NO,
 * SBDR_SSDP_NO, FBSDP_NO, PSDP_NO: an interpreter has no speculative
 * side channels */
#define EMU_ARCH_CAP_VALUE   0xe179u
#define EMU_MSR_SYSENTER_CS  0x174u
#define EMU_MSR_SYSENTER_ESP 0x175u
#define EMU_MSR_SYSENTER_EIP 0x176u
#define EMU_MSR_MISC_ENABLE  0x1a0u
#define EMU_MSR_PAT          0x277u
#define EMU_MSR_MTRR_DEF     0x2ffu
#define EMU_MSR_EFER         0xc0000080u
#define EMU_MSR_STAR         0xc0000081u
#define EMU_MSR_LSTAR        0xc0000082u
#define EMU_MSR_CSTAR        0xc0000083u
#define EMU_MSR_SFMASK       0xc0000084u
#define EMU_MSR_FS_BASE      0xc0000100u
#define EMU_MSR_GS_BASE      0xc0000101u
#define EMU_MSR_KERNEL_GS    0xc0000102u
#define EMU_MSR_TSC_AUX      0xc0000103u

/* 0, or -1 for #GP(0). */
int emu_msr_read(struct emu_cpu *c, uint32_t idx, uint64_t *v);
int emu_msr_write(struct emu_cpu *c, uint32_t idx, uint64_t v);
/* MOV to CR0/2/3/4/8 with the architectural checks; -1 for #GP(0). Flushes
 * the TLB and updates the mode as needed. */
int emu_write_cr(struct emu_cpu *c, unsigned cr, uint64_t v);

#endif
