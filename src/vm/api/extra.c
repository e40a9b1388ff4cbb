/* SPDX-License-Identifier: Apache-2.0 */
/* See extra.h. */
#include "vm/api/extra.h"

#include "devices/virtio/blk.h"
#include "lib/version.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const struct api_field vm_api_entropy_fields[] = {
    {"rate_limiter", API_OBJ, 0},
    {NULL, 0, 0},
};

const struct api_field vm_api_logger_fields[] = {
    {"log_path", API_STR, 1},         {"level", API_STR, 0},  {"show_level", API_BOOL, 0},
    {"show_log_origin", API_BOOL, 0}, {"module", API_STR, 0}, {NULL, 0, 0},
};

const struct api_field vm_api_serial_fields[] = {
    {"serial_out_path", API_STR, 1},
    {NULL, 0, 0},
};

int vm_api_put_serial(struct vm_api_machine *m, json_object *o, struct err *e)
{
	const char *path = api_str(o, "serial_out_path");
	if (!*path || strlen(path) >= sizeof(m->serial_out))
		return err_set(e, ERR_INPUT, "\"serial_out_path\" must be 1 to %zu bytes",
		               sizeof(m->serial_out) - 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_sys(e, "\"serial_out_path\": cannot open %s", path);
		e->kind = ERR_INPUT;
		return -1;
	}
	close(fd);
	/* like the logger, not the machine: a snapshot may still be loaded */
	snprintf(m->serial_out, sizeof(m->serial_out), "%s", path);
	return 0;
}

const struct api_field vm_api_metrics_fields[] = {
    {"metrics_path", API_STR, 1},
    {NULL, 0, 0},
};

/* Metric names of the device counters, in their structs' order. */
static const char *const blk_names[] = {
    "read_count",         "write_count", "flush_count", "discard_count",
    "write_zeroes_count", "io_errors",   "read_bytes",  "write_bytes",
};
static const char *const net_names[] = {
    "rx_packets_count", "rx_bytes_count",      "rx_dropped",   "tx_packets_count", "tx_bytes_count",
    "tx_dropped",       "tx_malformed_frames", "rx_throttled", "tx_throttled",
};
#define NBLK (sizeof(blk_names) / sizeof(blk_names[0]))
#define NNET (sizeof(net_names) / sizeof(net_names[0]))
_Static_assert(NBLK * sizeof(uint64_t) == sizeof(struct virtio_blk_stats), "blk counters");
_Static_assert(NNET * sizeof(uint64_t) == sizeof(struct virtio_net_stats), "net counters");

static void add_sum(json_object *o, const char *key, unsigned devices, const char *const *names,
                    const uint64_t *sum, size_t n)
{
	json_object *g = json_object_new_object();
	api_add_u64(g, "devices", devices);
	for (size_t i = 0; i < n; i++)
		api_add_u64(g, names[i], sum[i]);
	json_object_object_add(o, key, g);
}

void vm_api_device_metrics(void *in, struct json_object *o)
{
	struct vm *vm = vm_api_instance_vm(in);
	if (!vm)
		return;
	uint64_t b[NBLK], n[NNET], bsum[NBLK] = {0}, nsum[NNET] = {0};
	unsigned nblk = 0, nnet = 0;
	for (unsigned i = 0; i < vm_virtio_devices(vm); i++) {
		int kind = vm_virtio_counters(vm, i, (struct virtio_blk_stats *)b,
		                              (struct virtio_net_stats *)n);
		for (size_t k = 0; kind == VM_DEV_BLK && k < NBLK; k++)
			bsum[k] += b[k];
		for (size_t k = 0; kind == VM_DEV_NET && k < NNET; k++)
			nsum[k] += n[k];
		nblk += kind == VM_DEV_BLK;
		nnet += kind == VM_DEV_NET;
	}
	add_sum(o, "block", nblk, blk_names, bsum, NBLK);
	add_sum(o, "net", nnet, net_names, nsum, NNET);
}

json_object *vm_api_version_json(void)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "firecracker_version", json_object_new_string(CAPSA_VERSION));
	return o;
}

/* An empty rate limiter: {} or members that are all null. */
static int limiter_empty(json_object *lim)
{
	if (!lim)
		return 1;
	json_object_object_foreach(lim, key, val)
	{
		(void)key;
		if (val)
			return 0;
	}
	return 1;
}

int vm_api_put_entropy(struct vm_api_machine *m, json_object *o, struct err *e)
{
	if (!limiter_empty(api_obj(o, "rate_limiter")))
		return err_set(e, ERR_INPUT,
		               "\"rate_limiter\": rate limiting the entropy device is not "
		               "supported");
	struct vm_virtio_config *v = &m->cfg.virtio;
	if (!v->rng && vm_virtio_count(v) >= VM_VIRTIO_MAX)
		return err_set(e, ERR_INPUT, "too many virtio devices (at most %d)", VM_VIRTIO_MAX);
	v->rng = 1;
	m->configured = 1;
	return 0;
}

