/* SPDX-License-Identifier: Apache-2.0 */
/* Request bodies of the control API: a JSON object checked against the
 * fields an endpoint knows (unknown fields, wrong types and missing required
 * fields are refused with a message naming the field, as Firecracker does). */
#ifndef CAPSA_VM_API_BODY_H
#define CAPSA_VM_API_BODY_H

#include "lib/err.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

enum api_type { API_STR, API_BOOL, API_UINT, API_OBJ, API_ARR };

struct api_field {
	const char *name;
	enum api_type type;
	int required;
};

/* Parse `len` bytes as one JSON object whose members are all in `fields`
 * (terminated by a NULL name); `what` names the object in messages. Returns
 * the object (release with json_object_put) or NULL with ERR_INPUT in e. An
 * optional member may be null, meaning absent. */
json_object *api_body_parse(const char *body, size_t len, const struct api_field *fields,
                            struct err *e);
/* Check an already parsed member object (e.g. a rate limiter) the same way. */
int api_body_check(json_object *o, const char *what, const struct api_field *fields, struct err *e);

/* Members of a checked object; absent or null members give the default. */
const char *api_str(json_object *o, const char *key);
int api_bool(json_object *o, const char *key, int dflt);
uint64_t api_uint(json_object *o, const char *key, uint64_t dflt);
json_object *api_obj(json_object *o, const char *key);
int api_has(json_object *o, const char *key);

/* Add member k: v as a JSON integer (answers and metrics). */
void api_add_u64(json_object *o, const char *k, uint64_t v);

#endif
