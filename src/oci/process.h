/* SPDX-License-Identifier: Apache-2.0 */
/* Turning the calling process into the container process: rlimits, user,
 * groups, capabilities, no_new_privs, seccomp, then execve. */
#ifndef CAPSA_OCI_PROCESS_H
#define CAPSA_OCI_PROCESS_H

#include "lib/err.h"
#include "oci/config.h"

/* Find args[0] using PATH from env (inside the current root). */
int oci_find_exec(const struct oci_process *p, char *out, size_t len, struct err *e);
/* The same, but with need_exec 0 any regular file will do (a wasm module
 * is read, not executed). */
int oci_find_program(const struct oci_process *p, int need_exec, char *out, size_t len,
                     struct err *e);
/* Set rlimits and oomScoreAdj (call before entering the container's /proc). */
int oci_process_limits(const struct oci_process *p, struct err *e);
/* What can be known before the process starts: an AppArmor profile on a
 * host without AppArmor, capabilities the caller does not have to give, a
 * seccomp filter that cannot be loaded without no_new_privs. */
int oci_process_check(const struct oci_config *c, const struct oci_process *p, struct err *e);
/* Drop privileges, load seccomp and exec. Returns only on failure.
 * seccomp_listener: connected socket for SCMP_ACT_NOTIFY (or -1); state_json
 * is sent with the notify fd. preserve_fds: fds 3..3+n-1 stay open. */
int oci_process_exec(const struct oci_config *c, const struct oci_process *p, int in_userns,
                     int preserve_fds, int seccomp_listener, const char *state_json, struct err *e);
/* Everything oci_process_exec() does but the exec: the caller is then the
 * container's process (a wasm container runs its module in it). exe: the
 * program, looked up after the change to process.cwd when empty. */
int oci_process_enter(const struct oci_config *c, const struct oci_process *p, int in_userns,
                      int preserve_fds, int seccomp_listener, const char *state_json, char *exe,
                      size_t exe_len, struct err *e);

#endif
