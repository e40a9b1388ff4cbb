/* SPDX-License-Identifier: Apache-2.0 */
/* See machine.h. Field names and meanings follow Firecracker's API; the
 * limits are capsa's own (those of `capsa vm run`'s flags). */
#include "vm/api/machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct api_field vm_api_boot_source_fields[] = {
    {"kernel_image_path", API_STR, 1},
    {"initrd_path", API_STR, 0},
    {"boot_args", API_STR, 0},
    {NULL, 0, 0},
};

#define MACHINE_FIELDS(req)                                                                        \
	{"vcpu_count", API_UINT, req}, {"mem_size_mib", API_UINT, req}, {"smt", API_BOOL, 0},      \
	    {"track_dirty_pages", API_BOOL, 0}, {"cpu_template", API_STR, 0},                      \
	    {"huge_pages", API_STR, 0},                                                            \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
const struct api_field vm_api_machine_put_fields[] = {MACHINE_FIELDS(1)};
const struct api_field vm_api_machine_patch_fields[] = {MACHINE_FIELDS(0)};

const struct api_field vm_api_drive_fields[] = {
    {"drive_id", API_STR, 1},        {"path_on_host", API_STR, 1},
    {"is_root_device", API_BOOL, 1}, {"is_read_only", API_BOOL, 0},
    {"partuuid", API_STR, 0},        {"cache_type", API_STR, 0},
    {"io_engine", API_STR, 0},       {"rate_limiter", API_OBJ, 0},
    {"socket", API_STR, 0},          {NULL, 0, 0},
};

const struct api_field vm_api_iface_fields[] = {
    {"iface_id", API_STR, 1},        {"host_dev_name", API_STR, 1},   {"guest_mac", API_STR, 0},
    {"rx_rate_limiter", API_OBJ, 0}, {"tx_rate_limiter", API_OBJ, 0}, {NULL, 0, 0},
};

const struct api_field vm_api_vsock_fields[] = {
    {"guest_cid", API_UINT, 1},
    {"uds_path", API_STR, 1},
    {"vsock_id", API_STR, 0},
    {NULL, 0, 0},
};

static const struct api_field limiter_fields[] = {
    {"bandwidth", API_OBJ, 0},
    {"ops", API_OBJ, 0},
    {NULL, 0, 0},
};

static const struct api_field bucket_fields[] = {
    {"size", API_UINT, 1},
    {"one_time_burst", API_UINT, 0},
    {"refill_time", API_UINT, 1},
    {NULL, 0, 0},
};

int vm_api_machine_init(struct vm_api_machine *m, const char *default_boot_args, struct err *e)
{
	memset(m, 0, sizeof(*m));
	m->cfg.cpus = 1;
	m->cfg.memory = 256ULL << 20;
	m->cfg.console_in = m->cfg.console_out = -1;
	m->default_boot_args = default_boot_args;
	return vm_api_machine_set_args(m, default_boot_args, e);
}

void vm_api_machine_free(struct vm_api_machine *m)
{
	free(m->boot_args);
	m->boot_args = NULL;
}

int vm_api_machine_set_args(struct vm_api_machine *m, const char *args, struct err *e)
{
	char *s = strdup(args ? args : "");
	if (!s)
		return err_sys(e, "strdup");
	free(m->boot_args);
	m->boot_args = s;
	return 0;
}

void vm_api_machine_name_devices(struct vm_api_machine *m)
{
	for (unsigned i = 0; i < m->cfg.virtio.ndisks; i++)
		if (!m->drives[i].id[0]) {
			const char *own = m->cfg.virtio.disks[i].id;
			if (own[0])
				memcpy(m->drives[i].id, own, strlen(own) + 1); /* 20 at most */
			else
				snprintf(m->drives[i].id, VM_API_ID_MAX, "drive%u", i);
		}
	for (unsigned i = 0; i < m->cfg.virtio.net.n; i++)
		if (!m->iface_id[i][0])
			snprintf(m->iface_id[i], VM_API_ID_MAX, "net%u", i);
}

void vm_api_machine_restored(struct vm_api_machine *m, struct vm *vm,
                             const struct vm_device_names *names)
{
	struct vm_info i;
	vm_get_info(vm, &i);
	m->cfg.cpus = i.cpus;
	m->cfg.memory = i.memory;
	const struct vm_virtio_config *v = vm_virtio_attached(vm);
	if (v)
		m->cfg.virtio = *v;
	memset(m->drives, 0, sizeof(m->drives));
	memset(m->iface_id, 0, sizeof(m->iface_id));
	for (unsigned k = 0; names && k < m->cfg.virtio.ndisks; k++)
		memcpy(m->drives[k].id, names->drive[k], sizeof(m->drives[k].id));
	for (unsigned k = 0; names && k < m->cfg.virtio.net.n; k++)
		memcpy(m->iface_id[k], names->iface[k], sizeof(m->iface_id[k]));
	vm_api_machine_name_devices(m);
}

