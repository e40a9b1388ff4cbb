/* SPDX-License-Identifier: Apache-2.0 */
/* See routes.h. Paths and methods follow Firecracker's API; the status
 * codes too: 204 for a done action, 400 for a bad body or a request the VM's
 * state does not allow, 404 for an unknown path, 405 for a known path with
 * another method. */
#include "vm/api/routes.h"

#include "vm/api/balloon.h"
#include "vm/api/body.h"
#include "vm/api/extra.h"
#include "vm/api/http.h"
#include "vm/api/migrate_route.h"
#include "vm/snapshot/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *vm_api_fault(const char *msg)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "fault_message", json_object_new_string(msg));
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

/* One request being answered. */
struct req {
	struct vm_api_instance *in;
	int method;
	const char *id; /* the {id} of /drives/{id} and /network-interfaces/{id} */
	const char *body;
	size_t len;
	char **out;
};

static int fault(struct req *r, int status, const char *msg)
{
	*r->out = vm_api_fault(msg);
	return status;
}

/* A refused request: ERR_INPUT is the client's (400), the rest the host's. */
static int fault_err(struct req *r, const struct err *e)
{
	return fault(r, e->kind == ERR_INPUT ? 400 : 500, e->msg);
}

static int reply_json(struct req *r, json_object *o)
{
	*r->out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return *r->out ? 200 : 500;
}

/* The body as an object with these fields, or NULL with the 400 answered. */
static json_object *body(struct req *r, const struct api_field *fields, int *status)
{
	struct err e = {0};
	json_object *o = api_body_parse(r->body, r->len, fields, &e);
	if (!o)
		*status = fault_err(r, &e);
	return o;
}

/* The running VM, or NULL with 400 answered. */
static struct vm *need_vm(struct req *r, int *status)
{
	struct vm *vm = vm_api_instance_vm(r->in);
	if (!vm)
		*status = fault(r, 400, "the VM has not started yet (PUT /actions InstanceStart)");
	return vm;
}

static int get_info(struct req *r)
{
	struct vm *vm = vm_api_instance_vm(r->in);
	struct vm_info i = {0};
	if (vm)
		vm_get_info(vm, &i);
	const char *state = !vm        ? "Not started"
	                    : i.ended  ? "Stopped"
	                    : i.paused ? "Paused"
	                               : "Running";
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string("capsa"));
	json_object_object_add(o, "app_name", json_object_new_string("capsa"));
	json_object_object_add(o, "state", json_object_new_string(state));
	if (vm)
		json_object_object_add(o, "accel",
		                       json_object_new_string(accel_kind_name(i.accel)));
	return reply_json(r, o);
}

static int get_vm_config(struct req *r)
{
	return reply_json(r, vm_api_machine_json(r->in->m));
}

/* The configuration endpoints: a body, then the setter; only before start. */
typedef int (*setter_fn)(struct vm_api_machine *m, const char *id, json_object *o, struct err *e);

static int configure(struct req *r, const struct api_field *fields, setter_fn set)
{
	if (vm_api_instance_vm(r->in))
		return fault(r, 400,
		             "the machine's configuration cannot change after the VM started");
	int status;
	json_object *o = body(r, fields, &status);
	if (!o)
		return status;
	struct err e = {0};
	int rc = set(r->in->m, r->id, o, &e);
	json_object_put(o);
	return rc ? fault_err(r, &e) : 204;
}

static int set_boot(struct vm_api_machine *m, const char *id, json_object *o, struct err *e)
{
	(void)id;
	return vm_api_put_boot_source(m, o, e);
}

static int set_machine(struct vm_api_machine *m, const char *id, json_object *o, struct err *e)
{
	(void)id;
	return vm_api_put_machine_config(m, o, e);
}

static int set_vsock(struct vm_api_machine *m, const char *id, json_object *o, struct err *e)
{
	(void)id;
	return vm_api_put_vsock(m, o, e);
}

enum { M_GET = 1, M_PUT = 2, M_PATCH = 4 };

static int machine_config(struct req *r)
{
	if (r->method == M_GET)
		return reply_json(r, vm_api_machine_config_json(r->in->m));
	return configure(
	    r, r->method == M_PUT ? vm_api_machine_put_fields : vm_api_machine_patch_fields,
	    set_machine);
}

static int boot_source(struct req *r)
{
	return configure(r, vm_api_boot_source_fields, set_boot);
}

/* PATCH of a device of the running VM: the body, then fn. */
typedef int (*running_fn)(struct vm_api_instance *in, const char *id, json_object *o,
                          struct err *e);

