/* SPDX-License-Identifier: Apache-2.0 */
/* config.json: the "linux" section (namespaces, id mappings, devices,
 * cgroup resources, sysctls, masked and readonly paths). */
#include "oci/config.h"

#include <json-c/json.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define NEW(c, type, n) ((type *)arena_alloc(&(c)->arena, sizeof(type) * (n)))

unsigned long oci_propagation_flag(const char *name);

static const struct {
	const char *name;
	int type;
} ns_names[] = {
    {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
    {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

const char *oci_ns_name(int type)
{
	for (size_t i = 0; i < sizeof(ns_names) / sizeof(ns_names[0]); i++)
		if (ns_names[i].type == type)
			return ns_names[i].name;
	return "?";
}

const struct oci_namespace *oci_config_ns(const struct oci_config *c, int type)
{
	for (size_t i = 0; i < c->n_namespaces; i++)
		if (c->namespaces[i].type == type)
			return &c->namespaces[i];
	return NULL;
}

static int oom(struct err *e)
{
	return err_set(e, ERR_SYSTEM, "out of memory parsing config.json");
}

static int parse_namespaces(struct oci_config *c, struct json_object *o, struct err *e)
{
	if (!json_object_is_type(o, json_type_array))
		return err_set(e, ERR_INPUT, "config.json: linux.namespaces: must be an array");
	size_t n = json_object_array_length(o);
	c->namespaces = NEW(c, struct oci_namespace, n + 1);
	if (!c->namespaces)
		return oom(e);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(o, i), *v;
		char field[96];
		const char *type;
		snprintf(field, sizeof(field), "linux.namespaces[%zu].type", i);
		if (!(v = cfg_get(it, "type")))
			return err_set(e, ERR_INPUT, "config.json: %s: missing", field);
		if (cfg_string(c, v, field, &type, e) < 0)
			return -1;
		int t = 0;
		for (size_t k = 0; k < sizeof(ns_names) / sizeof(ns_names[0]); k++)
			if (!strcmp(type, ns_names[k].name))
				t = ns_names[k].type;
		if (!t)
			return err_set(e, ERR_INPUT, "config.json: %s: unknown namespace type '%s'",
			               field, type);
		for (size_t k = 0; k < i; k++)
			if (c->namespaces[k].type == t)
				return err_set(e, ERR_INPUT,
				               "config.json: %s: namespace '%s' given twice", field,
				               type);
		c->namespaces[i].type = t;
		snprintf(field, sizeof(field), "linux.namespaces[%zu].path", i);
		if ((v = cfg_get(it, "path"))) {
			if (cfg_string(c, v, field, &c->namespaces[i].path, e) < 0)
				return -1;
			if (c->namespaces[i].path[0] != '/')
				return err_set(e, ERR_INPUT,
				               "config.json: %s: '%s' is not absolute", field,
				               c->namespaces[i].path);
		}
	}
	c->n_namespaces = n;
	return 0;
}

static int parse_devices(struct oci_config *c, struct json_object *o, struct err *e)
{
	if (!json_object_is_type(o, json_type_array))
		return err_set(e, ERR_INPUT, "config.json: linux.devices: must be an array");
	size_t n = json_object_array_length(o);
	c->devices = NEW(c, struct oci_device, n + 1);
	if (!c->devices)
		return oom(e);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(o, i), *v;
		struct oci_device *d = &c->devices[i];
		char field[96];
		const char *s;
		uint64_t u;
		snprintf(field, sizeof(field), "linux.devices[%zu].type", i);
		if (!(v = cfg_get(it, "type")))
			return err_set(e, ERR_INPUT, "config.json: %s: missing", field);
		if (cfg_string(c, v, field, &s, e) < 0)
			return -1;
		if (strlen(s) != 1 || !strchr("cbup", s[0]))
			return err_set(e, ERR_INPUT, "config.json: %s: '%s' is not c, b, u or p",
			               field, s);
		d->type = s[0];
		snprintf(field, sizeof(field), "linux.devices[%zu].path", i);
		if (!(v = cfg_get(it, "path")))
			return err_set(e, ERR_INPUT, "config.json: %s: missing", field);
		if (cfg_string(c, v, field, &d->path, e) < 0)
			return -1;
		if (d->path[0] != '/')
			return err_set(e, ERR_INPUT, "config.json: %s: '%s' is not absolute", field,
			               d->path);
		const char *num[2] = {"major", "minor"};
		int64_t *dst[2] = {&d->major, &d->minor};
		for (int k = 0; k < 2; k++) {
			snprintf(field, sizeof(field), "linux.devices[%zu].%s", i, num[k]);
			v = cfg_get(it, num[k]);
			if (!v && d->type != 'p')
				return err_set(e, ERR_INPUT, "config.json: %s: missing", field);
			if (v && cfg_uint(v, field, 0xfffff, &u, e) < 0)
				return -1;
			*dst[k] = v ? (int64_t)u : 0;
		}
		snprintf(field, sizeof(field), "linux.devices[%zu].fileMode", i);
		if ((v = cfg_get(it, "fileMode"))) {
			if (cfg_uint(v, field, 07777, &u, e) < 0)
				return -1;
			d->has_mode = 1;
			d->mode = (mode_t)u;
		}
		snprintf(field, sizeof(field), "linux.devices[%zu].uid", i);
		if ((v = cfg_get(it, "uid"))) {
			if (cfg_uint(v, field, UINT32_MAX - 1, &u, e) < 0)
				return -1;
			d->has_uid = 1;
			d->uid = (uint32_t)u;
		}
		snprintf(field, sizeof(field), "linux.devices[%zu].gid", i);
		if ((v = cfg_get(it, "gid"))) {
			if (cfg_uint(v, field, UINT32_MAX - 1, &u, e) < 0)
				return -1;
			d->has_gid = 1;
			d->gid = (uint32_t)u;
		}
	}
	c->n_devices = n;
	return 0;
}

static int get_i64(struct json_object *o, const char *key, const char *prefix, int64_t *out,
                   struct err *e)
{
	struct json_object *v = cfg_get(o, key);
	char field[128];
	if (!v)
		return 0;
	snprintf(field, sizeof(field), "%s.%s", prefix, key);
	return cfg_int64(v, field, out, e);
}

static int parse_blkio_devs(struct oci_config *c, struct json_object *o, const char *field,
                            int weight, struct oci_blkio_dev **out, size_t *n, struct err *e)
{
	if (!json_object_is_type(o, json_type_array))
		return err_set(e, ERR_INPUT, "config.json: %s: must be an array", field);
	size_t len = json_object_array_length(o);
	struct oci_blkio_dev *d = NEW(c, struct oci_blkio_dev, len + 1);
	if (!d)
		return oom(e);
	for (size_t i = 0; i < len; i++) {
		struct json_object *it = json_object_array_get_idx(o, i), *v;
		char f[160];
		uint64_t u;
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if (!(v = cfg_get(it, "major")) || cfg_uint(v, f, 0xfffff, &u, e) < 0)
			return e->kind ? -1
			               : err_set(e, ERR_INPUT, "config.json: %s.major: missing", f);
		d[i].major = (int64_t)u;
		if (!(v = cfg_get(it, "minor")) || cfg_uint(v, f, 0xfffff, &u, e) < 0)
			return e->kind ? -1
			               : err_set(e, ERR_INPUT, "config.json: %s.minor: missing", f);
		d[i].minor = (int64_t)u;
		const char *key = weight ? "weight" : "rate";
		if ((v = cfg_get(it, key))) {
			if (cfg_uint(v, f, weight ? 1000 : UINT64_MAX, &u, e) < 0)
				return -1;
			d[i].value = u;
			d[i].has_value = 1;
		} else if (!weight) {
			return err_set(e, ERR_INPUT, "config.json: %s.rate: missing", f);
		}
		if (weight && (v = cfg_get(it, "leafWeight"))) {
			if (cfg_uint(v, f, 1000, &u, e) < 0)
				return -1;
			d[i].leaf = u;
			d[i].has_leaf = 1;
		}
	}
	*out = d;
	*n = len;
	return 0;
}

static int parse_dev_rules(struct oci_config *c, struct json_object *o, struct oci_resources *r,
                           struct err *e)
{
	if (!json_object_is_type(o, json_type_array))
		return err_set(e, ERR_INPUT,
		               "config.json: linux.resources.devices: must be an array");
	size_t n = json_object_array_length(o);
	r->devices = NEW(c, struct oci_dev_rule, n + 1);
	if (!r->devices)
		return oom(e);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(o, i), *v;
		struct oci_dev_rule *d = &r->devices[i];
		char field[96];
		const char *s;
		snprintf(field, sizeof(field), "linux.resources.devices[%zu].allow", i);
		if (!(v = cfg_get(it, "allow")))
			return err_set(e, ERR_INPUT, "config.json: %s: missing", field);
		if (cfg_bool(v, field, &d->allow, e) < 0)
			return -1;
		d->type = 'a';
		snprintf(field, sizeof(field), "linux.resources.devices[%zu].type", i);
		if ((v = cfg_get(it, "type"))) {
			if (cfg_string(c, v, field, &s, e) < 0)
				return -1;
			if (strlen(s) != 1 || !strchr("acb", s[0]))
				return err_set(e, ERR_INPUT,
				               "config.json: %s: '%s' is not a, c or b", field, s);
			d->type = s[0];
		}
		d->major = d->minor = -1;
		int64_t *dst[2] = {&d->major, &d->minor};
		const char *keys[2] = {"major", "minor"};
		for (int k = 0; k < 2; k++) {
			uint64_t u;
			snprintf(field, sizeof(field), "linux.resources.devices[%zu].%s", i,
			         keys[k]);
			if ((v = cfg_get(it, keys[k]))) {
				if (json_object_is_type(v, json_type_int) &&
				    json_object_get_int64(v) == -1)
					continue;
				if (cfg_uint(v, field, 0xfffff, &u, e) < 0)
					return -1;
				*dst[k] = (int64_t)u;
			}
		}
		strcpy(d->access, "rwm");
		snprintf(field, sizeof(field), "linux.resources.devices[%zu].access", i);
		if ((v = cfg_get(it, "access"))) {
			if (cfg_string(c, v, field, &s, e) < 0)
				return -1;
			size_t len = strlen(s);
			if (len > 3 || strspn(s, "rwm") != len)
				return err_set(e, ERR_INPUT,
				               "config.json: %s: '%s' is not a subset of 'rwm'",
				               field, s);
			strcpy(d->access, len ? s : "rwm");
		}
	}
	r->n_devices = n;
	return 0;
}

