/* SPDX-License-Identifier: Apache-2.0 */
/* config.json: top level, root, process, mounts, hooks. The linux section
 * is in config_linux.c, seccomp in config_seccomp.c. */
#include "oci/config.h"
#include "lib/file.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

struct json_object *cfg_get(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;
	if (!obj || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	if (json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

int cfg_oom(struct err *e)
{
	return err_set(e, ERR_SYSTEM, "out of memory parsing config.json");
}

void oci_config_err_context(struct err *e)
{
	static const char *const fields[] = {"ociVersion", "root",       "process",
	                                     "hostname",   "domainname", "mounts",
	                                     "hooks",      "linux",      "annotations"};
	if (!strncmp(e->msg, "config.json: ", 13))
		return;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t n = strlen(fields[i]);
		if (!strncmp(e->msg, fields[i], n) && strchr(".[: ", e->msg[n])) {
			err_prefix(e, "config.json");
			return;
		}
	}
}

void cfg_warn(struct oci_config *c, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX], *joined;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t old = c->warning ? strlen(c->warning) : 0;
	joined = arena_alloc(&c->arena, old + strlen(msg) + 3);
	if (!joined)
		return; /* a warning is not worth failing for */
	sprintf(joined, "%s%s%s", old ? c->warning : "", old ? "; " : "", msg);
	c->warning = joined;
}

int cfg_string(struct oci_config *c, struct json_object *o, const char *field, const char **out,
               struct err *e)
{
	(void)c;
	if (!json_object_is_type(o, json_type_string))
		return err_set(e, ERR_INPUT, "config.json: %s: must be a string", field);
	const char *s = json_object_get_string(o);
	if (strlen(s) != (size_t)json_object_get_string_len(o))
		return err_set(e, ERR_INPUT, "config.json: %s: contains a NUL byte", field);
	*out = s;
	return 0;
}

int cfg_strv(struct oci_config *c, struct json_object *o, const char *field, char ***out, size_t *n,
             struct err *e)
{
	if (!json_object_is_type(o, json_type_array))
		return err_set(e, ERR_INPUT, "config.json: %s: must be an array of strings", field);
	size_t len = json_object_array_length(o);
	char **v = CFG_NEW(c, char *, len + 1);
	if (!v)
		return cfg_oom(e);
	for (size_t i = 0; i < len; i++) {
		char name[128];
		snprintf(name, sizeof(name), "%s[%zu]", field, i);
		const char *s;
		if (cfg_string(c, json_object_array_get_idx(o, i), name, &s, e) < 0)
			return -1;
		v[i] = (char *)s;
	}
	*out = v;
	if (n)
		*n = len;
	return 0;
}

int cfg_int64(struct json_object *o, const char *field, int64_t *out, struct err *e)
{
	if (!json_object_is_type(o, json_type_int))
		return err_set(e, ERR_INPUT, "config.json: %s: must be an integer", field);
	errno = 0;
	int64_t v = json_object_get_int64(o);
	if (errno == ERANGE || (v == INT64_MAX && json_object_get_uint64(o) > INT64_MAX))
		return err_set(e, ERR_INPUT, "config.json: %s: out of range", field);
	*out = v;
	return 0;
}

int cfg_int64_in(struct json_object *o, const char *field, int64_t lo, int64_t hi, int64_t *out,
                 struct err *e)
{
	int64_t v;
	if (cfg_int64(o, field, &v, e) < 0)
		return -1;
	if (v < lo || v > hi)
		return err_set(e, ERR_INPUT, "config.json: %s: %lld not in %lld..%lld", field,
		               (long long)v, (long long)lo, (long long)hi);
	*out = v;
	return 0;
}

int cfg_uint(struct json_object *o, const char *field, uint64_t max, uint64_t *out, struct err *e)
{
	if (!json_object_is_type(o, json_type_int))
		return err_set(e, ERR_INPUT, "config.json: %s: must be an integer", field);
	int64_t s = json_object_get_int64(o);
	uint64_t v = json_object_get_uint64(o);
	if (s < 0 && v == 0)
		return err_set(e, ERR_INPUT, "config.json: %s: must not be negative", field);
	if (v > max)
		return err_set(e, ERR_INPUT, "config.json: %s: %llu is larger than %llu", field,
		               (unsigned long long)v, (unsigned long long)max);
	*out = v;
	return 0;
}

int cfg_bool(struct json_object *o, const char *field, int *out, struct err *e)
{
	if (!json_object_is_type(o, json_type_boolean))
		return err_set(e, ERR_INPUT, "config.json: %s: must be true or false", field);
	*out = json_object_get_boolean(o);
	return 0;
}

int cfg_idmaps(struct oci_config *c, struct json_object *o, const char *field,
               struct oci_idmap **out, size_t *n, struct err *e)
{
	if (!json_object_is_type(o, json_type_array))
		return err_set(e, ERR_INPUT, "config.json: %s: must be an array", field);
	size_t len = json_object_array_length(o);
	if (len > 340)
		return err_set(e, ERR_INPUT, "config.json: %s: more than 340 entries", field);
	struct oci_idmap *m = CFG_NEW(c, struct oci_idmap, len + 1);
	if (!m)
		return cfg_oom(e);
	for (size_t i = 0; i < len; i++) {
		struct json_object *it = json_object_array_get_idx(o, i);
		const char *keys[3] = {"containerID", "hostID", "size"};
		uint32_t *dst[3] = {&m[i].container_id, &m[i].host_id, &m[i].size};
		for (int k = 0; k < 3; k++) {
			char name[128];
			uint64_t v;
			snprintf(name, sizeof(name), "%s[%zu].%s", field, i, keys[k]);
			struct json_object *f = cfg_get(it, keys[k]);
			if (!f)
				return err_set(e, ERR_INPUT, "config.json: %s: missing", name);
			if (cfg_uint(f, name, UINT32_MAX, &v, e) < 0)
				return -1;
			*dst[k] = (uint32_t)v;
		}
		if (m[i].size == 0)
			return err_set(e, ERR_INPUT, "config.json: %s[%zu].size: must not be 0",
			               field, i);
	}
	*out = m;
	*n = len;
	return 0;
}

/* ---- capabilities ---- */

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define N_CAPS ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

int oci_cap_from_name(const char *name)
{
	for (int i = 0; i < N_CAPS; i++)
		if (!strcasecmp(name, cap_names[i]))
			return i;
	return -1;
}

const char *oci_cap_name(int cap)
{
	return cap >= 0 && cap < N_CAPS ? cap_names[cap] : NULL;
}

static int parse_caps(struct oci_config *c, struct json_object *o, struct oci_caps *caps,
                      struct err *e)
{
	static const char *const sets[5] = {"bounding", "effective", "inheritable", "permitted",
	                                    "ambient"};
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, ERR_INPUT,
		               "config.json: process.capabilities: must be an object");
	for (int s = 0; s < 5; s++) {
		struct json_object *a = cfg_get(o, sets[s]);
		char field[64];
		snprintf(field, sizeof(field), "process.capabilities.%s", sets[s]);
		if (!a)
			continue;
		char **names;
		size_t n;
		if (cfg_strv(c, a, field, &names, &n, e) < 0)
			return -1;
		caps->set[s] = CFG_NEW(c, int, n + 1);
		if (!caps->set[s])
			return cfg_oom(e);
		for (size_t i = 0; i < n; i++) {
			int v = oci_cap_from_name(names[i]);
			if (v < 0)
				return err_set(e, ERR_INPUT,
				               "config.json: %s: unknown capability '%s'", field,
				               names[i]);
			caps->set[s][i] = v;
		}
		caps->n[s] = n;
		caps->present[s] = 1;
	}
	/* The kernel raises an ambient capability only when it is permitted and
	 * inheritable; runc and crun skip the others (`runc spec` lists ambient
	 * ones that are not inheritable), and so does capsa, with a warning. */
	char left_out[ERR_MSG_MAX / 2] = "";
	size_t kept = 0, lo = 0;
	for (size_t i = 0; i < caps->n[OCI_CAP_AMBIENT]; i++) {
		int v = caps->set[OCI_CAP_AMBIENT][i], ok[2] = {0, 0};
		const int need[2] = {OCI_CAP_PERMITTED, OCI_CAP_INHERITABLE};
		for (int k = 0; k < 2; k++)
			for (size_t j = 0; j < caps->n[need[k]]; j++)
				ok[k] |= caps->set[need[k]][j] == v;
		if (ok[0] && ok[1])
			caps->set[OCI_CAP_AMBIENT][kept++] = v;
		else if (lo < sizeof(left_out))
			lo += (size_t)snprintf(left_out + lo, sizeof(left_out) - lo, "%s%s",
			                       lo ? ", " : "", oci_cap_name(v));
	}
	if (kept < caps->n[OCI_CAP_AMBIENT])
		cfg_warn(c,
		         "process.capabilities.ambient: %s left out (ambient capabilities must "
		         "also be permitted and inheritable)",
		         left_out);
	caps->n[OCI_CAP_AMBIENT] = kept;
	return 0;
}

