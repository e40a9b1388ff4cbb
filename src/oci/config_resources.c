/* SPDX-License-Identifier: Apache-2.0 */
/* config.json: linux.resources, the cgroup limits (also the JSON that
 * `update --resources` reads), one function per controller. */
#include "oci/config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

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
	struct oci_blkio_dev *d = CFG_NEW(c, struct oci_blkio_dev, len + 1);
	if (!d)
		return cfg_oom(e);
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
	r->devices = CFG_NEW(c, struct oci_dev_rule, n + 1);
	if (!r->devices)
		return cfg_oom(e);
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

static int parse_memory(struct oci_config *c, struct json_object *sub, struct oci_resources *r,
                        struct err *e)
{
	const char *p = "linux.resources.memory";
	struct json_object *v;
	if (get_i64(sub, "limit", p, &r->mem_limit, e) ||
	    get_i64(sub, "swap", p, &r->mem_swap, e) ||
	    get_i64(sub, "reservation", p, &r->mem_reservation, e) ||
	    get_i64(sub, "swappiness", p, &r->mem_swappiness, e))
		return -1;
	zero_is_unset(&r->mem_limit);
	zero_is_unset(&r->mem_swap);
	zero_is_unset(&r->mem_reservation);
	if ((v = cfg_get(sub, "disableOOMKiller")) &&
	    cfg_bool(v, "linux.resources.memory.disableOOMKiller", &r->mem_disable_oom_killer, e) <
	        0)
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
		return err_set(e, ERR_INPUT,
		               "config.json: linux.resources.memory.limit: %lld is too small",
		               (long long)r->mem_limit);
	if (r->mem_swap != OCI_UNSET && r->mem_swap != -1 && r->mem_limit != OCI_UNSET &&
	    r->mem_limit != -1 && r->mem_swap < r->mem_limit)
		return err_set(e, ERR_INPUT,
		               "config.json: linux.resources.memory.swap: %lld is below the "
		               "memory limit %lld (swap counts memory plus swap)",
		               (long long)r->mem_swap, (long long)r->mem_limit);
	if (r->mem_swappiness != OCI_UNSET && (r->mem_swappiness < 0 || r->mem_swappiness > 100))
		return err_set(e, ERR_INPUT,
		               "config.json: linux.resources.memory.swappiness: not 0..100");
	return 0;
}

/* cpu.cpus / cpu.mems: a list such as "0-3,6" (checked in full when the
 * cgroup is written). */
static int cpu_list(struct oci_config *c, struct json_object *sub, const char *key,
                    const char **out, struct err *e)
{
	char field[64];
	struct json_object *v = cfg_get(sub, key);
	snprintf(field, sizeof(field), "linux.resources.cpu.%s", key);
	if (!v)
		return 0;
	if (cfg_string(c, v, field, out, e) < 0)
		return -1;
	for (const char *s = *out; *s; s++)
		if (!strchr("0123456789,-", *s))
			return err_set(e, ERR_INPUT, "config.json: %s: bad list '%s'", field, *out);
	return 0;
}