/* Engines write 0 for limits the user did not set (Docker: cpu.shares and
 * blockIO.weight always); runc and crun read such a zero as "unset". */
static void zero_is_unset(int64_t *v)
{
	if (*v == 0)
		*v = OCI_UNSET;
}

static int parse_resources(struct oci_config *c, struct json_object *o, struct oci_resources *r,
                           struct err *e)
{
	struct json_object *v, *sub;
	const char *p;
	int64_t *unset[] = {&r->mem_limit,      &r->mem_swap,       &r->mem_reservation,
	                    &r->mem_swappiness, &r->cpu_shares,     &r->cpu_quota,
	                    &r->cpu_period,     &r->cpu_rt_runtime, &r->cpu_rt_period,
	                    &r->pids_limit,     &r->blkio_weight,   &r->blkio_leaf_weight};
	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		*unset[i] = OCI_UNSET;
	if (!o)
		return 0;
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, ERR_INPUT, "config.json: linux.resources: must be an object");
	r->present = 1;
	if ((sub = cfg_get(o, "memory"))) {
		p = "linux.resources.memory";
		if (get_i64(sub, "limit", p, &r->mem_limit, e) ||
		    get_i64(sub, "swap", p, &r->mem_swap, e) ||
		    get_i64(sub, "reservation", p, &r->mem_reservation, e) ||
		    get_i64(sub, "swappiness", p, &r->mem_swappiness, e))
			return -1;
		zero_is_unset(&r->mem_limit);
		zero_is_unset(&r->mem_swap);
		zero_is_unset(&r->mem_reservation);
		if ((v = cfg_get(sub, "disableOOMKiller")) &&
		    cfg_bool(v, "linux.resources.memory.disableOOMKiller",
		             &r->mem_disable_oom_killer, e) < 0)
			return -1;
		/* Kernel memory limits are gone from current kernels (5.16 on):
		 * runc and crun accept them and ignore them, so do we. */
		int64_t kmem = OCI_UNSET, ktcp = OCI_UNSET;
		if (get_i64(sub, "kernel", p, &kmem, e) || get_i64(sub, "kernelTCP", p, &ktcp, e))
			return -1;
		if (kmem != OCI_UNSET || ktcp != OCI_UNSET)
			cfg_warn(c, "linux.resources.memory.kernel/kernelTCP: ignored (kernel "
			            "memory limits are gone from current kernels)");
		if (r->mem_limit != OCI_UNSET && r->mem_limit != -1 && r->mem_limit < 4096)
			return err_set(
			    e, ERR_INPUT,
			    "config.json: linux.resources.memory.limit: %lld is too small",
			    (long long)r->mem_limit);
		if (r->mem_swap != OCI_UNSET && r->mem_swap != -1 && r->mem_limit != OCI_UNSET &&
		    r->mem_limit != -1 && r->mem_swap < r->mem_limit)
			return err_set(
			    e, ERR_INPUT,
			    "config.json: linux.resources.memory.swap: %lld is below the "
			    "memory limit %lld (swap counts memory plus swap)",
			    (long long)r->mem_swap, (long long)r->mem_limit);
		if (r->mem_swappiness != OCI_UNSET &&
		    (r->mem_swappiness < 0 || r->mem_swappiness > 100))
			return err_set(
			    e, ERR_INPUT,
			    "config.json: linux.resources.memory.swappiness: not 0..100");
	}
	if ((sub = cfg_get(o, "cpu"))) {
		p = "linux.resources.cpu";
		if (get_i64(sub, "shares", p, &r->cpu_shares, e) ||
		    get_i64(sub, "quota", p, &r->cpu_quota, e) ||
		    get_i64(sub, "period", p, &r->cpu_period, e) ||
		    get_i64(sub, "realtimeRuntime", p, &r->cpu_rt_runtime, e) ||
		    get_i64(sub, "realtimePeriod", p, &r->cpu_rt_period, e))
			return -1;
		zero_is_unset(&r->cpu_shares);
		zero_is_unset(&r->cpu_quota);
		zero_is_unset(&r->cpu_period);
		zero_is_unset(&r->cpu_rt_runtime);
		zero_is_unset(&r->cpu_rt_period);
		if ((v = cfg_get(sub, "cpus")) &&
		    cfg_string(c, v, "linux.resources.cpu.cpus", &r->cpus, e) < 0)
			return -1;
		if ((v = cfg_get(sub, "mems")) &&
		    cfg_string(c, v, "linux.resources.cpu.mems", &r->mems, e) < 0)
			return -1;
		if (r->cpu_shares != OCI_UNSET && (r->cpu_shares < 2 || r->cpu_shares > 262144))
			return err_set(
			    e, ERR_INPUT,
			    "config.json: linux.resources.cpu.shares: %lld not in 2..262144",
			    (long long)r->cpu_shares);
		if (r->cpu_period != OCI_UNSET && (r->cpu_period < 1000 || r->cpu_period > 1000000))
			return err_set(e, ERR_INPUT,
			               "config.json: linux.resources.cpu.period: %lld not in "
			               "1000..1000000",
			               (long long)r->cpu_period);
		if (r->cpu_quota != OCI_UNSET && r->cpu_quota != -1 && r->cpu_quota < 1000)
			return err_set(e, ERR_INPUT,
			               "config.json: linux.resources.cpu.quota: %lld is below 1000",
			               (long long)r->cpu_quota);
		if ((r->cpu_rt_runtime != OCI_UNSET && r->cpu_rt_runtime != 0) ||
		    (r->cpu_rt_period != OCI_UNSET && r->cpu_rt_period != 0))
			return err_set(e, ERR_INPUT,
			               "config.json: linux.resources.cpu.realtime*: "
			               "real-time scheduling limits are not supported");
		for (const char *s = r->cpus; s && *s; s++)
			if (!strchr("0123456789,-", *s))
				return err_set(
				    e, ERR_INPUT,
				    "config.json: linux.resources.cpu.cpus: bad list '%s'",
				    r->cpus);
		for (const char *s = r->mems; s && *s; s++)
			if (!strchr("0123456789,-", *s))
				return err_set(
				    e, ERR_INPUT,
				    "config.json: linux.resources.cpu.mems: bad list '%s'",
				    r->mems);
	}
	if ((sub = cfg_get(o, "pids"))) {
		if (!(v = cfg_get(sub, "limit")))
			return err_set(e, ERR_INPUT,
			               "config.json: linux.resources.pids.limit: missing");
		if (cfg_int64(v, "linux.resources.pids.limit", &r->pids_limit, e) < 0)
			return -1;
		zero_is_unset(&r->pids_limit);
	}
	if ((sub = cfg_get(o, "blockIO"))) {
		p = "linux.resources.blockIO";
		if (get_i64(sub, "weight", p, &r->blkio_weight, e) ||
		    get_i64(sub, "leafWeight", p, &r->blkio_leaf_weight, e))
			return -1;
		zero_is_unset(&r->blkio_weight);
		zero_is_unset(&r->blkio_leaf_weight);
		if (r->blkio_weight != OCI_UNSET &&
		    (r->blkio_weight < 10 || r->blkio_weight > 1000))
			return err_set(e, ERR_INPUT,
			               "config.json: linux.resources.blockIO.weight: not 10..1000");
		if ((v = cfg_get(sub, "weightDevice")) &&
		    parse_blkio_devs(c, v, "linux.resources.blockIO.weightDevice", 1,
		                     &r->blk_weight, &r->n_blk_weight, e) < 0)
			return -1;
		if ((v = cfg_get(sub, "throttleReadBpsDevice")) &&
		    parse_blkio_devs(c, v, "linux.resources.blockIO.throttleReadBpsDevice", 0,
		                     &r->blk_rbps, &r->n_blk_rbps, e) < 0)
			return -1;
		if ((v = cfg_get(sub, "throttleWriteBpsDevice")) &&
		    parse_blkio_devs(c, v, "linux.resources.blockIO.throttleWriteBpsDevice", 0,
		                     &r->blk_wbps, &r->n_blk_wbps, e) < 0)
			return -1;
		if ((v = cfg_get(sub, "throttleReadIOPSDevice")) &&
		    parse_blkio_devs(c, v, "linux.resources.blockIO.throttleReadIOPSDevice", 0,
		                     &r->blk_riops, &r->n_blk_riops, e) < 0)
			return -1;
		if ((v = cfg_get(sub, "throttleWriteIOPSDevice")) &&
		    parse_blkio_devs(c, v, "linux.resources.blockIO.throttleWriteIOPSDevice", 0,
		                     &r->blk_wiops, &r->n_blk_wiops, e) < 0)
			return -1;
	}
	if ((sub = cfg_get(o, "hugepageLimits"))) {
		if (!json_object_is_type(sub, json_type_array))
			return err_set(
			    e, ERR_INPUT,
			    "config.json: linux.resources.hugepageLimits: must be an array");
		size_t n = json_object_array_length(sub);
		r->hugepages = NEW(c, struct oci_hugepage, n + 1);
		if (!r->hugepages)
			return oom(e);
		for (size_t i = 0; i < n; i++) {
			struct json_object *it = json_object_array_get_idx(sub, i);
			char field[96];
			snprintf(field, sizeof(field), "linux.resources.hugepageLimits[%zu]", i);
			if (!(v = cfg_get(it, "pageSize")) ||
			    cfg_string(c, v, field, &r->hugepages[i].size, e) < 0)
				return e->kind
				           ? -1
				           : err_set(e, ERR_INPUT,
				                     "config.json: %s.pageSize: missing", field);
			for (const char *s = r->hugepages[i].size; *s; s++)
				if (!strchr("0123456789KMGB", *s))
					return err_set(e, ERR_INPUT,
					               "config.json: %s.pageSize: bad size '%s'",
					               field, r->hugepages[i].size);
			if (!(v = cfg_get(it, "limit")) ||
			    cfg_uint(v, field, UINT64_MAX, &r->hugepages[i].limit, e) < 0)
				return e->kind ? -1
				               : err_set(e, ERR_INPUT,
				                         "config.json: %s.limit: missing", field);
		}
		r->n_hugepages = n;
	}
	if ((sub = cfg_get(o, "devices")) && parse_dev_rules(c, sub, r, e) < 0)
		return -1;
	if ((sub = cfg_get(o, "unified"))) {
		if (!json_object_is_type(sub, json_type_object))
			return err_set(e, ERR_INPUT,
			               "config.json: linux.resources.unified: must be an object");
		size_t n = (size_t)json_object_object_length(sub), i = 0;
		r->unified_keys = NEW(c, const char *, n + 1);
		r->unified_values = NEW(c, const char *, n + 1);
		if (!r->unified_keys || !r->unified_values)
			return oom(e);
		json_object_object_foreach(sub, key, val)
		{
			if (strchr(key, '/') || key[0] == '.' || !strchr(key, '.'))
				return err_set(
				    e, ERR_INPUT,
				    "config.json: linux.resources.unified: bad key '%.64s'", key);
			if (cfg_string(c, val, "linux.resources.unified", &r->unified_values[i], e))
				return -1;
			r->unified_keys[i++] = key;
		}
		r->n_unified = i;
	}
	if (cfg_get(o, "rdma"))
		return err_set(e, ERR_INPUT, "config.json: linux.resources.rdma: not supported");
	if (cfg_get(o, "network"))
		return err_set(e, ERR_INPUT,
		               "config.json: linux.resources.network: net_cls and "
		               "net_prio are not supported");
	return 0;
}

