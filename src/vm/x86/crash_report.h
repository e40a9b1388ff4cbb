/* SPDX-License-Identifier: Apache-2.0 */
/* A readable account of why a vCPU stopped for good: exit reason,
 * registers, and the instruction bytes at RIP. */
#ifndef CAPSA_VM_X86_CRASH_REPORT_H
#define CAPSA_VM_X86_CRASH_REPORT_H

#include "mem/guest_mem.h"
#include "vm/x86/state.h"

#include <stddef.h>

/* Writes to buf (NUL-terminated, at most cap bytes). `what` names the
 * exit ("triple fault", "KVM internal error ..."); `s` is the vCPU's state
 * (registers and control registers), NULL if it could not be read. */
void x86_crash_report(const struct x86_vcpu_state *s, unsigned index, const struct guest_mem *gm,
                      const char *what, char *buf, size_t cap);

#endif
