/* SPDX-License-Identifier: Apache-2.0 */
/* Looking up the mount that holds a path in /proc/self/mountinfo. */
#ifndef CAPSA_OCI_MOUNTINFO_H
#define CAPSA_OCI_MOUNTINFO_H

#include "lib/err.h"

#include <stddef.h>

/* The mount point of the mount holding PATH (the longest mount point that
 * is PATH or a directory above it) into MP; *shared tells whether that
 * mount has shared propagation. TEXT is mountinfo's contents. */
int oci_mountinfo_find(const char *text, const char *path, char *mp, size_t len, int *shared,
                       struct err *e);

#endif
