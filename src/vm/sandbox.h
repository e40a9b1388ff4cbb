/* SPDX-License-Identifier: Apache-2.0 */
/* seccomp for the VMM's own threads. Once a VM runs, its vCPU and console
 * threads need a handful of system calls; everything else traps, and the
 * trap ends capsa with a message naming the call (never a silent kill). */
#ifndef CAPSA_VM_SANDBOX_H
#define CAPSA_VM_SANDBOX_H

#include "lib/err.h"

/* Install the SIGSYS reporter (process-wide, idempotent). */
int sandbox_init(struct err *e);
/* Extra permissions a thread may need beyond the common set. */
#define SANDBOX_SOCKETS 0x1u /* socket I/O and set-up, epoll_ctl, close (network, vsock) */
#define SANDBOX_NET     0x2u /* ioctls of network backends: TUNSETOFFLOAD, FIONREAD */
#define SANDBOX_UFFD    0x4u /* userfaultfd ioctls filling guest memory (mem/lazy.h) */

/* Confine the calling thread: the common set (file and ring I/O on existing
 * descriptors, polling, memory, futexes, a few KVM ioctls) plus `extra`.
 * CAPSA_NO_SECCOMP=1 in the environment turns this off (for debugging). */
int sandbox_enter_thread(unsigned extra, struct err *e);

#endif
