/* SPDX-License-Identifier: Apache-2.0 */
/* See extra.h. */
#include "vm/api/extra.h"

#include "devices/virtio/blk.h"
#include "lib/version.h"

const struct api_field vm_api_entropy_fields[] = {
    {"rate_limiter", API_OBJ, 0},
    {NULL, 0, 0},
};

const struct api_field vm_api_logger_fields[] = {
    {"log_path", API_STR, 1},         {"level", API_STR, 0},  {"show_level", API_BOOL, 0},
    {"show_log_origin", API_BOOL, 0}, {"module", API_STR, 0}, {NULL, 0, 0},
};

const struct api_field vm_api_metrics_fields[] = {
    {"metrics_path", API_STR, 1},
    {NULL, 0, 0},
};

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

void vm_api_device_metrics(void *in, struct json_object *o)
{
	struct vm *vm = vm_api_instance_vm(in);
	if (!vm)
		return;
	struct virtio_blk_stats b = {0}, bs = {0};
	struct virtio_net_stats n = {0}, ns = {0};
	unsigned nblk = 0, nnet = 0;
	for (unsigned i = 0; i < vm_virtio_devices(vm); i++) {
		int kind = vm_virtio_counters(vm, i, &b, &n);
		if (kind == VM_DEV_BLK) {
			nblk++;
			bs.reads += b.reads, bs.writes += b.writes, bs.flushes += b.flushes;
			bs.discards += b.discards, bs.zeroes += b.zeroes, bs.errors += b.errors;
			bs.bytes_read += b.bytes_read, bs.bytes_written += b.bytes_written;
		} else if (kind == VM_DEV_NET) {
			nnet++;
			ns.rx_packets += n.rx_packets, ns.rx_bytes += n.rx_bytes;
			ns.rx_dropped += n.rx_dropped, ns.tx_packets += n.tx_packets;
			ns.tx_bytes += n.tx_bytes, ns.tx_dropped += n.tx_dropped,
			    ns.tx_bad += n.tx_bad;
		}
	}
	json_object *blk = json_object_new_object();
	add_u64(blk, "devices", nblk);
	add_u64(blk, "read_count", bs.reads);
	add_u64(blk, "write_count", bs.writes);
	add_u64(blk, "flush_count", bs.flushes);
	add_u64(blk, "discard_count", bs.discards);
	add_u64(blk, "write_zeroes_count", bs.zeroes);
	add_u64(blk, "read_bytes", bs.bytes_read);
	add_u64(blk, "write_bytes", bs.bytes_written);
	add_u64(blk, "io_errors", bs.errors);
	json_object_object_add(o, "block", blk);
	json_object *net = json_object_new_object();
	add_u64(net, "devices", nnet);
	add_u64(net, "rx_packets_count", ns.rx_packets);
	add_u64(net, "rx_bytes_count", ns.rx_bytes);
	add_u64(net, "rx_dropped", ns.rx_dropped);
	add_u64(net, "tx_packets_count", ns.tx_packets);
	add_u64(net, "tx_bytes_count", ns.tx_bytes);
	add_u64(net, "tx_dropped", ns.tx_dropped);
	add_u64(net, "tx_malformed_frames", ns.tx_bad);
	json_object_object_add(o, "net", net);
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