static int parse_cpu(struct oci_config *c, struct json_object *sub, struct oci_resources *r,
                     struct err *e)
{
	const char *p = "linux.resources.cpu";
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
	if (cpu_list(c, sub, "cpus", &r->cpus, e) || cpu_list(c, sub, "mems", &r->mems, e))
		return -1;
	if (r->cpu_shares != OCI_UNSET && (r->cpu_shares < 2 || r->cpu_shares > 262144))
		return err_set(e, ERR_INPUT,
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
	return 0;
}

static int parse_pids(struct json_object *sub, struct oci_resources *r, struct err *e)
{
	struct json_object *v = cfg_get(sub, "limit");
	if (!v)
		return err_set(e, ERR_INPUT, "config.json: linux.resources.pids.limit: missing");
	if (cfg_int64(v, "linux.resources.pids.limit", &r->pids_limit, e) < 0)
		return -1;
	zero_is_unset(&r->pids_limit);
	return 0;
}

static int parse_blkio(struct oci_config *c, struct json_object *sub, struct oci_resources *r,
                       struct err *e)
{
	const char *p = "linux.resources.blockIO";
	if (get_i64(sub, "weight", p, &r->blkio_weight, e) ||
	    get_i64(sub, "leafWeight", p, &r->blkio_leaf_weight, e))
		return -1;
	zero_is_unset(&r->blkio_weight);
	zero_is_unset(&r->blkio_leaf_weight);
	if (r->blkio_weight != OCI_UNSET && (r->blkio_weight < 10 || r->blkio_weight > 1000))
		return err_set(e, ERR_INPUT,
		               "config.json: linux.resources.blockIO.weight: not 10..1000");
	const struct {
		const char *key;
		struct oci_blkio_dev **list;
		size_t *n;
	} lists[] = {
	    {"weightDevice", &r->blk_weight, &r->n_blk_weight},
	    {"throttleReadBpsDevice", &r->blk_rbps, &r->n_blk_rbps},
	    {"throttleWriteBpsDevice", &r->blk_wbps, &r->n_blk_wbps},
	    {"throttleReadIOPSDevice", &r->blk_riops, &r->n_blk_riops},
	    {"throttleWriteIOPSDevice", &r->blk_wiops, &r->n_blk_wiops},
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct json_object *v = cfg_get(sub, lists[i].key);
		char field[96];
		snprintf(field, sizeof(field), "%s.%s", p, lists[i].key);
		if (v && parse_blkio_devs(c, v, field, i == 0, lists[i].list, lists[i].n, e) < 0)
			return -1;
	}
	return 0;
}

static int parse_hugepages(struct oci_config *c, struct json_object *sub, struct oci_resources *r,
                           struct err *e)
{
	if (!json_object_is_type(sub, json_type_array))
		return err_set(e, ERR_INPUT,
		               "config.json: linux.resources.hugepageLimits: must be an array");
	size_t n = json_object_array_length(sub);
	r->hugepages = CFG_NEW(c, struct oci_hugepage, n + 1);
	if (!r->hugepages)
		return cfg_oom(e);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(sub, i), *v;
		char field[96];
		snprintf(field, sizeof(field), "linux.resources.hugepageLimits[%zu]", i);
		if (!(v = cfg_get(it, "pageSize")) ||
		    cfg_string(c, v, field, &r->hugepages[i].size, e) < 0)
			return e->kind ? -1
			               : err_set(e, ERR_INPUT, "config.json: %s.pageSize: missing",
			                         field);
		for (const char *s = r->hugepages[i].size; *s; s++)
			if (!strchr("0123456789KMGB", *s))
				return err_set(e, ERR_INPUT,
				               "config.json: %s.pageSize: bad size '%s'", field,
				               r->hugepages[i].size);
		if (!(v = cfg_get(it, "limit")) ||
		    cfg_uint(v, field, UINT64_MAX, &r->hugepages[i].limit, e) < 0)
			return e->kind
			           ? -1
			           : err_set(e, ERR_INPUT, "config.json: %s.limit: missing", field);
	}
	r->n_hugepages = n;
	return 0;
}

static int parse_unified(struct oci_config *c, struct json_object *sub, struct oci_resources *r,
                         struct err *e)
{
	if (!json_object_is_type(sub, json_type_object))
		return err_set(e, ERR_INPUT,
		               "config.json: linux.resources.unified: must be an object");
	size_t n = (size_t)json_object_object_length(sub), i = 0;
	r->unified_keys = CFG_NEW(c, const char *, n + 1);
	r->unified_values = CFG_NEW(c, const char *, n + 1);
	if (!r->unified_keys || !r->unified_values)
		return cfg_oom(e);
	json_object_object_foreach(sub, key, val)
	{
		if (strchr(key, '/') || key[0] == '.' || !strchr(key, '.'))
			return err_set(e, ERR_INPUT,
			               "config.json: linux.resources.unified: bad key '%.64s'",
			               key);
		if (cfg_string(c, val, "linux.resources.unified", &r->unified_values[i], e))
			return -1;
		r->unified_keys[i++] = key;
	}
	r->n_unified = i;
	return 0;
}

int cfg_parse_resources(struct oci_config *c, struct json_object *o, struct oci_resources *r,
                        struct err *e)
{
	struct json_object *sub;
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
	if (((sub = cfg_get(o, "memory")) && parse_memory(c, sub, r, e)) ||
	    ((sub = cfg_get(o, "cpu")) && parse_cpu(c, sub, r, e)) ||
	    ((sub = cfg_get(o, "pids")) && parse_pids(sub, r, e)) ||
	    ((sub = cfg_get(o, "blockIO")) && parse_blkio(c, sub, r, e)) ||
	    ((sub = cfg_get(o, "hugepageLimits")) && parse_hugepages(c, sub, r, e)) ||
	    ((sub = cfg_get(o, "devices")) && parse_dev_rules(c, sub, r, e) < 0) ||
	    ((sub = cfg_get(o, "unified")) && parse_unified(c, sub, r, e)))
		return -1;
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
		return cfg_oom(e);
	}
	memset(r, 0, sizeof(*r));
	return cfg_parse_resources(c, o, r, e);
}
