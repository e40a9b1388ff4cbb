/* SPDX-License-Identifier: Apache-2.0 */
/* OCI hooks: run each hook of a kind in order with the state on stdin. */
#ifndef CAPSA_OCI_HOOKS_H
#define CAPSA_OCI_HOOKS_H

#include "lib/err.h"
#include "oci/config.h"

/* Run all hooks of `kind`; stop at the first failure (non-zero exit,
 * signal, or timeout), naming the hook. poststart and poststop hooks all
 * run even when one fails; e then names every failure. */
int oci_hooks_run(const struct oci_config *c, int kind, const char *state_json, struct err *e);
const char *oci_hook_kind_name(int kind);

#endif
