/* A readable account of why a vCPU stopped for good: exit reason,
 * registers, and the instruction bytes at RIP. */
#ifndef CAPSA_VM_X86_CRASH_REPORT_H
#define CAPSA_VM_X86_CRASH_REPORT_H

#include "mem/guest_mem.h"

#include <stddef.h>

struct kvm_run;

/* Appends to buf (NUL-terminated, at most cap bytes). `what` names the
 * exit ("triple fault", "KVM internal error ..."). */
void x86_crash_report(int vcpu_fd, unsigned index, const struct guest_mem *gm, const char *what,
                      char *buf, size_t cap);

#endif
