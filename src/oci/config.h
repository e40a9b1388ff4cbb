/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI runtime-spec config.json as C data, parsed and validated with
 * json-c. Everything points into one arena owned by the config. Unknown
 * fields are ignored (as the spec requires); known fields with a wrong type
 * or value, and known features capsa does not implement, are errors naming
 * the field. */
#ifndef CAPSA_OCI_CONFIG_H
#define CAPSA_OCI_CONFIG_H

#include "lib/err.h"
#include "oci/util.h"

#include <stdint.h>
#include <sys/types.h>

struct json_object;

struct oci_idmap {
	uint32_t container_id, host_id, size;
};

struct oci_mount {
	const char *destination, *source, *type;
	unsigned long flags;       /* MS_* from options */
	unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC) */
	int bind, recursive, readonly;
	const char *data; /* remaining options joined with ',' */
	struct oci_idmap *uid_map, *gid_map;
	size_t n_uid_map, n_gid_map;
	int idmap; /* "idmap"/"ridmap" option or mappings present */
};

struct oci_rlimit {
	int resource;
	uint64_t soft, hard;
};

struct oci_caps {
	/* CAP_* numbers; sets[i] has n[i] entries. */
	int *set[5];
	size_t n[5];
	int present[5];
};
enum {
	OCI_CAP_BOUNDING,
	OCI_CAP_EFFECTIVE,
	OCI_CAP_INHERITABLE,
	OCI_CAP_PERMITTED,
	OCI_CAP_AMBIENT
};

struct oci_process {
	int terminal;
	uint32_t uid, gid;
	uint32_t *groups;
	size_t n_groups;
	int has_umask;
	mode_t umask;
	char **args; /* NULL-terminated */
	char **env;  /* NULL-terminated */
	const char *cwd;
	struct oci_caps caps;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	int no_new_privileges;
	int has_oom_score_adj;
	int oom_score_adj;
	const char *apparmor, *selinux_label;
	int has_ioprio, ioprio_class, ioprio_level;
	struct {
		int present, policy, nice, priority;
		uint64_t flags, runtime, deadline, period;
	} sched;
	const char *cpu_affinity; /* execCPUAffinity.final (or .initial), a cpu list */
};

struct oci_namespace {
	int type; /* CLONE_NEW* */
	const char *path;
};

struct oci_device {
	char type; /* c, b, u, p */
	const char *path;
	int64_t major, minor;
	int has_mode, has_uid, has_gid;
	mode_t mode;
	uint32_t uid, gid;
};

struct oci_dev_rule {
	int allow;
	char type;            /* a, c, b */
	int64_t major, minor; /* -1 = any */
	char access[4];
};

struct oci_blkio_dev {
	int64_t major, minor;
	uint64_t value; /* weight or rate */
	int has_value, has_leaf;
	uint64_t leaf;
};

struct oci_hugepage {
	const char *size;
	uint64_t limit;
};

#define OCI_UNSET INT64_MIN
struct oci_resources {
	int64_t mem_limit, mem_swap, mem_reservation, mem_swappiness;
	int mem_disable_oom_killer;
	int64_t cpu_shares, cpu_quota, cpu_period, cpu_rt_runtime, cpu_rt_period;
	const char *cpus, *mems;
	int64_t pids_limit;
	int64_t blkio_weight, blkio_leaf_weight;
	struct oci_blkio_dev *blk_weight, *blk_rbps, *blk_wbps, *blk_riops, *blk_wiops;
	size_t n_blk_weight, n_blk_rbps, n_blk_wbps, n_blk_riops, n_blk_wiops;
	struct oci_hugepage *hugepages;
	size_t n_hugepages;
	struct oci_dev_rule *devices;
	size_t n_devices;
	/* cgroup v2 "unified" key/value pairs */
	const char **unified_keys, **unified_values;
	size_t n_unified;
	int present;
};

struct oci_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	int op; /* enum scmp_compare */
};
struct oci_seccomp_rule {
	const char **names;
	size_t n_names;
	uint32_t action; /* SCMP_ACT_* (errno/trace filled) */
	struct oci_seccomp_arg *args;
	size_t n_args;
};
struct oci_seccomp {
	uint32_t default_action;
	uint32_t *archs; /* SCMP_ARCH_* */
	size_t n_archs;
	unsigned flags; /* OCI_SECCOMP_FLAG_* */
	struct oci_seccomp_rule *rules;
	size_t n_rules;
	const char *listener_path, *listener_metadata;
};
#define OCI_SECCOMP_FLAG_TSYNC         1u
#define OCI_SECCOMP_FLAG_LOG           2u
#define OCI_SECCOMP_FLAG_SPEC_OFF      4u
#define OCI_SECCOMP_FLAG_WAIT_KILLABLE 8u

struct oci_hook {
	const char *path;
	char **args; /* NULL-terminated, may be NULL */
	char **env;
	int timeout; /* seconds, 0 = none */
};
enum {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_KINDS
};

