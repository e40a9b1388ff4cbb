/* SPDX-License-Identifier: Apache-2.0 */
/* The container init: the child side of create (init.c). */
#ifndef CAPSA_OCI_INIT_H
#define CAPSA_OCI_INIT_H

#include "oci/cgroup.h"
#include "oci/config.h"

struct oci_init_args {
	struct oci_config *cfg;
	const struct oci_cgroup *cg;
	const char *bundle;
	int fifo;       /* exec.fifo, opened read-write by the runtime */
	int *idmap_fds; /* per mount: user namespace fd for idmapped mounts, or -1 */
	int sock, console, seccomp_listener;
	int no_pivot, preserve_fds, new_userns, userns;
	int join_fds[8], join_types[8], n_join; /* namespaces joined by path */
	int unshare_late;                       /* cgroup/time namespaces */
	int need_sync;                          /* exchange OCI_MSG_HOOKS / OCI_MSG_HOOKS_DONE */
	int join_self; /* born in the v2 cgroup; joins the v1 ones itself */
};
/* Runs in the new namespaces: builds the root, waits for start, becomes
 * the container's process. Never returns. */
void oci_init_main(struct oci_init_args *a) __attribute__((noreturn));

#endif
