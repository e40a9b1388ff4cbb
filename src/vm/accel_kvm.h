/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the KVM accelerator: conversions between the neutral vCPU state
 * and KVM's ioctl structures (accel_kvm_state.c). */
#ifndef CAPSA_VM_ACCEL_KVM_H
#define CAPSA_VM_ACCEL_KVM_H

#include "vm/accel.h"
#include "vm/kvm.h"

/* Read / write the ACCEL_STATE_* `parts` of vCPU `fd`. */
int kvm_state_get(int fd, struct x86_vcpu_state *s, unsigned parts, struct err *e);
int kvm_state_set(int fd, const struct x86_vcpu_state *s, unsigned parts, struct err *e);

/* The VM's interrupt controllers and PIT (accel_kvm_irqchip.c). */
int kvm_irqchip_get(int vm_fd, struct x86_irqchip_state *s, struct err *e);
int kvm_irqchip_set(int vm_fd, const struct x86_irqchip_state *s, struct err *e);

#endif
