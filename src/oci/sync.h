/* SPDX-License-Identifier: Apache-2.0 */
/* The messages between the runtime and a container's init (or exec's
 * helper) on their SOCK_SEQPACKET socket pair: one file owns the protocol.
 *
 * create, in order:
 *   runtime                                init
 *   [new user namespace: writes id maps]
 *   GO ------------------------------------> (waits for its id maps)
 *   [moves the init into its cgroup]         builds its root file system
 *   JOINED --------------------------------> (nothing of the container runs
 *                                             outside its cgroup)
 *   [hooks, cgroup ns or seccomp listener:]
 *          <-------------------------------- HOOKS
 *   runs prestart/createRuntime hooks
 *   HOOKS_DONE + state JSON ---------------> createContainer hooks, pivot_root,
 *                                            checks what it can
 *          <-------------------------------- READY (then waits for start on
 *                                            exec.fifo)
 * Either side may instead get ERROR (the init's message, then it exits) or
 * EOF (the other side died). exec's helper sends PID or ERROR. */
#ifndef CAPSA_OCI_SYNC_H
#define CAPSA_OCI_SYNC_H

#include "lib/err.h"

#include <stddef.h>
#include <sys/types.h>

enum {
	OCI_MSG_GO = 'G',
	OCI_MSG_HOOKS = 'M',
	OCI_MSG_HOOKS_DONE = 'H',
	OCI_MSG_READY = 'R',
	OCI_MSG_ERROR = 'E',
	OCI_MSG_PID = 'P',
	OCI_MSG_JOINED = 'J', /* the init is in its cgroup */
};

int oci_msg_send(int sock, char type, const char *text);
/* Receive a message; returns its type, 0 on EOF, -1 on error. text gets the payload. */
int oci_msg_recv(int sock, char *text, size_t len);
/* Child side: report an error and exit. */
void oci_child_fail(int sock, const struct err *e) __attribute__((noreturn));
/* Runtime side: the error carried by an ERROR message's payload. */
void oci_msg_error(const char *payload, struct err *e);

/* Init side of create: wait for TYPE (exits when the runtime went away). */
void oci_sync_expect(int sock, char type, char *text, size_t len);
/* Init side: ask for the runtime's hooks; STATE gets the state JSON. */
void oci_sync_hooks(int sock, char *state, size_t len);

/* Runtime side of create: wait for READY, running HOOKS (with arg) when
 * asked. PID is the init, reaped when it dies during setup (*pid = -1). */
int oci_sync_await_ready(int sock, pid_t *pid, int (*hooks)(void *arg, char **state, struct err *e),
                         void *arg, struct err *e);

#endif