/* ---- rlimits ---- */

static const struct {
	const char *name;
	int res;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimits(struct oci_config *c, struct json_object *o, struct oci_process *p,
                         struct err *e)
{
	if (!json_object_is_type(o, json_type_array))
		return err_set(e, ERR_INPUT, "config.json: process.rlimits: must be an array");
	size_t n = json_object_array_length(o);
	p->rlimits = CFG_NEW(c, struct oci_rlimit, n + 1);
	if (!p->rlimits)
		return cfg_oom(e);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(o, i);
		char field[96];
		const char *type;
		snprintf(field, sizeof(field), "process.rlimits[%zu].type", i);
		if (!cfg_get(it, "type"))
			return err_set(e, ERR_INPUT, "config.json: %s: missing", field);
		if (cfg_string(c, cfg_get(it, "type"), field, &type, e) < 0)
			return -1;
		int res = -1;
		for (size_t k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (!strcmp(type, rlimit_names[k].name))
				res = rlimit_names[k].res;
		if (res < 0)
			return err_set(e, ERR_INPUT, "config.json: %s: unknown rlimit '%s'", field,
			               type);
		for (size_t k = 0; k < i; k++)
			if (p->rlimits[k].resource == res)
				return err_set(e, ERR_INPUT, "config.json: %s: '%s' given twice",
				               field, type);
		uint64_t soft, hard;
		snprintf(field, sizeof(field), "process.rlimits[%zu].soft", i);
		if (!cfg_get(it, "soft") ||
		    cfg_uint(cfg_get(it, "soft"), field, UINT64_MAX, &soft, e))
			return e->kind ? -1
			               : err_set(e, ERR_INPUT, "config.json: %s: missing", field);
		snprintf(field, sizeof(field), "process.rlimits[%zu].hard", i);
		if (!cfg_get(it, "hard") ||
		    cfg_uint(cfg_get(it, "hard"), field, UINT64_MAX, &hard, e))
			return e->kind ? -1
			               : err_set(e, ERR_INPUT, "config.json: %s: missing", field);
		if (soft > hard)
			return err_set(
			    e, ERR_INPUT,
			    "config.json: process.rlimits[%zu]: soft %llu above hard %llu", i,
			    (unsigned long long)soft, (unsigned long long)hard);
		p->rlimits[i] = (struct oci_rlimit){res, soft, hard};
	}
	p->n_rlimits = n;
	return 0;
}

static int parse_process(struct oci_config *c, struct json_object *o, struct err *e)
{
	struct oci_process *p = &c->process;
	struct json_object *v;
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, ERR_INPUT, "config.json: process: must be an object");
	memset(p, 0, sizeof(*p));
	if ((v = cfg_get(o, "terminal")) && cfg_bool(v, "process.terminal", &p->terminal, e) < 0)
		return -1;
	if ((v = cfg_get(o, "consoleSize")) && !json_object_is_type(v, json_type_object))
		return err_set(e, ERR_INPUT, "config.json: process.consoleSize: must be an object");
	struct json_object *user = cfg_get(o, "user");
	if (!user)
		return err_set(e, ERR_INPUT, "config.json: process.user: missing");
	uint64_t u;
	if (!(v = cfg_get(user, "uid")))
		return err_set(e, ERR_INPUT, "config.json: process.user.uid: missing");
	if (cfg_uint(v, "process.user.uid", UINT32_MAX - 1, &u, e) < 0)
		return -1;
	p->uid = (uint32_t)u;
	if (!(v = cfg_get(user, "gid")))
		return err_set(e, ERR_INPUT, "config.json: process.user.gid: missing");
	if (cfg_uint(v, "process.user.gid", UINT32_MAX - 1, &u, e) < 0)
		return -1;
	p->gid = (uint32_t)u;
	if ((v = cfg_get(user, "umask"))) {
		if (cfg_uint(v, "process.user.umask", 0777, &u, e) < 0)
			return -1;
		p->has_umask = 1;
		p->umask = (mode_t)u;
	}
	if ((v = cfg_get(user, "username")))
		return err_set(e, ERR_INPUT, "config.json: process.user.username: Windows only");
	if ((v = cfg_get(user, "additionalGids"))) {
		if (!json_object_is_type(v, json_type_array))
			return err_set(
			    e, ERR_INPUT,
			    "config.json: process.user.additionalGids: must be an array");
		size_t n = json_object_array_length(v);
		if (n > 65536)
			return err_set(e, ERR_INPUT,
			               "config.json: process.user.additionalGids: too many");
		p->groups = CFG_NEW(c, uint32_t, n + 1);
		if (!p->groups)
			return cfg_oom(e);
		for (size_t i = 0; i < n; i++) {
			if (cfg_uint(json_object_array_get_idx(v, i), "process.user.additionalGids",
			             UINT32_MAX - 1, &u, e) < 0)
				return -1;
			p->groups[i] = (uint32_t)u;
		}
		p->n_groups = n;
	}
	size_t n;
	if (!(v = cfg_get(o, "args")))
		return err_set(e, ERR_INPUT, "config.json: process.args: missing");
	if (cfg_strv(c, v, "process.args", &p->args, &n, e) < 0)
		return -1;
	if (n == 0 || !p->args[0][0])
		return err_set(e, ERR_INPUT, "config.json: process.args: must not be empty");
	if ((v = cfg_get(o, "commandLine")))
		return err_set(e, ERR_INPUT, "config.json: process.commandLine: Windows only");
	if ((v = cfg_get(o, "env"))) {
		if (cfg_strv(c, v, "process.env", &p->env, &n, e) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (!strchr(p->env[i], '=') || p->env[i][0] == '=')
				return err_set(
				    e, ERR_INPUT,
				    "config.json: process.env[%zu]: '%.64s' is not KEY=VALUE", i,
				    p->env[i]);
	} else {
		p->env = CFG_NEW(c, char *, 1);
		if (!p->env)
			return cfg_oom(e);
	}
	if (!(v = cfg_get(o, "cwd")))
		return err_set(e, ERR_INPUT, "config.json: process.cwd: missing");
	if (cfg_string(c, v, "process.cwd", &p->cwd, e) < 0)
		return -1;
	if (p->cwd[0] != '/')
		return err_set(e, ERR_INPUT, "config.json: process.cwd: '%s' is not absolute",
		               p->cwd);
	if ((v = cfg_get(o, "capabilities")) && parse_caps(c, v, &p->caps, e) < 0)
		return -1;
	if ((v = cfg_get(o, "rlimits")) && parse_rlimits(c, v, p, e) < 0)
		return -1;
	if ((v = cfg_get(o, "noNewPrivileges")) &&
	    cfg_bool(v, "process.noNewPrivileges", &p->no_new_privileges, e) < 0)
		return -1;
	if ((v = cfg_get(o, "oomScoreAdj"))) {
		int64_t s;
		if (cfg_int64_in(v, "process.oomScoreAdj", -1000, 1000, &s, e) < 0)
			return -1;
		p->has_oom_score_adj = 1;
		p->oom_score_adj = (int)s;
	}
	if ((v = cfg_get(o, "apparmorProfile")) &&
	    cfg_string(c, v, "process.apparmorProfile", &p->apparmor, e) < 0)
		return -1;
	if ((v = cfg_get(o, "selinuxLabel")) &&
	    cfg_string(c, v, "process.selinuxLabel", &p->selinux_label, e) < 0)
		return -1;
	if (p->selinux_label && p->selinux_label[0])
		return err_set(e, ERR_INPUT,
		               "config.json: process.selinuxLabel: SELinux is not supported");
	if (cfg_parse_process_sched(c, o, p, e) < 0)
		return -1;
	return 0;
}

int oci_config_parse_process(struct oci_config *c, const char *text, struct err *e)
{
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return cfg_oom(e);
	struct json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	enum json_tokener_error je = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!o || je != json_tokener_success) {
		json_object_put(o);
		return err_set(e, ERR_INPUT, "process.json: not valid JSON: %s",
		               json_tokener_error_desc(je));
	}
	/* Keep the object alive as long as the config (strings point into it). */
	if (json_object_object_add(c->json, "\x01process-override", o) < 0) {
		json_object_put(o);
		return cfg_oom(e);
	}
	int r = parse_process(c, o, e);
	if (r == 0)
		c->has_process = 1;
	return r;
}

