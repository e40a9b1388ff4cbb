/* SPDX-License-Identifier: Apache-2.0 */
/* Seccomp: the OCI linux.seccomp object translated with libseccomp. */
#ifndef CAPSA_OCI_SECCOMP_H
#define CAPSA_OCI_SECCOMP_H

#include "lib/err.h"
#include "oci/config.h"

/* Build the filter described by s (does not load it). Returns a
 * scmp_filter_ctx (as void *) or NULL with e set. */
void *oci_seccomp_build(const struct oci_seccomp *s, struct err *e);
/* Build and load the filter into the calling thread. If the profile uses
 * SCMP_ACT_NOTIFY, *notify_fd receives the listener fd, else -1. */
int oci_seccomp_load(const struct oci_seccomp *s, int *notify_fd, struct err *e);
void oci_seccomp_free(void *ctx);

/* Names used by "features". */
extern const char *const oci_seccomp_action_names[];
extern const char *const oci_seccomp_op_names[];
extern const char *const oci_seccomp_flag_names[];
extern const char *const oci_seccomp_arch_names[];

#endif
