/* SPDX-License-Identifier: Apache-2.0 */
/* KVM's vCPU state structures <-> struct x86_vcpu_state. Each part is one
 * or two ioctls; callers ask only for the parts they need (a crash report
 * reads registers only), so a KVM that lacks an ioctl fails only the
 * callers that need it. */
#include "vm/accel_kvm.h"

#include <linux/kvm.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

/* kvm_regs keeps the general registers by name, x86_gpr by encoding. */
static void gpr_slots(struct kvm_regs *r, __u64 *p[X86_NGPR])
{
	__u64 *slots[X86_NGPR] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp,
	                          &r->rsi, &r->rdi, &r->r8,  &r->r9,  &r->r10, &r->r11,
	                          &r->r12, &r->r13, &r->r14, &r->r15};
	memcpy(p, slots, sizeof(slots));
}

static const struct {
	uint32_t index;
	size_t off; /* in struct x86_msrs */
} msr_map[] = {
    {0x174, offsetof(struct x86_msrs, sysenter_cs)},
    {0x175, offsetof(struct x86_msrs, sysenter_esp)},
    {0x176, offsetof(struct x86_msrs, sysenter_eip)},
    {0xc0000081, offsetof(struct x86_msrs, star)},
    {0xc0000082, offsetof(struct x86_msrs, lstar)},
    {0xc0000083, offsetof(struct x86_msrs, cstar)},
    {0xc0000084, offsetof(struct x86_msrs, sfmask)},
    {0xc0000102, offsetof(struct x86_msrs, kernel_gs_base)},
    {0xc0000103, offsetof(struct x86_msrs, tsc_aux)},
    {0x10, offsetof(struct x86_msrs, tsc)},
    {0x277, offsetof(struct x86_msrs, pat)},
    {0x1a0, offsetof(struct x86_msrs, misc_enable)},
    {0x6e0, offsetof(struct x86_msrs, tsc_deadline)},
};
#define NMSRS (sizeof(msr_map) / sizeof(msr_map[0]))

static void seg_from_kvm(struct x86_segment *d, const struct kvm_segment *s)
{
	*d = (struct x86_segment){.base = s->base,
	                          .limit = s->limit,
	                          .selector = s->selector,
	                          .type = s->type,
	                          .s = s->s,
	                          .dpl = s->dpl,
	                          .present = s->present,
	                          .avl = s->avl,
	                          .l = s->l,
	                          .db = s->db,
	                          .g = s->g,
	                          .unusable = s->unusable};
}

static void seg_to_kvm(struct kvm_segment *d, const struct x86_segment *s)
{
	*d = (struct kvm_segment){.base = s->base,
	                          .limit = s->limit,
	                          .selector = s->selector,
	                          .type = s->type,
	                          .present = s->present,
	                          .dpl = s->dpl,
	                          .db = s->db,
	                          .s = s->s,
	                          .l = s->l,
	                          .g = s->g,
	                          .avl = s->avl,
	                          .unusable = s->unusable};
}

/* kvm_sregs keeps segments by name, x86_sreg by encoding. */
static struct kvm_segment *sreg_slot(struct kvm_sregs *k, int i)
{
	struct kvm_segment *slots[X86_NSEG] = {&k->es, &k->cs, &k->ss, &k->ds,
	                                       &k->fs, &k->gs, &k->tr, &k->ldt};
	return slots[i];
}

static int get_regs(int fd, struct x86_vcpu_state *s, struct err *e)
{
	struct kvm_regs r;
	if (ioctl(fd, KVM_GET_REGS, &r))
		return err_sys(e, "KVM_GET_REGS");
	__u64 *k[X86_NGPR];
	gpr_slots(&r, k);
	for (int i = 0; i < X86_NGPR; i++)
		s->gpr[i] = *k[i];
	s->rip = r.rip;
	s->rflags = r.rflags;
	return 0;
}

static int set_regs(int fd, const struct x86_vcpu_state *s, struct err *e)
{
	struct kvm_regs r;
	__u64 *k[X86_NGPR];
	gpr_slots(&r, k);
	for (int i = 0; i < X86_NGPR; i++)
		*k[i] = s->gpr[i];
	r.rip = s->rip;
	r.rflags = s->rflags;
	return ioctl(fd, KVM_SET_REGS, &r) ? err_sys(e, "KVM_SET_REGS") : 0;
}