/* ---- mounts ---- */

static const struct {
	const char *name;
	int clear;
	unsigned long flag;
} mount_flags[] = {
    {"ro", 0, MS_RDONLY},
    {"rw", 1, MS_RDONLY},
    {"nosuid", 0, MS_NOSUID},
    {"suid", 1, MS_NOSUID},
    {"nodev", 0, MS_NODEV},
    {"dev", 1, MS_NODEV},
    {"noexec", 0, MS_NOEXEC},
    {"exec", 1, MS_NOEXEC},
    {"sync", 0, MS_SYNCHRONOUS},
    {"async", 1, MS_SYNCHRONOUS},
    {"dirsync", 0, MS_DIRSYNC},
    {"remount", 0, MS_REMOUNT},
    {"mand", 0, MS_MANDLOCK},
    {"nomand", 1, MS_MANDLOCK},
    {"atime", 1, MS_NOATIME},
    {"noatime", 0, MS_NOATIME},
    {"diratime", 1, MS_NODIRATIME},
    {"nodiratime", 0, MS_NODIRATIME},
    {"relatime", 0, MS_RELATIME},
    {"norelatime", 1, MS_RELATIME},
    {"strictatime", 0, MS_STRICTATIME},
    {"nostrictatime", 1, MS_STRICTATIME},
    {"silent", 0, MS_SILENT},
    {"loud", 1, MS_SILENT},
    {"defaults", 0, 0},
};
static const struct {
	const char *name;
	unsigned long flag;
} prop_flags[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

unsigned long oci_propagation_flag(const char *name);
unsigned long oci_propagation_flag(const char *name)
{
	for (size_t i = 0; i < sizeof(prop_flags) / sizeof(prop_flags[0]); i++)
		if (!strcmp(name, prop_flags[i].name))
			return prop_flags[i].flag;
	return 0;
}

static int parse_mount_options(struct oci_config *c, struct oci_mount *m, char **opts, size_t n,
                               size_t idx, struct err *e)
{
	size_t datalen = 0;
	for (size_t i = 0; i < n; i++)
		datalen += strlen(opts[i]) + 1;
	char *data = arena_alloc(&c->arena, datalen + 1);
	if (!data)
		return cfg_oom(e);
	for (size_t i = 0; i < n; i++) {
		const char *o = opts[i];
		int known = 0;
		for (size_t k = 0; k < sizeof(mount_flags) / sizeof(mount_flags[0]); k++) {
			if (!strcmp(o, mount_flags[k].name)) {
				if (mount_flags[k].clear)
					m->flags &= ~mount_flags[k].flag;
				else
					m->flags |= mount_flags[k].flag;
				known = 1;
			}
		}
		unsigned long pf = oci_propagation_flag(o);
		if (pf) {
			m->propagation = pf;
			known = 1;
		}
		if (!strcmp(o, "bind") || !strcmp(o, "rbind")) {
			m->bind = 1;
			m->recursive = o[0] == 'r';
			known = 1;
		}
		if (!strcmp(o, "idmap") || !strcmp(o, "ridmap")) {
			m->idmap = 1;
			known = 1;
		}
		if (!strcmp(o, "tmpcopyup") || !strcmp(o, "copy-symlink") ||
		    !strcmp(o, "notmpcopyup"))
			return err_set(e, ERR_INPUT,
			               "config.json: mounts[%zu].options: '%s' is not supported",
			               idx, o);
		if (!strncmp(o, "rro", 3) || !strcmp(o, "rrw") || !strcmp(o, "rnosuid") ||
		    !strcmp(o, "rnodev") || !strcmp(o, "rnoexec"))
			return err_set(e, ERR_INPUT,
			               "config.json: mounts[%zu].options: recursive '%s' is not "
			               "supported",
			               idx, o);
		if (!known) {
			if (*data)
				strcat(data, ",");
			strcat(data, o);
		}
	}
	m->data = data;
	m->readonly = !!(m->flags & MS_RDONLY);
	return 0;
}

static int parse_mounts(struct oci_config *c, struct json_object *o, struct err *e)
{
	if (!json_object_is_type(o, json_type_array))
		return err_set(e, ERR_INPUT, "config.json: mounts: must be an array");
	size_t n = json_object_array_length(o);
	c->mounts = CFG_NEW(c, struct oci_mount, n + 1);
	if (!c->mounts)
		return cfg_oom(e);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(o, i), *v;
		struct oci_mount *m = &c->mounts[i];
		char field[96];
		if (!json_object_is_type(it, json_type_object))
			return err_set(e, ERR_INPUT, "config.json: mounts[%zu]: must be an object",
			               i);
		snprintf(field, sizeof(field), "mounts[%zu].destination", i);
		if (!(v = cfg_get(it, "destination")))
			return err_set(e, ERR_INPUT, "config.json: %s: missing", field);
		if (cfg_string(c, v, field, &m->destination, e) < 0)
			return -1;
		if (m->destination[0] != '/')
			return err_set(e, ERR_INPUT, "config.json: %s: '%s' is not absolute", field,
			               m->destination);
		snprintf(field, sizeof(field), "mounts[%zu].source", i);
		if ((v = cfg_get(it, "source")) && cfg_string(c, v, field, &m->source, e) < 0)
			return -1;
		snprintf(field, sizeof(field), "mounts[%zu].type", i);
		if ((v = cfg_get(it, "type")) && cfg_string(c, v, field, &m->type, e) < 0)
			return -1;
		snprintf(field, sizeof(field), "mounts[%zu].options", i);
		char **opts = NULL;
		size_t nopts = 0;
		if ((v = cfg_get(it, "options")) && cfg_strv(c, v, field, &opts, &nopts, e) < 0)
			return -1;
		if (parse_mount_options(c, m, opts, nopts, i, e) < 0)
			return -1;
		if (m->type && !strcmp(m->type, "bind"))
			m->bind = 1;
		snprintf(field, sizeof(field), "mounts[%zu].uidMappings", i);
		if ((v = cfg_get(it, "uidMappings")) &&
		    cfg_idmaps(c, v, field, &m->uid_map, &m->n_uid_map, e) < 0)
			return -1;
		snprintf(field, sizeof(field), "mounts[%zu].gidMappings", i);
		if ((v = cfg_get(it, "gidMappings")) &&
		    cfg_idmaps(c, v, field, &m->gid_map, &m->n_gid_map, e) < 0)
			return -1;
		if (m->n_uid_map || m->n_gid_map) {
			if (!m->n_uid_map || !m->n_gid_map)
				return err_set(e, ERR_INPUT,
				               "config.json: mounts[%zu]: uidMappings and "
				               "gidMappings must be given together",
				               i);
			m->idmap = 1;
		}
		if (m->idmap && !m->bind)
			return err_set(
			    e, ERR_INPUT,
			    "config.json: mounts[%zu]: idmapped mounts must be bind mounts", i);
		if (m->bind && !m->source)
			return err_set(e, ERR_INPUT,
			               "config.json: mounts[%zu].source: missing for a "
			               "bind mount",
			               i);
		if (!m->bind && !m->type)
			return err_set(e, ERR_INPUT, "config.json: mounts[%zu].type: missing", i);
	}
	c->n_mounts = n;
	return 0;
}