void vm_api_machine_names(const struct vm_api_machine *m, struct vm_device_names *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned k = 0; k < m->cfg.virtio.ndisks && k < VM_VIRTIO_MAX; k++)
		memcpy(out->drive[k], m->drives[k].id, sizeof(out->drive[k]));
	for (unsigned k = 0; k < m->cfg.virtio.net.n && k < VM_NET_MAX; k++)
		memcpy(out->iface[k], m->iface_id[k], sizeof(out->iface[k]));
}

/* A host path for the VM process to open: non-empty, bounded, readable. */
static int host_path(const char *what, const char *p, char *dst, size_t cap, struct err *e)
{
	if (!*p || strlen(p) >= cap)
		return err_set(e, ERR_INPUT, "\"%s\" must be a path of 1 to %zu bytes", what,
		               cap - 1);
	if (access(p, R_OK)) {
		err_sys(e, "\"%s\": cannot read %s", what, p);
		e->kind = ERR_INPUT;
		return -1;
	}
	if (dst)
		memcpy(dst, p, strlen(p) + 1);
	return 0;
}

int vm_api_put_boot_source(struct vm_api_machine *m, json_object *o, struct err *e)
{
	const char *kernel = api_str(o, "kernel_image_path");
	const char *initrd = api_str(o, "initrd_path");
	const char *args = api_str(o, "boot_args");
	if (host_path("kernel_image_path", kernel, NULL, sizeof(m->kernel), e) ||
	    (initrd && host_path("initrd_path", initrd, NULL, sizeof(m->initrd), e)))
		return -1;
	if (vm_api_machine_set_args(m, args ? args : m->default_boot_args, e))
		return -1;
	snprintf(m->kernel, sizeof(m->kernel), "%s", kernel);
	m->cfg.kernel = m->kernel;
	snprintf(m->initrd, sizeof(m->initrd), "%s", initrd ? initrd : "");
	m->cfg.initrd = initrd ? m->initrd : NULL;
	m->configured = 1;
	return 0;
}

static int only_none(json_object *o, const char *key, struct err *e)
{
	const char *v = api_str(o, key);
	if (v && strcmp(v, "None"))
		return err_set(e, ERR_INPUT, "\"%s\": only \"None\" is supported, not \"%s\"", key,
		               v);
	return 0;
}

/* PUT (both sizes required by the field list) and PATCH alike. */
int vm_api_put_machine_config(struct vm_api_machine *m, json_object *o, struct err *e)
{
	uint64_t cpus = api_uint(o, "vcpu_count", m->cfg.cpus);
	uint64_t mib = api_uint(o, "mem_size_mib", m->cfg.memory >> 20);
	if (cpus < 1 || cpus > 254)
		return err_set(e, ERR_INPUT, "\"vcpu_count\" %llu is out of range (1 to 254)",
		               (unsigned long long)cpus);
	if (mib < (VM_MIN_MEMORY >> 20) || mib > (VM_MAX_MEMORY >> 20))
		return err_set(e, ERR_INPUT, "\"mem_size_mib\" %llu is out of range (%llu to %llu)",
		               (unsigned long long)mib, VM_MIN_MEMORY >> 20, VM_MAX_MEMORY >> 20);
	if (api_bool(o, "smt", 0))
		return err_set(e, ERR_INPUT, "\"smt\": only false is supported");
	if (only_none(o, "cpu_template", e) || only_none(o, "huge_pages", e))
		return -1;
	m->cfg.cpus = (unsigned)cpus;
	m->cfg.memory = mib << 20;
	m->track_dirty_pages = api_bool(o, "track_dirty_pages", m->track_dirty_pages);
	m->configured = 1;
	return 0;
}