static int patch_running(struct req *r, const struct api_field *fields, running_fn fn)
{
	int status;
	json_object *o = body(r, fields, &status);
	if (!o)
		return status;
	struct err e = {0};
	int rc = fn(r->in, r->id, o, &e);
	json_object_put(o);
	return rc ? fault_err(r, &e) : 204;
}

static int drive(struct req *r)
{
	if (r->method == M_PATCH && vm_api_instance_vm(r->in))
		return patch_running(r, vm_api_drive_patch_fields, vm_api_patch_running_drive);
	if (r->method == M_PATCH)
		return configure(r, vm_api_drive_patch_fields, vm_api_patch_drive);
	return configure(r, vm_api_drive_fields, vm_api_put_drive);
}

static int iface(struct req *r)
{
	if (r->method == M_PATCH && vm_api_instance_vm(r->in))
		return patch_running(r, vm_api_iface_patch_fields, vm_api_patch_running_iface);
	if (r->method == M_PATCH)
		return configure(r, vm_api_iface_patch_fields, vm_api_patch_iface);
	return configure(r, vm_api_iface_fields, vm_api_put_iface);
}

static int vsock(struct req *r)
{
	return configure(r, vm_api_vsock_fields, set_vsock);
}

static int actions(struct req *r)
{
	static const struct api_field f[] = {{"action_type", API_STR, 1}, {NULL, 0, 0}};
	int status;
	json_object *o = body(r, f, &status);
	if (!o)
		return status;
	char type[32];
	snprintf(type, sizeof(type), "%s", api_str(o, "action_type"));
	json_object_put(o);
	struct err e = {0};
	if (!strcmp(type, "InstanceStart")) {
		if (vm_api_instance_vm(r->in))
			return fault(r, 400, "the VM has already started");
		struct vm_api_req q = {.kind = VM_API_REQ_START};
		return vm_api_submit(r->in, &q, &e) ? fault_err(r, &e) : 204;
	}
	if (!strcmp(type, "SendCtrlAltDel")) {
		struct vm *vm = need_vm(r, &status);
		if (!vm)
			return status;
		return vm_send_ctrl_alt_del(vm, &e) ? fault_err(r, &e) : 204;
	}
	if (!strcmp(type, "FlushMetrics"))
		return vm_api_tel_flush(&r->in->tel, &e) ? fault_err(r, &e) : 204;
	return fault(r, 400,
	             "\"action_type\" must be \"InstanceStart\", \"SendCtrlAltDel\" or "
	             "\"FlushMetrics\"");
}

static int patch_vm(struct req *r)
{
	static const struct api_field f[] = {{"state", API_STR, 1}, {NULL, 0, 0}};
	int status;
	struct vm *vm = need_vm(r, &status);
	if (!vm)
		return status;
	json_object *o = body(r, f, &status);
	if (!o)
		return status;
	const char *state = api_str(o, "state");
	struct err e = {0};
	int rc;
	enum vm_api_event ev = VM_API_EV_PAUSED;
	if (!strcmp(state, "Paused")) {
		rc = vm_pause(vm, &e);
	} else if (!strcmp(state, "Resumed")) {
		rc = vm_resume(vm, &e);
		ev = VM_API_EV_RESUMED;
	} else {
		json_object_put(o);
		return fault(r, 400, "\"state\" must be \"Paused\" or \"Resumed\"");
	}
	json_object_put(o);
	if (!rc)
		vm_api_tel_event(&r->in->tel, ev, NULL);
	return rc ? fault_err(r, &e) : 204;
}

static int snapshot_create(struct req *r)
{
	static const struct api_field f[] = {
	    {"snapshot_path", API_STR, 1},
	    {"snapshot_type", API_STR, 0},
	    {"mem_file_path", API_STR, 0},
	    {"with_disks", API_BOOL, 0},   /* capsa extension: the disks' data too */
	    {"memory_format", API_STR, 0}, /* capsa extension: "compressed" or "raw" */
	    {NULL, 0, 0},
	};
	int status;
	struct vm *vm = need_vm(r, &status);
	if (!vm)
		return status;
	json_object *o = body(r, f, &status);
	if (!o)
		return status;
	const char *path = api_str(o, "snapshot_path");
	const char *type = api_str(o, "snapshot_type");
	const char *form = api_str(o, "memory_format");
	const char *mem = api_str(o, "mem_file_path");
	if (!*path)
		status = fault(r, 400, "\"snapshot_path\" must not be empty");
	else if (type && strcmp(type, "Full"))
		status = fault(r, 400, "only \"snapshot_type\": \"Full\" is supported");
	else if (form && strcmp(form, "compressed") && strcmp(form, "raw"))
		status = fault(r, 400, "\"memory_format\" must be \"compressed\" or \"raw\"");
	else if (mem && (!*mem || !strcmp(mem, path)))
		status = fault(r, 400, "\"mem_file_path\" must be a file other than the snapshot");
	else if (mem && form)
		status = fault(r, 400,
		               "a \"mem_file_path\" is always a raw image: no "
		               "\"memory_format\"");
	else
		status = 0;
	struct vm_snapshot_opts so = {
	    .with_disks = api_bool(o, "with_disks", 0),
	    .memory_raw = form && !strcmp(form, "raw"),
	    .mem_path = mem,
	};
	struct vm_device_names names;
	vm_api_machine_names(r->in->m, &names);
	so.names = &names;
	struct err e = {0};
	if (!status)
		status = vm_snapshot_save_opts(vm, path, &so, &e) ? fault_err(r, &e) : 204;
	json_object_put(o);
	return status;
}