/* ---- hooks ---- */

static int parse_hooks(struct oci_config *c, struct json_object *o, struct err *e)
{
	static const char *const kinds[OCI_HOOK_KINDS] = {"prestart",        "createRuntime",
	                                                  "createContainer", "startContainer",
	                                                  "poststart",       "poststop"};
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, ERR_INPUT, "config.json: hooks: must be an object");
	for (int k = 0; k < OCI_HOOK_KINDS; k++) {
		struct json_object *a = cfg_get(o, kinds[k]);
		if (!a)
			continue;
		if (!json_object_is_type(a, json_type_array))
			return err_set(e, ERR_INPUT, "config.json: hooks.%s: must be an array",
			               kinds[k]);
		size_t n = json_object_array_length(a);
		c->hooks[k] = CFG_NEW(c, struct oci_hook, n + 1);
		if (!c->hooks[k])
			return cfg_oom(e);
		for (size_t i = 0; i < n; i++) {
			struct json_object *it = json_object_array_get_idx(a, i), *v;
			struct oci_hook *h = &c->hooks[k][i];
			char field[96];
			snprintf(field, sizeof(field), "hooks.%s[%zu].path", kinds[k], i);
			if (!(v = cfg_get(it, "path")))
				return err_set(e, ERR_INPUT, "config.json: %s: missing", field);
			if (cfg_string(c, v, field, &h->path, e) < 0)
				return -1;
			if (h->path[0] != '/')
				return err_set(e, ERR_INPUT,
				               "config.json: %s: '%s' is not absolute", field,
				               h->path);
			snprintf(field, sizeof(field), "hooks.%s[%zu].args", kinds[k], i);
			if ((v = cfg_get(it, "args")) && cfg_strv(c, v, field, &h->args, NULL, e))
				return -1;
			snprintf(field, sizeof(field), "hooks.%s[%zu].env", kinds[k], i);
			if ((v = cfg_get(it, "env")) && cfg_strv(c, v, field, &h->env, NULL, e))
				return -1;
			snprintf(field, sizeof(field), "hooks.%s[%zu].timeout", kinds[k], i);
			if ((v = cfg_get(it, "timeout"))) {
				uint64_t t;
				if (cfg_uint(v, field, INT32_MAX, &t, e) < 0)
					return -1;
				if (t == 0)
					return err_set(e, ERR_INPUT,
					               "config.json: %s: must be positive", field);
				h->timeout = (int)t;
			}
		}
		c->n_hooks[k] = n;
	}
	return 0;
}