struct oci_sysctl {
	const char *key, *value;
};
struct oci_time_offset {
	const char *clock; /* "monotonic" or "boottime" */
	int64_t secs;
	uint32_t nanosecs;
};

struct oci_config {
	struct arena arena;
	struct json_object *json; /* the parsed document */
	const char *oci_version;
	const char *root_path; /* absolute (joined with the bundle) */
	int root_readonly;
	const char *hostname, *domainname;
	int has_process;
	struct oci_process process;
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_hook *hooks[OCI_HOOK_KINDS];
	size_t n_hooks[OCI_HOOK_KINDS];
	/* linux */
	struct oci_namespace *namespaces;
	size_t n_namespaces;
	struct oci_idmap *uid_map, *gid_map;
	size_t n_uid_map, n_gid_map;
	struct oci_device *devices;
	size_t n_devices;
	const char *cgroups_path;
	struct oci_resources resources;
	struct oci_seccomp *seccomp;
	struct oci_sysctl *sysctls;
	size_t n_sysctls;
	const char **masked_paths, **readonly_paths;
	size_t n_masked, n_readonly;
	unsigned long rootfs_propagation; /* 0 = default (rslave) */
	const char *mount_label;
	struct oci_time_offset *time_offsets;
	size_t n_time_offsets;
	int has_personality;
	unsigned long personality;
	const char **annotation_keys, **annotation_values;
	size_t n_annotations;
	/* Something accepted but ignored, for the user to see; NULL if none. */
	const char *warning;
};

/* Parse config.json text; bundle is used to resolve a relative root.path. */
struct oci_config *oci_config_parse(const char *text, const char *bundle, struct err *e);
/* Read BUNDLE/config.json and parse it. */
struct oci_config *oci_config_load(const char *bundle, struct err *e);
void oci_config_free(struct oci_config *c);

/* Parse a "process" object on its own (exec --process FILE). */
int oci_config_parse_process(struct oci_config *c, const char *text, struct err *e);
/* Parse a linux.resources object on its own (update -r FILE) into r. */
int oci_config_parse_resources(struct oci_config *c, const char *text, struct oci_resources *r,
                               struct err *e);

/* An error that names a config field ("mounts[2]: ...", "linux.devices...")
 * gets the "config.json: " the parser's own errors start with, wherever it
 * was found (runtime or container init). */
void oci_config_err_context(struct err *e);

/* Namespace lookup: the entry for CLONE_NEW* type, or NULL. */
const struct oci_namespace *oci_config_ns(const struct oci_config *c, int type);
/* Name of a CLONE_NEW* flag as used in config.json ("pid", "network", ...). */
const char *oci_ns_name(int type);
/* Capability name ("CAP_SYS_ADMIN") to number, -1 if unknown. */
int oci_cap_from_name(const char *name);
const char *oci_cap_name(int cap);

/* Internal to the parser (config*.c, seccomp.c). */
#define CFG_NEW(c, type, n) ((type *)arena_alloc(&(c)->arena, sizeof(type) * (n)))
/* "out of memory parsing config.json"; returns -1. */
int cfg_oom(struct err *e);
struct json_object *cfg_get(struct json_object *obj, const char *key);
int cfg_string(struct oci_config *c, struct json_object *o, const char *field, const char **out,
               struct err *e);
int cfg_strv(struct oci_config *c, struct json_object *o, const char *field, char ***out, size_t *n,
             struct err *e);
int cfg_int64(struct json_object *o, const char *field, int64_t *out, struct err *e);
/* cfg_int64() and "FIELD: N not in LO..HI" unless lo <= N <= hi. */
int cfg_int64_in(struct json_object *o, const char *field, int64_t lo, int64_t hi, int64_t *out,
                 struct err *e);
int cfg_uint(struct json_object *o, const char *field, uint64_t max, uint64_t *out, struct err *e);
int cfg_bool(struct json_object *o, const char *field, int *out, struct err *e);
int cfg_idmaps(struct oci_config *c, struct json_object *o, const char *field,
               struct oci_idmap **out, size_t *n, struct err *e);
int cfg_parse_linux(struct oci_config *c, struct json_object *linux_obj, struct err *e);
/* linux.resources (o may be NULL: everything unset). */
int cfg_parse_resources(struct oci_config *c, struct json_object *o, struct oci_resources *r,
                        struct err *e);
/* Add a printf-style message to c->warning (joined with "; "). */
void cfg_warn(struct oci_config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cfg_parse_seccomp(struct oci_config *c, struct json_object *o, struct err *e);
/* process.ioPriority, process.scheduler, process.execCPUAffinity */
int cfg_parse_process_sched(struct oci_config *c, struct json_object *o, struct oci_process *p,
                            struct err *e);
int cfg_parse_personality(struct oci_config *c, struct json_object *o, struct err *e);
/* Parse a cpu list ("0-3,6") into a cpu_set_t (void * to keep sched.h out). */
int oci_parse_cpu_list(const char *s, void *set);

#endif
