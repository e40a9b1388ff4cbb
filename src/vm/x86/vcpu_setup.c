/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/x86/vcpu_setup.h"

#include "vm/x86/layout.h"
#include "vm/x86/pagetables.h"

#include <string.h>

#define CR0_PE   0x1ULL
#define CR0_MP   0x2ULL
#define CR0_ET   0x10ULL
#define CR0_NE   0x20ULL
#define CR0_WP   0x10000ULL
#define CR0_PG   0x80000000ULL
#define CR4_PAE  0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

#define GDT_CODE32 0x00cf9b000000ffffULL
#define GDT_CODE64 0x00af9b000000ffffULL
#define GDT_DATA   0x00cf93000000ffffULL
#define GDT_TSS    0x00008b0000000067ULL

size_t x86_vcpu_cpuid(const struct x86_cpu_template *t, unsigned apic_id, struct cpuid_entry *out,
                      size_t cap)
{
	size_t n = t->ncpuid < cap ? t->ncpuid : cap;
	memcpy(out, t->cpuid, n * sizeof(*out));
	return cpuid_customize(out, n, cap, apic_id, t->ncpus, t->edits);
}

void x86_cpu_signature(const struct x86_cpu_template *t, uint32_t *eax, uint32_t *edx)
{
	*eax = *edx = 0;
	for (size_t i = 0; i < t->ncpuid; i++) {
		if (t->cpuid[i].function == 1) {
			struct cpuid_entry c = t->cpuid[i];
			cpuid_customize(&c, 1, 1, 0, t->ncpus, t->edits);
			*eax = c.eax;
			*edx = c.edx;
		}
	}
}

int x86_boot_tables(const struct guest_mem *gm, const struct boot_entry *be, struct err *e)
{
	uint64_t gdt[5] = {0, 0, be->mode == BOOT_PVH ? GDT_CODE32 : GDT_CODE64, GDT_DATA, GDT_TSS};
	if (gm_write(gm, LAYOUT_GDT, gdt, sizeof(gdt)))
		return err_set(e, ERR_INTERNAL, "boot GDT outside guest memory");
	if (be->mode == BOOT_LINUX64 &&
	    pagetables_identity_4g(gm, LAYOUT_PML4, LAYOUT_PDPT, LAYOUT_PD))
		return err_set(e, ERR_INTERNAL, "boot page tables outside guest memory");
	return 0;
}

static struct x86_segment flat(uint16_t sel, uint8_t type, int code64, int s)
{
	return (struct x86_segment){.limit = 0xffffffff,
	                            .selector = sel,
	                            .type = type,
	                            .present = 1,
	                            .db = code64 ? 0 : 1,
	                            .s = (uint8_t)s,
	                            .l = (uint8_t)code64,
	                            .g = 1};
}

void x86_boot_state(struct x86_vcpu_state *s, const struct boot_entry *be)
{
	int lm = be->mode == BOOT_LINUX64;
	s->seg[X86_CS] = flat(BOOT_CS, 0xb, lm, 1);
	struct x86_segment data = flat(BOOT_DS, 0x3, 0, 1);
	s->seg[X86_DS] = s->seg[X86_ES] = s->seg[X86_FS] = s->seg[X86_GS] = s->seg[X86_SS] = data;
	struct x86_segment tr = flat(0x20, 0xb, 0, 0);
	tr.limit = 0x67;
	tr.g = 0;
	tr.db = 0;
	s->seg[X86_TR] = tr;
	s->gdt = (struct x86_dtable){.base = LAYOUT_GDT, .limit = 5 * 8 - 1};
	s->idt = (struct x86_dtable){.base = 0, .limit = 0};
	if (lm) {
		s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
		s->cr3 = LAYOUT_PML4;
		s->cr4 = CR4_PAE;
		s->efer = EFER_LME | EFER_LMA;
	} else {
		s->cr0 = CR0_PE | CR0_ET;
		s->cr3 = 0;
		s->cr4 = 0;
		s->efer = 0;
	}
	memset(s->gpr, 0, sizeof(s->gpr));
	s->rflags = 0x2;
	s->rip = be->rip;
	s->gpr[lm ? X86_RSI : X86_RBX] = be->arg;
	s->ev.run_state = X86_RUNNABLE;
}
