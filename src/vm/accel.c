/* SPDX-License-Identifier: Apache-2.0 */
/* Choosing an accelerator: names, parsing, and what `auto` means. */
#include "vm/accel.h"

#include "vm/kvm.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

const char *accel_kind_name(enum accel_kind k)
{
	switch (k) {
	case ACCEL_KVM:
		return "kvm";
	case ACCEL_EMU:
		return "emu";
	default:
		return "auto";
	}
}

int accel_parse(const char *s, enum accel_kind *out, struct err *e)
{
	static const enum accel_kind kinds[] = {ACCEL_AUTO, ACCEL_KVM, ACCEL_EMU};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!strcmp(s, accel_kind_name(kinds[i]))) {
			*out = kinds[i];
			return 0;
		}
	}
	return err_set(e, ERR_INPUT, "--accel '%s': use kvm, emu or auto", s);
}

void accel_state_copy(struct x86_vcpu_state *dst, const struct x86_vcpu_state *src, unsigned parts)
{
	if (parts & ACCEL_STATE_REGS) {
		memcpy(dst->gpr, src->gpr, sizeof(dst->gpr));
		dst->rip = src->rip;
		dst->rflags = src->rflags;
	}
	if (parts & ACCEL_STATE_SREGS) {
		memcpy(dst->seg, src->seg, sizeof(dst->seg));
		dst->gdt = src->gdt;
		dst->idt = src->idt;
		dst->cr0 = src->cr0;
		dst->cr2 = src->cr2;
		dst->cr3 = src->cr3;
		dst->cr4 = src->cr4;
		dst->cr8 = src->cr8;
		dst->efer = src->efer;
		dst->msr.apic_base = src->msr.apic_base;
	}
	if (parts & ACCEL_STATE_FPU) {
		dst->fx = src->fx;
		dst->xcr0 = src->xcr0;
	}
	if (parts & ACCEL_STATE_MSRS) {
		uint64_t apic_base = dst->msr.apic_base;
		dst->msr = src->msr;
		dst->msr.apic_base = apic_base;
	}
	if (parts & ACCEL_STATE_LAPIC)
		memcpy(dst->lapic, src->lapic, sizeof(dst->lapic));
	if (parts & ACCEL_STATE_EVENTS)
		dst->ev = src->ev;
	if (parts & ACCEL_STATE_DEBUG)
		memcpy(dst->dr, src->dr, sizeof(dst->dr));
}

int accel_kick_signal(void)
{
	return SIGRTMIN + 3;
}

int accel_kvm_probe(const char *kvm_path, struct err *e)
{
	struct kvm_host k;
	if (kvm_host_open(&k, kvm_path ? kvm_path : "/dev/kvm", e))
		return -1;
	kvm_host_close(&k);
	return 0;
}

int accel_vm_create(enum accel_kind kind, const struct accel_vm_config *c, struct accel_vm **out,
                    char *why_emu, size_t why_cap, struct err *e)
{
	*out = NULL;
	if (why_cap)
		why_emu[0] = '\0';
	if (kind != ACCEL_EMU) {
		struct err pe = {0};
		if (accel_kvm_probe(c->kvm_path, &pe) == 0)
			return accel_kvm_ops.vm_create(out, c, e);
		if (kind == ACCEL_KVM) {
			/* The user asked for what this host cannot give. */
			*e = pe;
			e->kind = ERR_INPUT;
			return err_prefix(e, "--accel kvm");
		}
		if (why_cap)
			snprintf(why_emu, why_cap, "%s", pe.msg);
	}
	return accel_emu_ops.vm_create(out, c, e);
}