static int snapshot_load_check(struct req *r, json_object *o)
{
	if (vm_api_instance_vm(r->in))
		return fault(r, 400, "a VM is already running in this process");
	if (r->in->m->configured)
		return fault(r, 400,
		             "a snapshot loads only into a process started with just --api-sock "
		             "and not configured since");
	if (api_has(o, "mem_file_path") && api_has(o, "mem_backend"))
		return fault(r, 400, "give \"mem_file_path\" or \"mem_backend\", not both");
	if (api_bool(o, "enable_diff_snapshots", 0))
		return fault(r, 400, "\"enable_diff_snapshots\" is not supported");
	if (!*api_str(o, "snapshot_path"))
		return fault(r, 400, "\"snapshot_path\" must not be empty");
	if (strlen(api_str(o, "snapshot_path")) >= sizeof(((struct vm_api_req *)0)->path))
		return fault(r, 400, "\"snapshot_path\" is too long");
	return 0;
}

/* Where the memory is, for a snapshot saved with mem_file_path: the
 * deprecated "mem_file_path" or "mem_backend" of type "File" (a "Uffd"
 * backend, an outside page-fault handler, is not served). */
static int load_mem_path(struct req *r, json_object *o, char *out, size_t cap)
{
	static const struct api_field be[] = {
	    {"backend_path", API_STR, 1}, {"backend_type", API_STR, 1}, {NULL, 0, 0}};
	const char *p = api_str(o, "mem_file_path");
	json_object *b = api_obj(o, "mem_backend");
	if (b) {
		struct err e = {0};
		if (api_body_check(b, "\"mem_backend\": ", be, &e))
			return fault_err(r, &e);
		if (strcmp(api_str(b, "backend_type"), "File"))
			return fault(r, 400, "only \"backend_type\": \"File\" is supported");
		p = api_str(b, "backend_path");
	}
	if (p && (!*p || strlen(p) >= cap))
		return fault(r, 400, "the memory file path is empty or too long");
	snprintf(out, cap, "%s", p ? p : "");
	return 0;
}

/* One entry of network_overrides into q->net[k]. */
static int net_override(json_object *v, struct vm_api_req *q, size_t k, struct err *e)
{
	static const struct api_field f[] = {
	    {"iface_id", API_STR, 1}, {"host_dev_name", API_STR, 1}, {NULL, 0, 0}};
	if (!json_object_is_type(v, json_type_object))
		return err_set(e, ERR_INPUT, "\"network_overrides\" must hold objects");
	if (api_body_check(v, "\"network_overrides\": ", f, e))
		return -1;
	const char *id = api_str(v, "iface_id"), *tap = api_str(v, "host_dev_name");
	if (!*id || strlen(id) >= sizeof(q->net[k].iface_id))
		return err_set(e, ERR_INPUT, "\"iface_id\" must be 1 to %zu bytes",
		               sizeof(q->net[k].iface_id) - 1);
	if (!*tap || strlen(tap) >= sizeof(q->net[k].tap))
		return err_set(e, ERR_INPUT, "\"host_dev_name\" must be 1 to %zu bytes",
		               sizeof(q->net[k].tap) - 1);
	memcpy(q->net[k].iface_id, id, strlen(id) + 1);
	memcpy(q->net[k].tap, tap, strlen(tap) + 1);
	return 0;
}

/* Firecracker's network_overrides: [{"iface_id": ..., "host_dev_name": ...}]
 * (checked against the snapshot's interfaces when it is loaded). */