int oci_config_parse_resources(struct oci_config *c, const char *text, struct oci_resources *r,
                               struct err *e)
{
	enum json_tokener_error je;
	struct json_object *o = json_tokener_parse_verbose(text, &je);
	if (!o)
		return err_set(e, ERR_INPUT, "resources: not valid JSON: %s",
		               json_tokener_error_desc(je));
	if (json_object_object_add(c->json, "\x01resources-override", o) < 0) {
		json_object_put(o);
		return oom(e);
	}
	memset(r, 0, sizeof(*r));
	return parse_resources(c, o, r, e);
}

static int parse_paths(struct oci_config *c, struct json_object *o, const char *field,
                       const char ***out, size_t *n, struct err *e)
{
	char **v;
	if (cfg_strv(c, o, field, &v, n, e) < 0)
		return -1;
	for (size_t i = 0; i < *n; i++)
		if (v[i][0] != '/')
			return err_set(e, ERR_INPUT, "config.json: %s[%zu]: '%s' is not absolute",
			               field, i, v[i]);
	*out = (const char **)v;
	return 0;
}

/* The nodes of linux.devices are the container's own: they are allowed after
 * the rules of linux.resources.devices (as runc and crun do), so that a
 * deny-all rule does not keep the container from creating or using them. */
static int allow_listed_devices(struct oci_config *c, struct err *e)
{
	struct oci_resources *r = &c->resources;
	if (!r->n_devices || !c->n_devices)
		return 0;
	struct oci_dev_rule *all = NEW(c, struct oci_dev_rule, r->n_devices + c->n_devices + 1);
	if (!all)
		return oom(e);
	memcpy(all, r->devices, r->n_devices * sizeof(*all));
	size_t n = r->n_devices;
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct oci_device *d = &c->devices[i];
		if (d->type == 'p')
			continue; /* fifos are not devices to the cgroup */
		all[n++] = (struct oci_dev_rule){.allow = 1,
		                                 .type = d->type == 'b' ? 'b' : 'c',
		                                 .major = d->major,
		                                 .minor = d->minor,
		                                 .access = "rwm"};
	}
	r->devices = all;
	r->n_devices = n;
	return 0;
}