static int get_sregs(int fd, struct x86_vcpu_state *s, struct err *e)
{
	struct kvm_sregs k;
	if (ioctl(fd, KVM_GET_SREGS, &k))
		return err_sys(e, "KVM_GET_SREGS");
	for (int i = 0; i < X86_NSEG; i++)
		seg_from_kvm(&s->seg[i], sreg_slot(&k, i));
	s->gdt = (struct x86_dtable){.base = k.gdt.base, .limit = k.gdt.limit};
	s->idt = (struct x86_dtable){.base = k.idt.base, .limit = k.idt.limit};
	s->cr0 = k.cr0;
	s->cr2 = k.cr2;
	s->cr3 = k.cr3;
	s->cr4 = k.cr4;
	s->cr8 = k.cr8;
	s->efer = k.efer;
	s->msr.apic_base = k.apic_base;
	return 0;
}

static int set_sregs(int fd, const struct x86_vcpu_state *s, struct err *e)
{
	struct kvm_sregs k;
	/* Start from KVM's own, so the pending-interrupt bitmap stays KVM's. */
	if (ioctl(fd, KVM_GET_SREGS, &k))
		return err_sys(e, "KVM_GET_SREGS");
	for (int i = 0; i < X86_NSEG; i++)
		seg_to_kvm(sreg_slot(&k, i), &s->seg[i]);
	k.gdt.base = s->gdt.base;
	k.gdt.limit = s->gdt.limit;
	k.idt.base = s->idt.base;
	k.idt.limit = s->idt.limit;
	k.cr0 = s->cr0;
	k.cr2 = s->cr2;
	k.cr3 = s->cr3;
	k.cr4 = s->cr4;
	k.cr8 = s->cr8;
	k.efer = s->efer;
	if (s->msr.apic_base)
		k.apic_base = s->msr.apic_base;
	return ioctl(fd, KVM_SET_SREGS, &k) ? err_sys(e, "KVM_SET_SREGS") : 0;
}

/* FXSAVE image offsets (Intel SDM vol. 1, table 10-2, 64-bit form). */
enum { FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_FOP = 6, FX_FIP = 8, FX_FDP = 16, FX_MXCSR = 24 };
enum { FX_ST0 = 32, FX_XMM0 = 160 };

static int get_fpu(int fd, struct x86_vcpu_state *s, struct err *e)
{
	struct kvm_fpu f;
	if (ioctl(fd, KVM_GET_FPU, &f))
		return err_sys(e, "KVM_GET_FPU");
	uint8_t *b = s->fx.bytes;
	memset(b, 0, sizeof(s->fx.bytes));
	memcpy(b + FX_FCW, &f.fcw, 2);
	memcpy(b + FX_FSW, &f.fsw, 2);
	b[FX_FTW] = f.ftwx;
	memcpy(b + FX_FOP, &f.last_opcode, 2);
	memcpy(b + FX_FIP, &f.last_ip, 8);
	memcpy(b + FX_FDP, &f.last_dp, 8);
	memcpy(b + FX_MXCSR, &f.mxcsr, 4);
	uint32_t mask = 0xffff;
	memcpy(b + FX_MXCSR + 4, &mask, 4);
	for (int i = 0; i < 8; i++)
		memcpy(b + FX_ST0 + 16 * i, f.fpr[i], 16);
	for (int i = 0; i < 16; i++)
		memcpy(b + FX_XMM0 + 16 * i, f.xmm[i], 16);
	s->xcr0 = 1;
	return 0;
}

