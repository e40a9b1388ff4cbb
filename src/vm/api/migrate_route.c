/* SPDX-License-Identifier: Apache-2.0 */
/* See migrate_route.h. */
#include "vm/api/migrate_route.h"

#include "vm/api/routes.h"
#include "vm/migrate/migrate.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

static int migrate_fault(char **out, int status, const char *msg)
{
	*out = vm_api_fault(msg);
	return status;
}

static const char *state_name(enum vm_migrate_state s)
{
	static const char *const names[] = {"none", "active", "completed", "failed"};
	return names[s];
}

static int get_status(struct vm *vm, char **out)
{
	struct vm_migrate_status st;
	vm_migrate_status(vm, &st);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "state", json_object_new_string(state_name(st.state)));
	if (st.state != VM_MIGRATE_NONE) {
		json_object_object_add(o, "destination", json_object_new_string(st.destination));
		json_object_object_add(o, "round", json_object_new_int((int)st.round));
		json_object_object_add(o, "pages", json_object_new_int64((int64_t)st.pages));
		json_object_object_add(o, "zero_pages",
		                       json_object_new_int64((int64_t)st.zero_pages));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st.bytes));
		json_object_object_add(o, "dirty_pages", json_object_new_int64((int64_t)st.dirty));
		json_object_object_add(o, "total_ms", json_object_new_double(st.total_ms));
	}
	if (st.state == VM_MIGRATE_COMPLETED) {
		json_object_object_add(o, "downtime_ms", json_object_new_double(st.downtime_ms));
		json_object_object_add(o, "downtime_sent_ms",
		                       json_object_new_double(st.downtime_sent_ms));
	}
	if (st.state == VM_MIGRATE_FAILED)
		json_object_object_add(o, "error", json_object_new_string(st.error));
	*out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return *out ? 200 : 500;
}

static int put_migrate(struct vm *vm, const struct vm_device_names *names, const char *body,
                       size_t len, char **out)
{
	json_tokener *t = json_tokener_new();
	json_object *o = t ? json_tokener_parse_ex(t, body, (int)len) : NULL;
	int whole = t && json_tokener_get_error(t) == json_tokener_success &&
	            (size_t)json_tokener_get_parse_end(t) == len;
	json_tokener_free(t);
	json_object *d = NULL;
	if (!o || !whole || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "destination", &d) ||
	    !json_object_is_type(d, json_type_string)) {
		json_object_put(o);
		return migrate_fault(out, 400,
		                     "the body must be {\"destination\": \"tcp:HOST:PORT\"}");
	}
	struct err e = {0};
	int rc = vm_migrate_start(vm, json_object_get_string(d), names, &e);
	json_object_put(o);
	if (rc)
		return migrate_fault(out, e.kind == ERR_INPUT ? 400 : 500, e.msg);
	return 204;
}

int vm_api_migrate(struct vm *vm, const struct vm_device_names *names, const char *method,
                   const char *body, size_t body_len, char **out)
{
	if (!strcmp(method, "GET"))
		return get_status(vm, out);
	if (!strcmp(method, "PUT"))
		return put_migrate(vm, names, body, body_len, out);
	return migrate_fault(out, 405, "method not allowed on this path");
}
