/* seccomp for the VMM's own threads. Once a VM runs, its vCPU and console
 * threads need a handful of system calls; everything else traps, and the
 * trap ends capsa with a message naming the call (never a silent kill). */
#ifndef CAPSA_VM_SANDBOX_H
#define CAPSA_VM_SANDBOX_H

#include "lib/err.h"

/* Install the SIGSYS reporter (process-wide, idempotent). */
int sandbox_init(struct err *e);
/* Confine the calling thread. CAPSA_NO_SECCOMP=1 in the environment turns
 * this off (for debugging). */
int sandbox_enter_thread(struct err *e);

#endif
