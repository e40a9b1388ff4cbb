/* SPDX-License-Identifier: Apache-2.0 */
/* GET /vm/config and GET /machine-config: the machine of machine.h in the
 * shape of Firecracker's full VM configuration. Rate limits are shown as
 * the token buckets they came from (size = burst, refill_time in ms). */
#include "vm/api/machine.h"

#include "vm/api/balloon.h"

#include <stdio.h>

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static json_object *bucket(uint64_t rate, uint64_t burst)
{
	if (!rate)
		return NULL;
	uint64_t size = burst ? burst : rate;
	json_object *b = json_object_new_object();
	api_add_u64(b, "size", size);
	api_add_u64(b, "refill_time", (uint64_t)((unsigned __int128)size * 1000 / rate));
	return b;
}

static json_object *limiter(uint64_t bps, uint64_t bps_burst, uint64_t ops, uint64_t ops_burst)
{
	if (!bps && !ops)
		return NULL;
	json_object *l = json_object_new_object();
	json_object_object_add(l, "bandwidth", bucket(bps, bps_burst));
	json_object_object_add(l, "ops", bucket(ops, ops_burst));
	return l;
}

static json_object *boot_source(const struct vm_api_machine *m)
{
	if (!m->cfg.kernel)
		return NULL;
	json_object *b = json_object_new_object();
	add_str(b, "kernel_image_path", m->cfg.kernel);
	add_str(b, "initrd_path", m->cfg.initrd);
	add_str(b, "boot_args", m->boot_args);
	return b;
}

static json_object *drives(const struct vm_api_machine *m)
{
	json_object *a = json_object_new_array();
	for (unsigned i = 0; i < m->cfg.virtio.ndisks; i++) {
		const struct vm_virtio_disk *d = &m->cfg.virtio.disks[i];
		const struct vm_api_drive *x = &m->drives[i];
		json_object *o = json_object_new_object();
		add_str(o, "drive_id", x->id);
		add_str(o, "path_on_host", d->path);
		json_object_object_add(o, "is_root_device", json_object_new_boolean(x->root));
		add_str(o, "partuuid", x->partuuid[0] ? x->partuuid : NULL);
		json_object_object_add(o, "is_read_only", json_object_new_boolean(d->readonly));
		add_str(o, "cache_type", x->writeback ? "Writeback" : "Unsafe");
		add_str(o, "io_engine", d->sync_io ? "Sync" : "Async");
		json_object_object_add(o, "rate_limiter",
		                       limiter(d->bps, d->bps_burst, d->iops, d->iops_burst));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *ifaces(const struct vm_api_machine *m)
{
	json_object *a = json_object_new_array();
	for (unsigned i = 0; i < m->cfg.virtio.net.n; i++) {
		const struct vm_net_dev *d = &m->cfg.virtio.net.d[i];
		const struct virtio_net_limits *l = &d->lim;
		json_object *o = json_object_new_object();
		add_str(o, "iface_id", m->iface_id[i]);
		/* user-mode networking has no host device */
		add_str(o, "host_dev_name", d->kind == VM_NET_TAP ? d->ifname : NULL);
		const uint8_t *mac = d->mac;
		char s[18];
		snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		         mac[3], mac[4], mac[5]);
		add_str(o, "guest_mac", s);
		json_object_object_add(
		    o, "rx_rate_limiter",
		    limiter(l->rx_bps, l->rx_bps_burst, l->rx_ops, l->rx_ops_burst));
		json_object_object_add(
		    o, "tx_rate_limiter",
		    limiter(l->tx_bps, l->tx_bps_burst, l->tx_ops, l->tx_ops_burst));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *vsock(const struct vm_api_machine *m)
{
	const struct vm_vsock_config *v = &m->cfg.virtio.vsock;
	if (!v->enabled)
		return NULL;
	json_object *o = json_object_new_object();
	api_add_u64(o, "guest_cid", v->cid);
	add_str(o, "uds_path", v->uds);
	return o;
}

json_object *vm_api_machine_config_json(const struct vm_api_machine *m)
{
	json_object *o = json_object_new_object();
	api_add_u64(o, "vcpu_count", m->cfg.cpus);
	api_add_u64(o, "mem_size_mib", m->cfg.memory >> 20);
	json_object_object_add(o, "smt", json_object_new_boolean(0));
	json_object_object_add(o, "track_dirty_pages",
	                       json_object_new_boolean(m->track_dirty_pages));
	return o;
}

json_object *vm_api_machine_json(const struct vm_api_machine *m)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "boot-source", boot_source(m));
	json_object_object_add(o, "drives", drives(m));
	json_object_object_add(o, "machine-config", vm_api_machine_config_json(m));
	json_object_object_add(o, "network-interfaces", ifaces(m));
	json_object_object_add(o, "vsock", vsock(m));
	/* PUT /entropy takes no rate limiter: the device shows as {} */
	json_object_object_add(o, "entropy", m->cfg.virtio.rng ? json_object_new_object() : NULL);
	json_object_object_add(o, "balloon", vm_api_balloon_config_json(&m->cfg.virtio));
	return o;
}
