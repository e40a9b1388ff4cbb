/* SPDX-License-Identifier: Apache-2.0 */
/* See body.h. Integers must be JSON integers below 2^63-1: json-c keeps
 * larger ones as its maximum, which would be taken silently otherwise. */
#include "vm/api/body.h"

#include <string.h>

static const char *type_name(enum api_type t)
{
	switch (t) {
	case API_STR:
		return "a string";
	case API_BOOL:
		return "a boolean";
	case API_UINT:
		return "a non-negative integer";
	case API_ARR:
		return "an array";
	default:
		return "an object";
	}
}

static int type_ok(json_object *v, enum api_type t)
{
	switch (t) {
	case API_STR: /* and without NUL bytes, which C strings would cut */
		return json_object_is_type(v, json_type_string) &&
		       strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
	case API_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case API_UINT:
		if (!json_object_is_type(v, json_type_int))
			return 0;
		return json_object_get_int64(v) >= 0 &&
		       json_object_get_uint64(v) < (uint64_t)INT64_MAX;
	case API_ARR:
		return json_object_is_type(v, json_type_array);
	default:
		return json_object_is_type(v, json_type_object);
	}
}

int api_body_check(json_object *o, const char *what, const struct api_field *fields, struct err *e)
{
	json_object_object_foreach(o, key, val)
	{
		const struct api_field *f = fields;
		while (f->name && strcmp(f->name, key))
			f++;
		if (!f->name)
			return err_set(e, ERR_INPUT, "%sunknown field \"%s\"", what, key);
		if (!val && !f->required)
			continue;
		if (!val || !type_ok(val, f->type))
			return err_set(e, ERR_INPUT, "%s\"%s\" must be %s", what, key,
			               type_name(f->type));
	}
	for (const struct api_field *f = fields; f->name; f++)
		if (f->required && !json_object_object_get_ex(o, f->name, NULL))
			return err_set(e, ERR_INPUT, "%s\"%s\" is required", what, f->name);
	return 0;
}

json_object *api_body_parse(const char *body, size_t len, const struct api_field *fields,
                            struct err *e)
{
	if (len > (size_t)INT32_MAX) {
		err_set(e, ERR_INPUT, "the request body is too large");
		return NULL;
	}
	json_tokener *t = json_tokener_new();
	json_object *o = t ? json_tokener_parse_ex(t, body, (int)len) : NULL;
	int complete = t && json_tokener_get_error(t) == json_tokener_success &&
	               (size_t)json_tokener_get_parse_end(t) == len;
	json_tokener_free(t);
	if (!o || !complete || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		err_set(e, ERR_INPUT, "the request body is not a JSON object");
		return NULL;
	}
	if (api_body_check(o, "", fields, e)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *api_str(json_object *o, const char *key)
{
	json_object *v = member(o, key);
	return v ? json_object_get_string(v) : NULL;
}

int api_bool(json_object *o, const char *key, int dflt)
{
	json_object *v = member(o, key);
	return v ? json_object_get_boolean(v) : dflt;
}

uint64_t api_uint(json_object *o, const char *key, uint64_t dflt)
{
	json_object *v = member(o, key);
	return v ? (uint64_t)json_object_get_int64(v) : dflt;
}

json_object *api_obj(json_object *o, const char *key)
{
	return member(o, key);
}

int api_has(json_object *o, const char *key)
{
	return member(o, key) != NULL;
}

void api_add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}