/* A Firecracker id: 1 to 63 letters, digits or underscores. */
static int check_id(const char *what, const char *path_id, const char *body_id, struct err *e)
{
	size_t n = strlen(body_id);
	if (n == 0 || n >= VM_API_ID_MAX ||
	    strspn(body_id, "abcdefghijklmnopqrstuvwxyz"
	                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n)
		return err_set(e, ERR_INPUT,
		               "\"%s\" must be 1 to %d letters, digits or underscores", what,
		               VM_API_ID_MAX - 1);
	if (strcmp(path_id, body_id))
		return err_set(e, ERR_INPUT, "\"%s\" \"%s\" differs from the path's \"%s\"", what,
		               body_id, path_id);
	return 0;
}

/* A token bucket {size, refill_time ms} as a rate per second and a burst
 * (the bucket's size); size or refill_time 0 means no limit. */
static int bucket(json_object *lim, const char *key, const char *what, uint64_t *rate,
                  uint64_t *burst, struct err *e)
{
	json_object *b = api_obj(lim, key);
	*rate = *burst = 0;
	if (!b)
		return 0;
	char ctx[96];
	snprintf(ctx, sizeof(ctx), "%s.%s: ", what, key);
	if (api_body_check(b, ctx, bucket_fields, e))
		return -1;
	if (api_uint(b, "one_time_burst", 0))
		return err_set(e, ERR_INPUT, "%s\"one_time_burst\" is not supported", ctx);
	uint64_t size = api_uint(b, "size", 0), ms = api_uint(b, "refill_time", 0);
	if (!size || !ms)
		return 0;
	unsigned __int128 r = (unsigned __int128)size * 1000 / ms;
	*rate = r > UINT32_MAX * 1000ULL ? UINT32_MAX * 1000ULL : (uint64_t)r;
	*burst = size;
	return *rate ? 0 : err_set(e, ERR_INPUT, "%sless than 1 per second", ctx);
}

/* rate_limiter {bandwidth, ops} into bytes and operations per second. */
static int limiter(json_object *o, const char *key, uint64_t *bps, uint64_t *bps_burst,
                   uint64_t *ops, uint64_t *ops_burst, struct err *e)
{
	json_object *lim = api_obj(o, key);
	char ctx[64];
	snprintf(ctx, sizeof(ctx), "\"%s\": ", key);
	if (lim && api_body_check(lim, ctx, limiter_fields, e))
		return -1;
	return bucket(lim, "bandwidth", key, bps, bps_burst, e) ||
	       bucket(lim, "ops", key, ops, ops_burst, e);
}

static int drive_options(json_object *o, struct vm_virtio_disk *d, struct vm_api_drive *a,
                         struct err *e)
{
	const char *cache = api_str(o, "cache_type"), *engine = api_str(o, "io_engine");
	const char *uuid = api_str(o, "partuuid");
	if (api_has(o, "socket"))
		return err_set(e, ERR_INPUT, "\"socket\": vhost-user drives are not supported");
	if (cache && strcmp(cache, "Unsafe") && strcmp(cache, "Writeback"))
		return err_set(e, ERR_INPUT, "\"cache_type\" must be \"Unsafe\" or \"Writeback\"");
	if (engine && strcmp(engine, "Sync") && strcmp(engine, "Async"))
		return err_set(e, ERR_INPUT, "\"io_engine\" must be \"Sync\" or \"Async\"");
	if (uuid && (!*uuid || strlen(uuid) >= sizeof(a->partuuid) ||
	             strspn(uuid, "0123456789abcdefABCDEF-") != strlen(uuid)))
		return err_set(e, ERR_INPUT, "\"partuuid\" must be a partition UUID");
	if (host_path("path_on_host", api_str(o, "path_on_host"), d->path, sizeof(d->path), e) ||
	    limiter(o, "rate_limiter", &d->bps, &d->bps_burst, &d->iops, &d->iops_burst, e))
		return -1;
	d->readonly = api_bool(o, "is_read_only", 0);
	d->sync_io = engine && !strcmp(engine, "Sync");
	d->poll_us = VM_VIRTIO_POLL_US;
	a->writeback = cache && !strcmp(cache, "Writeback");
	a->root = api_bool(o, "is_root_device", 0);
	snprintf(a->partuuid, sizeof(a->partuuid), "%s", uuid ? uuid : "");
	return 0;
}

static void drive_remove(struct vm_api_machine *m, unsigned i)
{
	struct vm_virtio_config *v = &m->cfg.virtio;
	memmove(&v->disks[i], &v->disks[i + 1], (v->ndisks - i - 1) * sizeof(v->disks[0]));
	memmove(&m->drives[i], &m->drives[i + 1], (v->ndisks - i - 1) * sizeof(m->drives[0]));
	v->ndisks--;
}

/* The root device goes first, so that the guest sees it as /dev/vda. */
static void drive_insert(struct vm_api_machine *m, const struct vm_virtio_disk *d,
                         const struct vm_api_drive *a)
{
	struct vm_virtio_config *v = &m->cfg.virtio;
	unsigned i = a->root ? 0 : v->ndisks;
	memmove(&v->disks[i + 1], &v->disks[i], (v->ndisks - i) * sizeof(v->disks[0]));
	memmove(&m->drives[i + 1], &m->drives[i], (v->ndisks - i) * sizeof(m->drives[0]));
	v->disks[i] = *d;
	m->drives[i] = *a;
	v->ndisks++;
}

int vm_api_put_drive(struct vm_api_machine *m, const char *id, json_object *o, struct err *e)
{
	const char *body_id = api_str(o, "drive_id");
	if (check_id("drive_id", id, body_id, e))
		return -1;
	struct vm_virtio_disk d;
	struct vm_api_drive a;
	memset(&d, 0, sizeof(d));
	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), "%s", id);
	if (strlen(id) < sizeof(d.id))
		memcpy(d.id, id, strlen(id) + 1); /* the disk's serial, when it fits */
	if (drive_options(o, &d, &a, e))
		return -1;
	struct vm_virtio_config *v = &m->cfg.virtio;
	int old = -1;
	for (unsigned i = 0; i < v->ndisks; i++) {
		if (!strcmp(m->drives[i].id, id))
			old = (int)i;
		else if (a.root && m->drives[i].root)
			return err_set(e, ERR_INPUT, "drive \"%s\" is already the root device",
			               m->drives[i].id);
	}
	if (old < 0 && vm_virtio_count(v) >= VM_VIRTIO_MAX)
		return err_set(e, ERR_INPUT, "too many virtio devices (at most %d)", VM_VIRTIO_MAX);
	if (old >= 0 && m->drives[old].root == a.root) {
		v->disks[old] = d; /* same place: the guest's device names stay */
		m->drives[old] = a;
	} else {
		if (old >= 0)
			drive_remove(m, (unsigned)old);
		drive_insert(m, &d, &a);
	}
	m->configured = 1;
	return 0;
}

