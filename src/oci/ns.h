/* SPDX-License-Identifier: Apache-2.0 */
/* User namespace id maps and joining namespaces. */
#ifndef CAPSA_OCI_NS_H
#define CAPSA_OCI_NS_H

#include "lib/err.h"
#include "oci/config.h"

#include <sys/types.h>

/* Write /proc/PID/{uid_map,gid_map} (and setgroups=deny when unprivileged). */
int oci_write_idmaps(pid_t pid, const struct oci_idmap *u, size_t nu, const struct oci_idmap *g,
                     size_t ng, struct err *e);
/* A user namespace fd with these mappings (for idmapped mounts). */
int oci_idmap_userns_fd(const struct oci_idmap *u, size_t nu, const struct oci_idmap *g, size_t ng,
                        struct err *e);
/* Format a mapping list as the kernel expects it. */
int oci_format_idmap(const struct oci_idmap *m, size_t n, char *buf, size_t len);

#endif