static int parse_annotations(struct oci_config *c, struct json_object *o, struct err *e)
{
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, ERR_INPUT, "config.json: annotations: must be an object");
	size_t n = (size_t)json_object_object_length(o), i = 0;
	c->annotation_keys = CFG_NEW(c, const char *, n + 1);
	c->annotation_values = CFG_NEW(c, const char *, n + 1);
	if (!c->annotation_keys || !c->annotation_values)
		return cfg_oom(e);
	json_object_object_foreach(o, key, val)
	{
		char field[160];
		snprintf(field, sizeof(field), "annotations.%.100s", key);
		if (cfg_string(c, val, field, &c->annotation_values[i], e) < 0)
			return -1;
		c->annotation_keys[i++] = key;
	}
	c->n_annotations = i;
	return 0;
}

struct oci_config *oci_config_parse(const char *text, const char *bundle, struct err *e)
{
	struct oci_config *c = calloc(1, sizeof(*c));
	if (!c) {
		cfg_oom(e);
		return NULL;
	}
	struct json_tokener *tok = json_tokener_new_ex(64);
	if (!tok) {
		free(c);
		cfg_oom(e);
		return NULL;
	}
	size_t len = strlen(text);
	c->json = len > INT_MAX ? NULL : json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!c->json || je != json_tokener_success) {
		err_set(e, ERR_INPUT, "config.json: not valid JSON: %s",
		        json_tokener_error_desc(je));
		goto fail;
	}
	struct json_object *root = c->json, *v;
	if (!json_object_is_type(root, json_type_object)) {
		err_set(e, ERR_INPUT, "config.json: the document must be a JSON object");
		goto fail;
	}
	if (!(v = cfg_get(root, "ociVersion"))) {
		err_set(e, ERR_INPUT, "config.json: ociVersion: missing");
		goto fail;
	}
	if (cfg_string(c, v, "ociVersion", &c->oci_version, e) < 0)
		goto fail;
	if (strncmp(c->oci_version, "1.", 2) != 0) {
		err_set(e, ERR_INPUT, "config.json: ociVersion: '%s' is not a 1.x version",
		        c->oci_version);
		goto fail;
	}
	struct json_object *r = cfg_get(root, "root");
	if (!r) {
		err_set(e, ERR_INPUT, "config.json: root: missing");
		goto fail;
	}
	const char *path;
	if (!(v = cfg_get(r, "path"))) {
		err_set(e, ERR_INPUT, "config.json: root.path: missing");
		goto fail;
	}
	if (cfg_string(c, v, "root.path", &path, e) < 0)
		goto fail;
	if (!path[0]) {
		err_set(e, ERR_INPUT, "config.json: root.path: empty");
		goto fail;
	}
	if (path[0] != '/' && bundle) {
		char *full = arena_alloc(&c->arena, strlen(bundle) + strlen(path) + 2);
		if (!full) {
			cfg_oom(e);
			goto fail;
		}
		sprintf(full, "%s/%s", bundle, path);
		path = full;
	}
	c->root_path = path;
	if ((v = cfg_get(r, "readonly")) && cfg_bool(v, "root.readonly", &c->root_readonly, e) < 0)
		goto fail;
	if ((v = cfg_get(root, "hostname")) && cfg_string(c, v, "hostname", &c->hostname, e) < 0)
		goto fail;
	if ((v = cfg_get(root, "domainname")) &&
	    cfg_string(c, v, "domainname", &c->domainname, e) < 0)
		goto fail;
	if ((v = cfg_get(root, "process"))) {
		if (parse_process(c, v, e) < 0)
			goto fail;
		c->has_process = 1;
	}
	if ((v = cfg_get(root, "mounts")) && parse_mounts(c, v, e) < 0)
		goto fail;
	if ((v = cfg_get(root, "hooks")) && parse_hooks(c, v, e) < 0)
		goto fail;
	if ((v = cfg_get(root, "annotations")) && parse_annotations(c, v, e) < 0)
		goto fail;
	for (const char *const *p = (const char *const[]){"windows", "solaris", "vm", "zos", NULL};
	     *p; p++) {
		if (cfg_get(root, *p)) {
			err_set(e, ERR_INPUT,
			        "config.json: %s: not supported by this Linux runtime", *p);
			goto fail;
		}
	}
	c->resources.present = 0;
	if (cfg_parse_linux(c, cfg_get(root, "linux"), e) < 0)
		goto fail;
	return c;
fail:
	oci_config_free(c);
	return NULL;
}

struct oci_config *oci_config_load(const char *bundle, struct err *e)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path)) {
		err_set(e, ERR_INPUT, "bundle path too long");
		return NULL;
	}
	char *text = file_read(path, 16u << 20, NULL, e);
	if (!text) {
		if (e->errnum == ENOENT)
			e->kind = ERR_INPUT;
		return NULL;
	}
	struct oci_config *c = oci_config_parse(text, bundle, e);
	free(text);
	return c;
}

void oci_config_free(struct oci_config *c)
{
	if (!c)
		return;
	json_object_put(c->json);
	arena_free(&c->arena);
	free(c);
}