const struct api_field vm_api_iface_patch_fields[] = {
    {"iface_id", API_STR, 1},
    {"rx_rate_limiter", API_OBJ, 0},
    {"tx_rate_limiter", API_OBJ, 0},
    {NULL, 0, 0},
};

int vm_api_iface_patch(const struct vm_api_machine *m, const char *id, json_object *o,
                       struct virtio_net_limits *l, struct err *e)
{
	if (check_id("iface_id", id, api_str(o, "iface_id"), e))
		return -1;
	unsigned i = 0;
	while (i < m->cfg.virtio.net.n && strcmp(m->iface_id[i], id))
		i++;
	if (i == m->cfg.virtio.net.n)
		return err_set(e, ERR_INPUT, "the VM has no network interface \"%s\"", id);
	*l = m->cfg.virtio.net.d[i].lim;
	if ((api_has(o, "rx_rate_limiter") &&
	     limiter(o, "rx_rate_limiter", &l->rx_bps, &l->rx_bps_burst, &l->rx_ops,
	             &l->rx_ops_burst, e)) ||
	    (api_has(o, "tx_rate_limiter") &&
	     limiter(o, "tx_rate_limiter", &l->tx_bps, &l->tx_bps_burst, &l->tx_ops,
	             &l->tx_ops_burst, e)))
		return -1;
	return (int)i;
}

int vm_api_patch_iface(struct vm_api_machine *m, const char *id, json_object *o, struct err *e)
{
	struct virtio_net_limits lim;
	int i = vm_api_iface_patch(m, id, o, &lim, e);
	if (i < 0)
		return -1;
	m->cfg.virtio.net.d[i].lim = lim;
	return 0;
}

const struct api_field vm_api_drive_patch_fields[] = {
    {"drive_id", API_STR, 1},
    {"path_on_host", API_STR, 0},
    {"rate_limiter", API_OBJ, 0},
    {NULL, 0, 0},
};

int vm_api_drive_limits(json_object *o, struct vm_virtio_disk *d, struct err *e)
{
	return limiter(o, "rate_limiter", &d->bps, &d->bps_burst, &d->iops, &d->iops_burst, e);
}

/* PATCH before start: the fields given replace those of the drive put. */
int vm_api_patch_drive(struct vm_api_machine *m, const char *id, json_object *o, struct err *e)
{
	if (check_id("drive_id", id, api_str(o, "drive_id"), e))
		return -1;
	unsigned i = 0;
	while (i < m->cfg.virtio.ndisks && strcmp(m->drives[i].id, id))
		i++;
	if (i == m->cfg.virtio.ndisks)
		return err_set(e, ERR_INPUT, "no drive \"%s\" to update (PUT /drives/%s first)", id,
		               id);
	struct vm_virtio_disk d = m->cfg.virtio.disks[i];
	const char *path = api_str(o, "path_on_host");
	if (path && host_path("path_on_host", path, d.path, sizeof(d.path), e))
		return -1;
	if (api_has(o, "rate_limiter") &&
	    limiter(o, "rate_limiter", &d.bps, &d.bps_burst, &d.iops, &d.iops_burst, e))
		return -1;
	m->cfg.virtio.disks[i] = d;
	return 0;
}

