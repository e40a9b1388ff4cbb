/* SPDX-License-Identifier: Apache-2.0 */
/* The host's KVM: opened once per VM, with its API version and required
 * extensions checked and explained. */
#ifndef CAPSA_VM_KVM_H
#define CAPSA_VM_KVM_H

#include "lib/err.h"
#include "vm/x86/cpuid.h"

#include <stddef.h>

struct kvm_host {
	int fd;
	int vcpu_mmap_size;
	int max_vcpus;
	int immediate_exit; /* KVM_CAP_IMMEDIATE_EXIT */
};

int kvm_host_open(struct kvm_host *k, const char *path, struct err *e);
void kvm_host_close(struct kvm_host *k);
/* KVM_GET_SUPPORTED_CPUID into a malloc'd array; *n entries. */
struct cpuid_entry *kvm_host_supported_cpuid(const struct kvm_host *k, size_t *n, struct err *e);
/* Is this host's KVM the paravirtual kvm_pvm (see docs/vm.md)? */
int kvm_host_is_pvm(void);

#endif