static int set_fpu(int fd, const struct x86_vcpu_state *s, struct err *e)
{
	struct kvm_fpu f;
	memset(&f, 0, sizeof(f));
	const uint8_t *b = s->fx.bytes;
	memcpy(&f.fcw, b + FX_FCW, 2);
	memcpy(&f.fsw, b + FX_FSW, 2);
	f.ftwx = b[FX_FTW];
	memcpy(&f.last_opcode, b + FX_FOP, 2);
	memcpy(&f.last_ip, b + FX_FIP, 8);
	memcpy(&f.last_dp, b + FX_FDP, 8);
	memcpy(&f.mxcsr, b + FX_MXCSR, 4);
	for (int i = 0; i < 8; i++)
		memcpy(f.fpr[i], b + FX_ST0 + 16 * i, 16);
	for (int i = 0; i < 16; i++)
		memcpy(f.xmm[i], b + FX_XMM0 + 16 * i, 16);
	return ioctl(fd, KVM_SET_FPU, &f) ? err_sys(e, "KVM_SET_FPU") : 0;
}

struct msr_buf {
	struct kvm_msrs hdr;
	struct kvm_msr_entry ent[NMSRS];
};

static int get_msrs(int fd, struct x86_vcpu_state *s, struct err *e)
{
	struct msr_buf m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = NMSRS;
	for (size_t i = 0; i < NMSRS; i++)
		m.ent[i].index = msr_map[i].index;
	int n = ioctl(fd, KVM_GET_MSRS, &m);
	if (n < 0)
		return err_sys(e, "KVM_GET_MSRS");
	if ((size_t)n != NMSRS)
		return err_set(e, ERR_SYSTEM, "KVM_GET_MSRS: KVM cannot read MSR %#x",
		               msr_map[n].index);
	for (size_t i = 0; i < NMSRS; i++)
		memcpy((uint8_t *)&s->msr + msr_map[i].off, &m.ent[i].data, 8);
	return 0;
}

static int set_msrs(int fd, const struct x86_vcpu_state *s, struct err *e)
{
	struct msr_buf m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = NMSRS;
	for (size_t i = 0; i < NMSRS; i++) {
		m.ent[i].index = msr_map[i].index;
		memcpy(&m.ent[i].data, (const uint8_t *)&s->msr + msr_map[i].off, 8);
	}
	int n = ioctl(fd, KVM_SET_MSRS, &m);
	if (n < 0)
		return err_sys(e, "KVM_SET_MSRS");
	if ((size_t)n != NMSRS)
		return err_set(e, ERR_SYSTEM, "KVM_SET_MSRS: KVM refused MSR %#x",
		               msr_map[n].index);
	return 0;
}

static int get_events(int fd, struct x86_vcpu_state *s, struct err *e)
{
	struct kvm_vcpu_events ev;
	struct kvm_mp_state mp;
	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &ev))
		return err_sys(e, "KVM_GET_VCPU_EVENTS");
	if (ioctl(fd, KVM_GET_MP_STATE, &mp))
		return err_sys(e, "KVM_GET_MP_STATE");
	struct x86_events *x = &s->ev;
	memset(x, 0, sizeof(*x));
	x->exception_pending = ev.exception.injected || ev.exception.pending;
	x->exception_vector = ev.exception.nr;
	x->exception_has_error = ev.exception.has_error_code;
	x->exception_error_code = ev.exception.error_code;
	x->nmi_pending = ev.nmi.pending || ev.nmi.injected;
	x->nmi_masked = ev.nmi.masked;
	x->interrupt_shadow = ev.interrupt.shadow;
	x->sipi_vector = (uint8_t)ev.sipi_vector;
	x->run_state = mp.mp_state == KVM_MP_STATE_HALTED ? X86_HALTED
	               : (mp.mp_state == KVM_MP_STATE_INIT_RECEIVED ||
	                  mp.mp_state == KVM_MP_STATE_UNINITIALIZED)
	                   ? X86_WAIT_FOR_SIPI
	                   : X86_RUNNABLE;
	return 0;
}

