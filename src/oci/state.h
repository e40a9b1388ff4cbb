/* SPDX-License-Identifier: Apache-2.0 */
/* Container state store: ROOT/ID/state.json written atomically, one lock
 * per container (flock on the container directory). */
#ifndef CAPSA_OCI_STATE_H
#define CAPSA_OCI_STATE_H

#include "lib/err.h"

#include <sys/types.h>

#define OCI_PATH_MAX 4096

struct oci_state {
	char id[1025];
	pid_t pid;
	unsigned long long start_time; /* of pid, to detect pid reuse */
	char bundle[OCI_PATH_MAX];
	char rootfs[OCI_PATH_MAX];
	char cgroup[OCI_PATH_MAX]; /* relative cgroup path, "" = none */
	char created[64];          /* RFC 3339 */
	uid_t owner;
	int systemd_cgroup;
	int started;            /* start was called */
	char dir[OCI_PATH_MAX]; /* ROOT/ID */
	int lock_fd;
};

/* Create ROOT/ID (fails with ERR_INPUT if it exists) and lock it. */
int oci_state_create(const char *root, const char *id, struct oci_state *st, struct err *e);
/* Open and lock an existing container's state and read state.json. */
int oci_state_open(const char *root, const char *id, struct oci_state *st, struct err *e);
/* Write state.json atomically. */
int oci_state_save(const struct oci_state *st, struct err *e);
/* Remove ROOT/ID entirely (keeps the lock fd until oci_state_close). */
int oci_state_remove(struct oci_state *st, struct err *e);
void oci_state_close(struct oci_state *st);

/* "created", "running", "stopped" or "paused" (is_paused says whether the
 * cgroup is frozen; pass 0 when unknown). */
const char *oci_state_status(const struct oci_state *st, int is_paused);
/* Is the container's init still alive (and not a zombie)? */
int oci_state_alive(const struct oci_state *st);
/* The state as the runtime-spec JSON ("state" command); malloc'd. */
char *oci_state_json(const struct oci_state *st, const char *status, int pretty);
/* Path of a file in the container's state directory. */
int oci_state_path(const struct oci_state *st, const char *name, char *buf, size_t len);

#endif
