/* SPDX-License-Identifier: Apache-2.0 */
/* See routes.h. Paths and methods follow Firecracker's API; the status
 * codes too: 204 for a done action, 400 for a bad body or a request the VM's
 * state does not allow, 404 for an unknown path, 405 for a known path with
 * another method. */
#include "vm/api/routes.h"

#include "vm/api/http.h"
#include "vm/api/migrate_route.h"
#include "vm/snapshot/snapshot.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

char *vm_api_fault(const char *msg)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "fault_message", json_object_new_string(msg));
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static int fault(char **out, int status, const char *msg)
{
	*out = vm_api_fault(msg);
	return status;
}

static int reply_json(char **out, json_object *o)
{
	*out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return *out ? 200 : 500;
}

static const char *state_name(const struct vm_info *i)
{
	return i->ended ? "Stopped" : i->paused ? "Paused" : "Running";
}

static int get_info(struct vm *vm, char **out)
{
	struct vm_info i;
	vm_get_info(vm, &i);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string("capsa"));
	json_object_object_add(o, "app_name", json_object_new_string("capsa"));
	json_object_object_add(o, "state", json_object_new_string(state_name(&i)));
	json_object_object_add(o, "accel", json_object_new_string(accel_kind_name(i.accel)));
	return reply_json(out, o);
}

static int get_machine_config(struct vm *vm, char **out)
{
	struct vm_info i;
	vm_get_info(vm, &i);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "vcpu_count", json_object_new_int((int)i.cpus));
	json_object_object_add(o, "mem_size_mib", json_object_new_int64((int64_t)(i.memory >> 20)));
	json_object_object_add(o, "smt", json_object_new_boolean(0));
	return reply_json(out, o);
}

/* Parse the body as a JSON object; NULL (with *status and *out set) if it
 * is not one. */
static json_object *body_object(const char *body, size_t len, int *status, char **out)
{
	json_tokener *t = json_tokener_new();
	json_object *o = t ? json_tokener_parse_ex(t, body, (int)len) : NULL;
	int complete = t && json_tokener_get_error(t) == json_tokener_success &&
	               (size_t)json_tokener_get_parse_end(t) == len;
	json_tokener_free(t);
	if (!o || !complete || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*status = fault(out, 400, "the request body is not a JSON object");
		return NULL;
	}
	return o;
}

/* A string member of o, or NULL. */
static const char *member_str(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int patch_vm(struct vm *vm, const char *body, size_t len, char **out)
{
	int status;
	json_object *o = body_object(body, len, &status, out);
	if (!o)
		return status;
	const char *state = member_str(o, "state");
	struct err e = {0};
	int rc;
	if (state && !strcmp(state, "Paused")) {
		rc = vm_pause(vm, &e);
	} else if (state && !strcmp(state, "Resumed")) {
		rc = vm_resume(vm, &e);
	} else {
		json_object_put(o);
		return fault(out, 400, "\"state\" must be \"Paused\" or \"Resumed\"");
	}
	json_object_put(o);
	if (rc)
		return fault(out, e.kind == ERR_INPUT ? 400 : 500, e.msg);
	return 204;
}

static int put_snapshot_create(struct vm *vm, const char *body, size_t len, char **out)
{
	int status;
	json_object *o = body_object(body, len, &status, out);
	if (!o)
		return status;
	const char *path = member_str(o, "snapshot_path");
	const char *type = member_str(o, "snapshot_type");
	json_object *mem;
	int has_mem = json_object_object_get_ex(o, "mem_file_path", &mem);
	if (!path || !*path) {
		json_object_put(o);
		return fault(out, 400, "\"snapshot_path\" (a string) is required");
	}
	if (type && strcmp(type, "Full")) {
		json_object_put(o);
		return fault(out, 400, "only \"snapshot_type\": \"Full\" is supported");
	}
	if (has_mem) {
		json_object_put(o);
		return fault(
		    out, 400,
		    "\"mem_file_path\" is not supported: memory goes into the snapshot file");
	}
	struct err e = {0};
	int rc = vm_snapshot_save_opts(vm, path,
	                               &(struct vm_snapshot_opts){json_object_get_boolean(
	                                   json_object_object_get(o, "with_disks"))},
	                               &e);
	json_object_put(o);
	if (rc)
		return fault(out, e.kind == ERR_INPUT ? 400 : 500, e.msg);
	return 204;
}

enum { M_GET = 1, M_PUT = 2, M_PATCH = 4 };

static int method_bit(const char *m)
{
	return !strcmp(m, "GET")     ? M_GET
	       : !strcmp(m, "PUT")   ? M_PUT
	       : !strcmp(m, "PATCH") ? M_PATCH
	                             : 0;
}

int vm_api_route(struct vm *vm, const char *method, const char *path, const char *body,
                 size_t body_len, char **out)
{
	static const struct {
		const char *path;
		int method;
	} known[] = {
	    {"/", M_GET},
	    {"/machine-config", M_GET},
	    {"/vm", M_PATCH},
	    {"/snapshot/create", M_PUT},
	};
	*out = NULL;
	int m = method_bit(method);
	size_t plen = strcspn(path, "?");
	if (plen == 8 && !strncmp(path, "/migrate", 8)) /* capsa extension */
		return vm_api_migrate(vm, method, body, body_len, out);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strlen(known[i].path) != plen || strncmp(known[i].path, path, plen))
			continue;
		if (m != known[i].method)
			return fault(out, 405, "method not allowed on this path");
		switch (i) {
		case 0:
			return get_info(vm, out);
		case 1:
			return get_machine_config(vm, out);
		case 2:
			return patch_vm(vm, body, body_len, out);
		default:
			return put_snapshot_create(vm, body, body_len, out);
		}
	}
	return fault(out, 404, "unknown path");
}