static int set_events(int fd, const struct x86_vcpu_state *s, struct err *e)
{
	const struct x86_events *x = &s->ev;
	struct kvm_vcpu_events ev;
	memset(&ev, 0, sizeof(ev));
	ev.exception.injected = x->exception_pending;
	ev.exception.nr = x->exception_vector;
	ev.exception.has_error_code = x->exception_has_error;
	ev.exception.error_code = x->exception_error_code;
	ev.nmi.pending = x->nmi_pending;
	ev.nmi.masked = x->nmi_masked;
	ev.interrupt.shadow = x->interrupt_shadow;
	ev.sipi_vector = x->sipi_vector;
	ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
	           KVM_VCPUEVENT_VALID_SHADOW;
	if (ioctl(fd, KVM_SET_VCPU_EVENTS, &ev))
		return err_sys(e, "KVM_SET_VCPU_EVENTS");
	struct kvm_mp_state mp = {x->run_state == X86_HALTED          ? KVM_MP_STATE_HALTED
	                          : x->run_state == X86_WAIT_FOR_SIPI ? KVM_MP_STATE_INIT_RECEIVED
	                                                              : KVM_MP_STATE_RUNNABLE};
	return ioctl(fd, KVM_SET_MP_STATE, &mp) ? err_sys(e, "KVM_SET_MP_STATE") : 0;
}

static int get_debug(int fd, struct x86_vcpu_state *s, struct err *e)
{
	struct kvm_debugregs d;
	if (ioctl(fd, KVM_GET_DEBUGREGS, &d))
		return err_sys(e, "KVM_GET_DEBUGREGS");
	memcpy(s->dr, d.db, sizeof(d.db));
	s->dr[6] = d.dr6;
	s->dr[7] = d.dr7;
	return 0;
}

static int set_debug(int fd, const struct x86_vcpu_state *s, struct err *e)
{
	struct kvm_debugregs d;
	memset(&d, 0, sizeof(d));
	memcpy(d.db, s->dr, sizeof(d.db));
	d.dr6 = s->dr[6];
	d.dr7 = s->dr[7];
	return ioctl(fd, KVM_SET_DEBUGREGS, &d) ? err_sys(e, "KVM_SET_DEBUGREGS") : 0;
}

_Static_assert(sizeof(((struct kvm_lapic_state *)0)->regs) == X86_LAPIC_REGS_SIZE, "lapic");

int kvm_state_get(int fd, struct x86_vcpu_state *s, unsigned parts, struct err *e)
{
	if ((parts & ACCEL_STATE_REGS) && get_regs(fd, s, e))
		return -1;
	if ((parts & ACCEL_STATE_SREGS) && get_sregs(fd, s, e))
		return -1;
	if ((parts & ACCEL_STATE_FPU) && get_fpu(fd, s, e))
		return -1;
	if ((parts & ACCEL_STATE_MSRS) && get_msrs(fd, s, e))
		return -1;
	if ((parts & ACCEL_STATE_EVENTS) && get_events(fd, s, e))
		return -1;
	if ((parts & ACCEL_STATE_DEBUG) && get_debug(fd, s, e))
		return -1;
	if (parts & ACCEL_STATE_LAPIC) {
		struct kvm_lapic_state la;
		if (ioctl(fd, KVM_GET_LAPIC, &la))
			return err_sys(e, "KVM_GET_LAPIC");
		memcpy(s->lapic, la.regs, sizeof(s->lapic));
	}
	return 0;
}

int kvm_state_set(int fd, const struct x86_vcpu_state *s, unsigned parts, struct err *e)
{
	/* Control registers first: KVM checks register values against them. */
	if ((parts & ACCEL_STATE_SREGS) && set_sregs(fd, s, e))
		return -1;
	if ((parts & ACCEL_STATE_REGS) && set_regs(fd, s, e))
		return -1;
	if ((parts & ACCEL_STATE_FPU) && set_fpu(fd, s, e))
		return -1;
	if ((parts & ACCEL_STATE_MSRS) && set_msrs(fd, s, e))
		return -1;
	if ((parts & ACCEL_STATE_DEBUG) && set_debug(fd, s, e))
		return -1;
	if (parts & ACCEL_STATE_LAPIC) {
		struct kvm_lapic_state la;
		memcpy(la.regs, s->lapic, sizeof(la.regs));
		if (ioctl(fd, KVM_SET_LAPIC, &la))
			return err_sys(e, "KVM_SET_LAPIC");
	}
	if ((parts & ACCEL_STATE_EVENTS) && set_events(fd, s, e))
		return -1;
	return 0;
}