int cfg_parse_linux(struct oci_config *c, struct json_object *l, struct err *e)
{
	struct json_object *v;
	if (parse_resources(c, cfg_get(l, "resources"), &c->resources, e) < 0)
		return -1;
	if (!l)
		return 0;
	if (!json_object_is_type(l, json_type_object))
		return err_set(e, ERR_INPUT, "config.json: linux: must be an object");
	if ((v = cfg_get(l, "namespaces")) && parse_namespaces(c, v, e) < 0)
		return -1;
	if ((v = cfg_get(l, "uidMappings")) &&
	    cfg_idmaps(c, v, "linux.uidMappings", &c->uid_map, &c->n_uid_map, e) < 0)
		return -1;
	if ((v = cfg_get(l, "gidMappings")) &&
	    cfg_idmaps(c, v, "linux.gidMappings", &c->gid_map, &c->n_gid_map, e) < 0)
		return -1;
	if ((v = cfg_get(l, "devices")) && parse_devices(c, v, e) < 0)
		return -1;
	if ((v = cfg_get(l, "cgroupsPath")) &&
	    cfg_string(c, v, "linux.cgroupsPath", &c->cgroups_path, e) < 0)
		return -1;
	if (c->cgroups_path && strstr(c->cgroups_path, ".."))
		return err_set(e, ERR_INPUT, "config.json: linux.cgroupsPath: '%s' contains '..'",
		               c->cgroups_path);
	if ((v = cfg_get(l, "seccomp")) && cfg_parse_seccomp(c, v, e) < 0)
		return -1;
	if ((v = cfg_get(l, "sysctl"))) {
		if (!json_object_is_type(v, json_type_object))
			return err_set(e, ERR_INPUT,
			               "config.json: linux.sysctl: must be an object");
		size_t n = (size_t)json_object_object_length(v), i = 0;
		c->sysctls = NEW(c, struct oci_sysctl, n + 1);
		if (!c->sysctls)
			return oom(e);
		json_object_object_foreach(v, key, val)
		{
			if (!key[0] || strstr(key, "..") || key[0] == '/' || key[0] == '.')
				return err_set(e, ERR_INPUT,
				               "config.json: linux.sysctl: bad key '%.64s'", key);
			if (cfg_string(c, val, "linux.sysctl", &c->sysctls[i].value, e) < 0)
				return -1;
			c->sysctls[i++].key = key;
		}
		c->n_sysctls = i;
	}
	if ((v = cfg_get(l, "maskedPaths")) &&
	    parse_paths(c, v, "linux.maskedPaths", &c->masked_paths, &c->n_masked, e) < 0)
		return -1;
	if ((v = cfg_get(l, "readonlyPaths")) &&
	    parse_paths(c, v, "linux.readonlyPaths", &c->readonly_paths, &c->n_readonly, e) < 0)
		return -1;
	if ((v = cfg_get(l, "rootfsPropagation"))) {
		const char *s;
		if (cfg_string(c, v, "linux.rootfsPropagation", &s, e) < 0)
			return -1;
		c->rootfs_propagation = oci_propagation_flag(s);
		if (!c->rootfs_propagation)
			return err_set(e, ERR_INPUT,
			               "config.json: linux.rootfsPropagation: unknown value '%s'",
			               s);
	}
	if ((v = cfg_get(l, "mountLabel")) &&
	    cfg_string(c, v, "linux.mountLabel", &c->mount_label, e) < 0)
		return -1;
	if (c->mount_label && c->mount_label[0])
		return err_set(e, ERR_INPUT,
		               "config.json: linux.mountLabel: SELinux is not supported");
	if ((v = cfg_get(l, "timeOffsets"))) {
		if (!json_object_is_type(v, json_type_object))
			return err_set(e, ERR_INPUT,
			               "config.json: linux.timeOffsets: must be an object");
		size_t n = (size_t)json_object_object_length(v), i = 0;
		c->time_offsets = NEW(c, struct oci_time_offset, n + 1);
		if (!c->time_offsets)
			return oom(e);
		json_object_object_foreach(v, key, val)
		{
			char field[96];
			snprintf(field, sizeof(field), "linux.timeOffsets.%.32s", key);
			if (strcmp(key, "monotonic") && strcmp(key, "boottime"))
				return err_set(e, ERR_INPUT, "config.json: %s: unknown clock",
				               field);
			struct json_object *s = cfg_get(val, "secs"),
			                   *ns = cfg_get(val, "nanosecs");
			uint64_t u = 0;
			c->time_offsets[i].clock = key;
			if (s && cfg_int64(s, field, &c->time_offsets[i].secs, e) < 0)
				return -1;
			if (ns && cfg_uint(ns, field, 999999999, &u, e) < 0)
				return -1;
			c->time_offsets[i++].nanosecs = (uint32_t)u;
		}
		c->n_time_offsets = i;
	}
	if ((v = cfg_get(l, "personality")) && cfg_parse_personality(c, v, e) < 0)
		return -1;
	static const char *const unsupported[] = {"intelRdt", "memoryPolicy", "netDevices"};
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (cfg_get(l, unsupported[i]))
			return err_set(e, ERR_INPUT, "config.json: linux.%s: not supported",
			               unsupported[i]);
	/* Cross-field checks. Only namespaced sysctls, in a namespace of the
	 * container's own: anything else would change the host. */
	for (size_t i = 0; i < c->n_sysctls; i++) {
		static const char *const ipc_keys[] = {
		    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
		const char *k = c->sysctls[i].key;
		int need = 0;
		for (size_t j = 0; j < sizeof(ipc_keys) / sizeof(ipc_keys[0]); j++)
			if (!strcmp(k, ipc_keys[j]))
				need = CLONE_NEWIPC;
		if (!strncmp(k, "fs.mqueue.", 10))
			need = CLONE_NEWIPC;
		else if (!strncmp(k, "net.", 4))
			need = CLONE_NEWNET;
		else if (!strcmp(k, "kernel.hostname") || !strcmp(k, "kernel.domainname"))
			need = CLONE_NEWUTS;
		if (!need)
			return err_set(
			    e, ERR_INPUT,
			    "config.json: linux.sysctl.%s: not namespaced, it would change "
			    "the host",
			    k);
		if (!oci_config_ns(c, need))
			return err_set(e, ERR_INPUT,
			               "config.json: linux.sysctl.%s: needs a %s namespace", k,
			               oci_ns_name(need));
	}
	/* Cross-field checks. */
	const struct oci_namespace *user = oci_config_ns(c, CLONE_NEWUSER);
	if ((c->n_uid_map || c->n_gid_map) && !user)
		return err_set(e, ERR_INPUT,
		               "config.json: linux.uidMappings: given without a user "
		               "namespace");
	if (user && !user->path && (!c->n_uid_map || !c->n_gid_map))
		return err_set(e, ERR_INPUT,
		               "config.json: linux.uidMappings/gidMappings: a new user "
		               "namespace needs both");
	if (c->hostname && c->hostname[0] && !oci_config_ns(c, CLONE_NEWUTS))
		return err_set(e, ERR_INPUT, "config.json: hostname: set without a uts namespace");
	if (c->n_time_offsets && !oci_config_ns(c, CLONE_NEWTIME))
		return err_set(e, ERR_INPUT,
		               "config.json: linux.timeOffsets: set without a time "
		               "namespace");
	const struct oci_namespace *tns = oci_config_ns(c, CLONE_NEWTIME);
	if (c->n_time_offsets && tns && tns->path)
		return err_set(e, ERR_INPUT,
		               "config.json: linux.timeOffsets: cannot be set when "
		               "joining a time namespace");
	return allow_listed_devices(c, e);
}
