/* SPDX-License-Identifier: Apache-2.0 */
/* The container's file system: mounts, device nodes, pivot_root, masked
 * and read-only paths. Runs in the container's mount namespace. */
#ifndef CAPSA_OCI_ROOTFS_H
#define CAPSA_OCI_ROOTFS_H

#include "lib/err.h"
#include "oci/cgroup.h"
#include "oci/config.h"

struct oci_rootfs_ctx {
	const struct oci_config *cfg;
	const char *bundle;
	const struct oci_cgroup *cg; /* for "cgroup" mounts; may be NULL */
	int userns;                  /* running in a new user namespace */
	const int *idmap_fds;        /* per mount, from oci_idmap_userns_fd(), or -1 */
};

/* Before pivot_root: propagation, rootfs bind, all mounts, device nodes. */
int oci_rootfs_setup(const struct oci_rootfs_ctx *ctx, struct err *e);
/* pivot_root into the rootfs (or MS_MOVE + chroot with no_pivot). */
int oci_rootfs_pivot(const struct oci_rootfs_ctx *ctx, int no_pivot, struct err *e);
/* After pivot_root: masked paths, read-only paths, sysctls, read-only root. */
int oci_rootfs_finish(const struct oci_rootfs_ctx *ctx, struct err *e);

/* Open path (relative to rootfd, never escaping it) creating missing
 * directories, and the last component as a file if as_file. O_PATH fd. */
int oci_open_in_root(int rootfd, const char *path, int create, int as_file, struct err *e);

#endif