static int load_net_overrides(struct req *r, json_object *o, struct vm_api_req *q)
{
	json_object *a = NULL;
	if (!json_object_object_get_ex(o, "network_overrides", &a) || !a)
		return 0;
	size_t n = json_object_array_length(a);
	struct err e = {0};
	if (n > VM_NET_MAX)
		err_set(&e, ERR_INPUT, "\"network_overrides\": at most %d entries", VM_NET_MAX);
	for (size_t k = 0; k < n && !e.kind; k++)
		net_override(json_object_array_get_idx(a, k), q, k, &e);
	if (e.kind)
		return fault_err(r, &e);
	q->nnet = (unsigned)n;
	return 0;
}

static int snapshot_load(struct req *r)
{
	static const struct api_field f[] = {
	    {"snapshot_path", API_STR, 1},      {"mem_file_path", API_STR, 0},
	    {"mem_backend", API_OBJ, 0},        {"enable_diff_snapshots", API_BOOL, 0},
	    {"track_dirty_pages", API_BOOL, 0}, {"resume_vm", API_BOOL, 0},
	    {"network_overrides", API_ARR, 0},  {NULL, 0, 0},
	};
	int status;
	json_object *o = body(r, f, &status);
	if (!o)
		return status;
	status = snapshot_load_check(r, o);
	struct vm_api_req q = {.kind = VM_API_REQ_LOAD, .resume = api_bool(o, "resume_vm", 0)};
	if (!status)
		status = load_mem_path(r, o, q.mem_path, sizeof(q.mem_path));
	if (!status)
		status = load_net_overrides(r, o, &q);
	if (!status)
		snprintf(q.path, sizeof(q.path), "%s", api_str(o, "snapshot_path"));
	json_object_put(o);
	if (status)
		return status;
	struct err e = {0};
	return vm_api_submit(r->in, &q, &e) ? fault_err(r, &e) : 204;
}

/* PUT/GET /migrate, a capsa extension (migrate_route.h). */
static int migrate(struct req *r)
{
	int status;
	struct vm *vm = need_vm(r, &status);
	if (!vm)
		return status;
	struct vm_device_names names;
	vm_api_machine_names(r->in->m, &names);
	return vm_api_migrate(vm, &names, r->method == M_GET ? "GET" : "PUT", r->body, r->len,
	                      r->out);
}

static int version(struct req *r)
{
	return reply_json(r, vm_api_version_json());
}

static int set_entropy(struct vm_api_machine *m, const char *id, json_object *o, struct err *e)
{
	(void)id;
	return vm_api_put_entropy(m, o, e);
}

static int entropy(struct req *r)
{
	return configure(r, vm_api_entropy_fields, set_entropy);
}

static int set_serial(struct vm_api_machine *m, const char *id, json_object *o, struct err *e)
{
	(void)id;
	return vm_api_put_serial(m, o, e);
}

static int serial(struct req *r)
{
	return configure(r, vm_api_serial_fields, set_serial);
}

/* PUT /logger and /metrics: the instance's telemetry (extra.h). */
static int with_instance(struct req *r, const struct api_field *fields,
                         int (*set)(struct vm_api_instance *in, json_object *o, struct err *e))
{
	int status;
	json_object *o = body(r, fields, &status);
	if (!o)
		return status;
	struct err e = {0};
	int rc = set(r->in, o, &e);
	json_object_put(o);
	return rc ? fault_err(r, &e) : 204;
}

static int logger(struct req *r)
{
	return with_instance(r, vm_api_logger_fields, vm_api_put_logger);
}

static int metrics(struct req *r)
{
	return with_instance(r, vm_api_metrics_fields, vm_api_put_metrics);
}

static int set_balloon(struct vm_api_machine *m, const char *id, json_object *o, struct err *e)
{
	(void)id;
	return vm_api_put_balloon(m, o, e);
}

/* GET with a JSON answer built from the instance, or its refusal. */
static int get_with(struct req *r, json_object *(*get)(struct vm_api_instance *in, struct err *e))
{
	struct err e = {0};
	json_object *o = get(r->in, &e);
	return o ? reply_json(r, o) : fault_err(r, &e);
}

static int balloon(struct req *r)
{
	if (r->method == M_GET)
		return get_with(r, vm_api_get_balloon);
	if (r->method == M_PATCH)
		return with_instance(r, vm_api_balloon_patch_fields, vm_api_patch_balloon);
	return configure(r, vm_api_balloon_put_fields, set_balloon);
}

static int balloon_stats(struct req *r)
{
	if (r->method == M_GET)
		return get_with(r, vm_api_balloon_stats_json);
	return with_instance(r, vm_api_balloon_stats_fields, vm_api_patch_balloon_stats);
}

