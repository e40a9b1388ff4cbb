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

static int parse_namespaces(struct oci_config *c, struct json_object *o, struct err *e)
{
	if (!json_object_is_type(o, json_type_array))
		return err_set(e, ERR_INPUT, "config.json: linux.namespaces: must be an array");
	size_t n = json_object_array_length(o);
	c->namespaces = CFG_NEW(c, struct oci_namespace, n + 1);
	if (!c->namespaces)
		return cfg_oom(e);
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
	c->devices = CFG_NEW(c, struct oci_device, n + 1);
	if (!c->devices)
		return cfg_oom(e);
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
	struct oci_dev_rule *all = CFG_NEW(c, struct oci_dev_rule, r->n_devices + c->n_devices + 1);
	if (!all)
		return cfg_oom(e);
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
	if (cfg_parse_resources(c, cfg_get(l, "resources"), &c->resources, e) < 0)
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
		c->sysctls = CFG_NEW(c, struct oci_sysctl, n + 1);
		if (!c->sysctls)
			return cfg_oom(e);
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
		c->time_offsets = CFG_NEW(c, struct oci_time_offset, n + 1);
		if (!c->time_offsets)
			return cfg_oom(e);
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
