/* SPDX-License-Identifier: Apache-2.0 */
/* The in-kernel PIC pair, I/O APIC and PIT of a KVM VM as the neutral
 * x86_irqchip_state (which uses KVM's own layouts), for snapshots. */
#include "vm/accel_kvm.h"

#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

int kvm_irqchip_get(int vm_fd, struct x86_irqchip_state *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	for (unsigned id = 0; id < 3; id++) {
		struct kvm_irqchip c = {.chip_id = id};
		if (ioctl(vm_fd, KVM_GET_IRQCHIP, &c))
			return err_sys(e, "KVM_GET_IRQCHIP %u", id);
		if (id < 2)
			s->pic[id] = c.chip.pic;
		else
			s->ioapic = c.chip.ioapic;
	}
	if (ioctl(vm_fd, KVM_GET_PIT2, &s->pit))
		return err_sys(e, "KVM_GET_PIT2");
	return 0;
}

int kvm_irqchip_set(int vm_fd, const struct x86_irqchip_state *s, struct err *e)
{
	for (unsigned id = 0; id < 3; id++) {
		struct kvm_irqchip c = {.chip_id = id};
		if (id < 2)
			c.chip.pic = s->pic[id];
		else
			c.chip.ioapic = s->ioapic;
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, &c))
			return err_sys(e, "KVM_SET_IRQCHIP %u", id);
	}
	struct kvm_pit_state2 pit = s->pit;
	if (ioctl(vm_fd, KVM_SET_PIT2, &pit))
		return err_sys(e, "KVM_SET_PIT2");
	return 0;
}
