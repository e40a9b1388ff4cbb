#include "vm/x86/vcpu_setup.h"

#include "vm/x86/layout.h"
#include "vm/x86/pagetables.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MSR_IA32_TSC          0x10
#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE  0x1a0
#define MSR_MTRR_DEF_TYPE     0x2ff
#define MSR_STAR              0xc0000081
#define MSR_LSTAR             0xc0000082
#define MSR_CSTAR             0xc0000083
#define MSR_SYSCALL_MASK      0xc0000084
#define MSR_KERNEL_GS_BASE    0xc0000102

#define APIC_LVT0        0x350
#define APIC_LVT1        0x360
#define APIC_MODE_NMI    0x4
#define APIC_MODE_EXTINT 0x7

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

static void fill_cpuid(struct kvm_cpuid2 *c, const struct x86_cpu_template *t, unsigned apic_id)
{
	memcpy(c->entries, t->cpuid, t->ncpuid * sizeof(struct kvm_cpuid_entry2));
	c->nent =
	    (uint32_t)cpuid_customize((struct cpuid_entry *)c->entries, t->ncpuid,
	                              t->ncpuid + CPUID_EXTRA_ENTRIES, apic_id, t->ncpus, t->edits);
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

static int set_msrs(int fd, struct err *e)
{
	static const uint32_t idx[] = {
	    MSR_IA32_SYSENTER_CS,
	    MSR_IA32_SYSENTER_ESP,
	    MSR_IA32_SYSENTER_EIP,
	    MSR_STAR,
	    MSR_LSTAR,
	    MSR_CSTAR,
	    MSR_SYSCALL_MASK,
	    MSR_KERNEL_GS_BASE,
	    MSR_IA32_MISC_ENABLE,
	    MSR_MTRR_DEF_TYPE,
	};
	enum { N = sizeof(idx) / sizeof(idx[0]) };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry ent[N];
	} m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = N;
	for (unsigned i = 0; i < N; i++) {
		m.ent[i].index = idx[i];
		if (idx[i] == MSR_IA32_MISC_ENABLE)
			m.ent[i].data = 1; /* fast string operations */
		else if (idx[i] == MSR_MTRR_DEF_TYPE)
			m.ent[i].data = (1 << 11) | 6; /* MTRRs on, default write-back */
	}
	int n = ioctl(fd, KVM_SET_MSRS, &m);
	if (n < 0)
		return err_sys(e, "KVM_SET_MSRS");
	if (n != N)
		return err_set(e, ERR_SYSTEM, "KVM_SET_MSRS: KVM refused MSR %#x", idx[n]);
	return 0;
}

int x86_vcpu_init(int fd, unsigned index, const struct x86_cpu_template *t, struct err *e)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (t->ncpuid + CPUID_EXTRA_ENTRIES) *
	                                                  sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return err_sys(e, "allocating CPUID");
	fill_cpuid(c, t, index);
	int rc = ioctl(fd, KVM_SET_CPUID2, c);
	free(c);
	if (rc)
		return err_sys(e, "vCPU %u: KVM_SET_CPUID2", index);
	if (set_msrs(fd, e))
		return err_prefix(e, "vCPU %u", index);

	struct kvm_fpu fpu;
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(fd, KVM_SET_FPU, &fpu))
		return err_sys(e, "vCPU %u: KVM_SET_FPU", index);

	struct kvm_lapic_state la;
	if (ioctl(fd, KVM_GET_LAPIC, &la))
		return err_sys(e, "vCPU %u: KVM_GET_LAPIC", index);
	uint32_t v;
	memcpy(&v, la.regs + APIC_LVT0, 4);
	v = (v & ~0x700U) | (APIC_MODE_EXTINT << 8);
	memcpy(la.regs + APIC_LVT0, &v, 4);
	memcpy(&v, la.regs + APIC_LVT1, 4);
	v = (v & ~0x700U) | (APIC_MODE_NMI << 8);
	memcpy(la.regs + APIC_LVT1, &v, 4);
	if (ioctl(fd, KVM_SET_LAPIC, &la))
		return err_sys(e, "vCPU %u: KVM_SET_LAPIC", index);
	return 0;
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

static struct kvm_segment seg(uint16_t sel, uint8_t type, int code64, int s)
{
	struct kvm_segment g = {0};
	g.base = 0;
	g.limit = 0xffffffff;
	g.selector = sel;
	g.type = type;
	g.present = 1;
	g.dpl = 0;
	g.db = code64 ? 0 : 1;
	g.s = (uint8_t)s;
	g.l = (uint8_t)code64;
	g.g = 1;
	return g;
}

int x86_vcpu_boot_regs(int fd, const struct boot_entry *be, struct err *e)
{
	struct kvm_sregs sr;
	if (ioctl(fd, KVM_GET_SREGS, &sr))
		return err_sys(e, "KVM_GET_SREGS");
	int lm = be->mode == BOOT_LINUX64;
	sr.cs = seg(BOOT_CS, 0xb, lm, 1);
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = seg(BOOT_DS, 0x3, 0, 1);
	sr.tr = seg(0x20, 0xb, 0, 0);
	sr.tr.limit = 0x67;
	sr.tr.g = 0;
	sr.tr.db = 0;
	sr.gdt.base = LAYOUT_GDT;
	sr.gdt.limit = 5 * 8 - 1;
	sr.idt.base = 0;
	sr.idt.limit = 0;
	if (lm) {
		sr.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
		sr.cr3 = LAYOUT_PML4;
		sr.cr4 = CR4_PAE;
		sr.efer = EFER_LME | EFER_LMA;
	} else {
		sr.cr0 = CR0_PE | CR0_ET;
		sr.cr3 = 0;
		sr.cr4 = 0;
		sr.efer = 0;
	}
	if (ioctl(fd, KVM_SET_SREGS, &sr))
		return err_sys(e, "KVM_SET_SREGS");

	struct kvm_regs r;
	memset(&r, 0, sizeof(r));
	r.rflags = 0x2;
	r.rip = be->rip;
	if (lm)
		r.rsi = be->arg;
	else
		r.rbx = be->arg;
	if (ioctl(fd, KVM_SET_REGS, &r))
		return err_sys(e, "KVM_SET_REGS");
	return 0;
}
