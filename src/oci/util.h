/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the OCI runtime: an arena for parsed data, file
 * writes that report errors as values, and container id validation. */
#ifndef CAPSA_OCI_UTIL_H
#define CAPSA_OCI_UTIL_H

#include "lib/err.h"

#include <stddef.h>
#include <sys/types.h>

/* Every allocation made while parsing a config lives until arena_free(). */
struct arena {
	struct arena_block *head;
};
void *arena_alloc(struct arena *a, size_t size); /* zeroed; NULL only on ENOMEM */
char *arena_strdup(struct arena *a, const char *s);
void arena_free(struct arena *a);

/* Write data to path through a temporary file and rename (atomic). */
int util_write_atomic(const char *path, const char *data, size_t len, struct err *e);
/* Write a string to an existing file (cgroup and /proc knobs). */
int util_write_str(const char *path, const char *s, struct err *e);
/* mkdir -p with mode; existing directories are fine. */
int util_mkdir_p(const char *path, mode_t mode, struct err *e);
/* Remove a directory tree (state directories only; does not cross mounts). */
int util_rm_rf(const char *path);
/* A container id: 1..1024 of [A-Za-z0-9_+.-], not "." or "..". */
int util_valid_id(const char *id, struct err *e);
/* Start time of a process (field 22 of /proc/PID/stat) or 0; *zombie set if state Z/X. */
unsigned long long util_proc_start_time(pid_t pid, int *zombie);
/* Write all of buf to fd, retrying on EINTR/short writes. */
int util_write_all(int fd, const void *buf, size_t len);

#endif