static int iface_options(json_object *o, struct vm_net_dev *d, struct err *e)
{
	const char *dev = api_str(o, "host_dev_name"), *mac = api_str(o, "guest_mac");
	if (!*dev || strlen(dev) >= sizeof(d->ifname))
		return err_set(e, ERR_INPUT,
		               "\"host_dev_name\" must be a tap name of 1 to %zu bytes",
		               sizeof(d->ifname) - 1);
	d->kind = VM_NET_TAP;
	memcpy(d->ifname, dev, strlen(dev) + 1);
	d->poll_us = VM_NET_POLL_US;
	if (mac) {
		if (vm_net_parse_mac(mac, d->mac, e))
			return err_prefix(e, "\"guest_mac\"");
		d->mac_set = 1;
	}
	struct virtio_net_limits *l = &d->lim;
	return limiter(o, "rx_rate_limiter", &l->rx_bps, &l->rx_bps_burst, &l->rx_ops,
	               &l->rx_ops_burst, e) ||
	       limiter(o, "tx_rate_limiter", &l->tx_bps, &l->tx_bps_burst, &l->tx_ops,
	               &l->tx_ops_burst, e);
}

int vm_api_put_iface(struct vm_api_machine *m, const char *id, json_object *o, struct err *e)
{
	if (check_id("iface_id", id, api_str(o, "iface_id"), e))
		return -1;
	struct vm_net_dev d;
	memset(&d, 0, sizeof(d));
	if (iface_options(o, &d, e))
		return -1;
	struct vm_net_config *n = &m->cfg.virtio.net;
	unsigned i = 0;
	while (i < n->n && strcmp(m->iface_id[i], id))
		i++;
	if (i == n->n && (n->n >= VM_NET_MAX || vm_virtio_count(&m->cfg.virtio) >= VM_VIRTIO_MAX))
		return err_set(e, ERR_INPUT, "too many network interfaces or virtio devices");
	if (!d.mac_set)
		vm_net_default_mac(i, d.mac);
	n->d[i] = d;
	snprintf(m->iface_id[i], VM_API_ID_MAX, "%s", id);
	if (i == n->n)
		n->n++;
	m->configured = 1;
	return 0;
}

int vm_api_put_vsock(struct vm_api_machine *m, json_object *o, struct err *e)
{
	uint64_t cid = api_uint(o, "guest_cid", 0);
	const char *uds = api_str(o, "uds_path");
	struct vm_vsock_config *v = &m->cfg.virtio.vsock;
	if (vsock_check_cid(cid, e))
		return err_prefix(e, "\"guest_cid\"");
	if (!*uds || strlen(uds) > VSOCK_UDS_MAX)
		return err_set(e, ERR_INPUT, "\"uds_path\" must be 1 to %d bytes", VSOCK_UDS_MAX);
	if (!v->enabled && vm_virtio_count(&m->cfg.virtio) >= VM_VIRTIO_MAX)
		return err_set(e, ERR_INPUT, "too many virtio devices (at most %d)", VM_VIRTIO_MAX);
	v->enabled = 1;
	v->cid = (uint32_t)cid;
	snprintf(v->uds, sizeof(v->uds), "%s", uds);
	m->configured = 1;
	return 0;
}

char *vm_api_machine_cmdline(const struct vm_api_machine *m, struct err *e)
{
	char root[160] = "";
	for (unsigned i = 0; i < m->cfg.virtio.ndisks; i++) {
		const struct vm_api_drive *a = &m->drives[i];
		if (!a->root)
			continue;
		const char *mode = m->cfg.virtio.disks[i].readonly ? "ro" : "rw";
		if (a->partuuid[0])
			snprintf(root, sizeof(root), "root=PARTUUID=%s %s", a->partuuid, mode);
		else
			snprintf(root, sizeof(root), "root=/dev/vd%c %s", 'a' + i, mode);
	}
	const char *args = m->boot_args ? m->boot_args : "";
	size_t len = strlen(args) + strlen(root) + 2;
	char *base = malloc(len);
	if (!base) {
		err_sys(e, "malloc");
		return NULL;
	}
	snprintf(base, len, "%s%s%s", args, *args && *root ? " " : "", root);
	char *full = vm_virtio_cmdline(&m->cfg.virtio, base);
	free(base);
	if (!full)
		err_sys(e, "building the kernel command line");
	return full;
}