static int method_bit(const char *m)
{
	return !strcmp(m, "GET")     ? M_GET
	       : !strcmp(m, "PUT")   ? M_PUT
	       : !strcmp(m, "PATCH") ? M_PATCH
	                             : 0;
}

static const struct route {
	const char *path; /* ending in '/': followed by an {id} */
	int methods;
	int (*fn)(struct req *r);
} routes[] = {
    {"/", M_GET, get_info},
    {"/machine-config", M_GET | M_PUT | M_PATCH, machine_config},
    {"/vm/config", M_GET, get_vm_config},
    {"/boot-source", M_PUT, boot_source},
    {"/drives/", M_PUT | M_PATCH, drive},
    {"/network-interfaces/", M_PUT | M_PATCH, iface},
    {"/vsock", M_PUT, vsock},
    {"/actions", M_PUT, actions},
    {"/vm", M_PATCH, patch_vm},
    {"/snapshot/create", M_PUT, snapshot_create},
    {"/snapshot/load", M_PUT, snapshot_load},
    {"/migrate", M_GET | M_PUT, migrate},
    {"/version", M_GET, version},
    {"/entropy", M_PUT, entropy},
    {"/logger", M_PUT, logger},
    {"/metrics", M_PUT, metrics},
    {"/balloon", M_GET | M_PUT | M_PATCH, balloon},
    {"/balloon/statistics", M_GET | M_PATCH, balloon_stats},
    {"/serial", M_PUT, serial},
};

/* Firecracker endpoints capsa does not serve: a clear 400 rather than 404,
 * saying what is missing. */
static const struct {
	const char *path, *what;
} unserved[] = {
    {"/balloon/hinting", "free page hinting"},
    {"/mmds", "a microVM metadata service"},
    {"/cpu-config", "custom CPU templates"},
    {"/hotplug", "hot-plugging devices"},
};

static int path_is(const char *path, size_t plen, const char *p)
{
	return strlen(p) == plen && !strncmp(p, path, plen);
}

static const struct route *find(const char *path, size_t plen, char *id, size_t idcap)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		size_t n = strlen(rt->path);
		if (rt->path[n - 1] != '/' || n == 1) {
			if (path_is(path, plen, rt->path))
				return rt;
			continue;
		}
		/* "/drives/" + a non-empty id without '/' */
		if (plen > n && plen - n < idcap && !strncmp(path, rt->path, n) &&
		    !memchr(path + n, '/', plen - n)) {
			memcpy(id, path + n, plen - n);
			id[plen - n] = '\0';
			return rt;
		}
	}
	return NULL;
}

/* Answer the request; *key is the route's path (its name in the metrics), or
 * NULL for an unknown path. */
static int dispatch(struct vm_api_instance *in, const char *method, const char *path,
                    const char *body_text, size_t body_len, char **out, const char **key)
{
	*out = NULL;
	char id[HTTP_MAX_PATH];
	size_t plen = strcspn(path, "?");
	struct req r = {in, method_bit(method), id, body_text, body_len, out};
	const struct route *rt = find(path, plen, id, sizeof(id));
	*key = rt ? rt->path : NULL;
	if (rt && !(rt->methods & r.method)) {
		char msg[HTTP_MAX_PATH + 64];
		snprintf(msg, sizeof(msg), "%.16s is not allowed on %.*s", method, (int)plen, path);
		return fault(&r, 405, msg);
	}
	if (rt)
		return rt->fn(&r);
	for (size_t i = 0; i < sizeof(unserved) / sizeof(unserved[0]); i++) {
		const char *u = unserved[i].path;
		size_t n = strlen(u);
		if (plen >= n && !strncmp(path, u, n) && (plen == n || path[n] == '/')) {
			char msg[192];
			snprintf(
			    msg, sizeof(msg),
			    "%s is a Firecracker endpoint capsa does not serve: capsa does not "
			    "support %s",
			    u, unserved[i].what);
			*key = u;
			return fault(&r, 400, msg);
		}
	}
	return fault(&r, 404, "unknown path");
}

int vm_api_route(struct vm_api_instance *in, const char *method, const char *path,
                 const char *body_text, size_t body_len, char **out)
{
	const char *key = NULL;
	int status = dispatch(in, method, path, body_text, body_len, out, &key);
	size_t plen = strcspn(path, "?");
	vm_api_tel_request(&in->tel, method, key ? key : "/other", path, plen, status);
	if (key && !strcmp(key, "/snapshot/create") && status == 204)
		vm_api_tel_event(&in->tel, VM_API_EV_SNAPSHOT, NULL);
	return status;
}