/* Run fn with the VM's devices paused (the VM too, unless it was). */
static int with_devices_paused(struct vm *vm, int (*fn)(struct vm *vm, void *arg, struct err *e),
                               void *arg, struct err *e)
{
	struct vm_info info;
	vm_get_info(vm, &info);
	if (info.ended)
		return err_set(e, ERR_INPUT, "the VM is not running");
	if (!info.paused && vm_pause(vm, e))
		return -1;
	int rc = fn(vm, arg, e);
	struct err later = {0};
	if (!info.paused && vm_resume(vm, rc ? &later : e))
		rc = -1;
	return rc ? -1 : 0;
}

struct drive_change {
	unsigned i;
	const char *path;
	int limits;
	const struct vm_virtio_disk *lim;
};

static int change_drive(struct vm *vm, void *arg, struct err *e)
{
	const struct drive_change *c = arg;
	return (c->path && vm_virtio_swap_disk(vm, c->i, c->path, e)) ||
	               (c->limits && vm_virtio_set_disk_limits(vm, c->i, c->lim, e))
	           ? -1
	           : 0;
}

int vm_api_patch_running_drive(struct vm_api_instance *in, const char *id, json_object *o,
                               struct err *e)
{
	struct vm_api_machine *m = in->m;
	struct vm *vm = vm_api_instance_vm(in);
	const char *path = api_str(o, "path_on_host");
	if (strcmp(api_str(o, "drive_id"), id))
		return err_set(e, ERR_INPUT, "\"drive_id\" differs from the path's \"%s\"", id);
	unsigned i = 0;
	while (i < m->cfg.virtio.ndisks && strcmp(m->drives[i].id, id))
		i++;
	if (i == m->cfg.virtio.ndisks)
		return err_set(e, ERR_INPUT, "the VM has no drive \"%s\"", id);
	struct vm_virtio_disk lim = m->cfg.virtio.disks[i];
	int limits = api_has(o, "rate_limiter");
	if (limits && vm_api_drive_limits(o, &lim, e))
		return -1;
	if (!path && !limits)
		return 0;
	if (path && (!*path || access(path, R_OK))) {
		err_sys(e, "\"path_on_host\": cannot read %s", path);
		e->kind = ERR_INPUT;
		return -1;
	}
	/* the devices stop between two requests while the file changes */
	struct drive_change c = {i, path, limits, &lim};
	int rc = with_devices_paused(vm, change_drive, &c, e);
	if (path && rc == 0)
		snprintf(lim.path, sizeof(lim.path), "%s", path);
	if (rc == 0)
		m->cfg.virtio.disks[i] = lim;
	return rc ? -1 : 0;
}

struct iface_change {
	unsigned i;
	const struct virtio_net_limits *lim;
};

static int change_iface(struct vm *vm, void *arg, struct err *e)
{
	const struct iface_change *c = arg;
	return vm_virtio_set_net_limits(vm, c->i, c->lim, e);
}

int vm_api_patch_running_iface(struct vm_api_instance *in, const char *id, json_object *o,
                               struct err *e)
{
	struct vm_api_machine *m = in->m;
	struct virtio_net_limits lim;
	int i = vm_api_iface_patch(m, id, o, &lim, e);
	if (i < 0)
		return -1;
	struct iface_change c = {(unsigned)i, &lim};
	if (with_devices_paused(vm_api_instance_vm(in), change_iface, &c, e))
		return -1;
	m->cfg.virtio.net.d[i].lim = lim;
	return 0;
}

static int pre_boot(struct vm_api_instance *in, const char *what, struct err *e)
{
	if (vm_api_instance_vm(in))
		return err_set(e, ERR_INPUT, "%s can be configured only before the VM starts",
		               what);
	return 0;
}

int vm_api_put_logger(struct vm_api_instance *in, json_object *o, struct err *e)
{
	const char *module = api_str(o, "module");
	if (pre_boot(in, "the logger", e))
		return -1;
	if (module && *module)
		return err_set(e, ERR_INPUT,
		               "\"module\": filtering the log by module is not "
		               "supported");
	return vm_api_tel_set_logger(&in->tel, api_str(o, "log_path"), api_str(o, "level"),
	                             api_bool(o, "show_level", 0),
	                             api_bool(o, "show_log_origin", 0), e);
}

int vm_api_put_metrics(struct vm_api_instance *in, json_object *o, struct err *e)
{
	if (pre_boot(in, "the metrics", e))
		return -1;
	return vm_api_tel_set_metrics(&in->tel, api_str(o, "metrics_path"), e);
}
