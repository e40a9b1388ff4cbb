/* SPDX-License-Identifier: Apache-2.0 */
/* cgroups for containers: cgroup v1, v2 and the hybrid layout (v1
 * controllers plus v2 at /sys/fs/cgroup/unified). Each controller is used
 * from whichever hierarchy provides it. */
#ifndef CAPSA_OCI_CGROUP_H
#define CAPSA_OCI_CGROUP_H

#include "lib/err.h"
#include "oci/config.h"

#include <sys/types.h>

enum oci_cg_layout { OCI_CG_V1, OCI_CG_HYBRID, OCI_CG_V2 };

#define OCI_CG_MAX_HIER 16
struct oci_cgroup {
	enum oci_cg_layout layout;
	char path[1024]; /* relative to each hierarchy root, starts with '/' */
	int nh;
	struct {
		char mnt[256];   /* mount point */
		char ctrls[256]; /* comma list from the super options, e.g. "cpu,cpuacct" */
	} h[OCI_CG_MAX_HIER];
	char unified[256];          /* v2 mount point, "" if none */
	char v2_ctrls[256];         /* controllers available in v2 (space separated) */
	const char *mountinfo_path; /* for tests; NULL = /proc/self/mountinfo */
};

/* Find the cgroup hierarchies from a mountinfo file. */
int oci_cgroup_detect(struct oci_cgroup *cg, struct err *e);
/* Parse mountinfo text (exposed for unit tests). */
int oci_cgroup_parse_mountinfo(struct oci_cgroup *cg, const char *text, struct err *e);
/* Turn config.json's linux.cgroupsPath into a path below the hierarchy
 * roots. Empty → "/capsa/ID". systemd: "slice:prefix:name" →
 * "/a.slice/a-b.slice/prefix-name.scope". */
int oci_cgroup_resolve_path(const char *cgroups_path, const char *id, int systemd, char *out,
                            size_t len, struct err *e);
/* Directory of a controller ("memory", "pids", ...) for this cgroup;
 * *is_v2 tells which file names apply. -1 if the controller is unavailable. */
int oci_cgroup_ctrl_dir(const struct oci_cgroup *cg, const char *ctrl, char *buf, size_t len,
                        int *is_v2);
/* Create the cgroup in every hierarchy and move pid into it. */
int oci_cgroup_create(struct oci_cgroup *cg, pid_t pid, struct err *e);
/* The calling (single-threaded) process moves itself into the cgroup of
 * every v1 hierarchy by writing 0 to "tasks": this avoids the global
 * lock (and its RCU grace period) that moving a whole process takes. */
int oci_cgroup_join_self_v1(const struct oci_cgroup *cg, struct err *e);
/* fork()/clone() with namespace flags whose child starts inside the
 * cgroup v2 directory (clone3 CLONE_INTO_CGROUP) when there is one;
 * *inside is set when that worked. Returns like fork(). */
pid_t oci_cgroup_clone(const struct oci_cgroup *cg, int ns_flags, int *inside);
/* Move pid into the existing cgroup (exec). */
int oci_cgroup_join(const struct oci_cgroup *cg, pid_t pid, struct err *e);
/* Apply resource limits. */
int oci_cgroup_apply(const struct oci_cgroup *cg, const struct oci_resources *r, struct err *e);
/* Kill what is left (if kill_procs) and remove the cgroup directories. */
int oci_cgroup_destroy(const struct oci_cgroup *cg, int kill_procs, struct err *e);
/* Processes in the cgroup (malloc'd array). */
int oci_cgroup_pids(const struct oci_cgroup *cg, pid_t **pids, size_t *n, struct err *e);
int oci_cgroup_freeze(const struct oci_cgroup *cg, int freeze, struct err *e);
int oci_cgroup_is_frozen(const struct oci_cgroup *cg);

struct oci_cgroup_stats {
	long long mem_usage, mem_limit, mem_max_usage, pids_current, pids_limit;
	long long cpu_usage_ns, oom_kills;
};
void oci_cgroup_stats(const struct oci_cgroup *cg, struct oci_cgroup_stats *s);

/* cgroup v2 cpu.weight from v1-style cpu shares. */
unsigned long long oci_cgroup_shares_to_weight(unsigned long long shares);

#endif
