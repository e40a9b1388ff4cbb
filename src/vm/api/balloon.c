/* SPDX-License-Identifier: Apache-2.0 */
/* See balloon.h. */
#include "vm/api/balloon.h"

#include "devices/virtio/balloon.h"

#define MIB (1ULL << 20)

const struct api_field vm_api_balloon_put_fields[] = {
    {"amount_mib", API_UINT, 1},
    {"deflate_on_oom", API_BOOL, 1},
    {"stats_polling_interval_s", API_UINT, 0},
    {NULL, 0, 0},
};

const struct api_field vm_api_balloon_patch_fields[] = {
    {"amount_mib", API_UINT, 1},
    {NULL, 0, 0},
};

const struct api_field vm_api_balloon_stats_fields[] = {
    {"stats_polling_interval_s", API_UINT, 1},
    {NULL, 0, 0},
};

/* Firecracker's names of the virtio statistics tags. */
static const char *const stat_names[] = {
    [BALLOON_STAT_SWAP_IN] = "swap_in",
    [BALLOON_STAT_SWAP_OUT] = "swap_out",
    [BALLOON_STAT_MAJFLT] = "major_faults",
    [BALLOON_STAT_MINFLT] = "minor_faults",
    [BALLOON_STAT_MEMFREE] = "free_memory",
    [BALLOON_STAT_MEMTOT] = "total_memory",
    [BALLOON_STAT_AVAIL] = "available_memory",
    [BALLOON_STAT_CACHES] = "disk_caches",
    [BALLOON_STAT_HTLB_PGALLOC] = "hugetlb_allocations",
    [BALLOON_STAT_HTLB_PGFAIL] = "hugetlb_failures",
};

json_object *vm_api_balloon_config_json(const struct vm_virtio_config *v)
{
	if (!v->balloon.enabled)
		return NULL;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "amount_mib",
	                       json_object_new_int64((int64_t)(v->balloon_target / MIB)));
	json_object_object_add(o, "deflate_on_oom",
	                       json_object_new_boolean(!v->balloon.no_deflate_on_oom));
	json_object_object_add(o, "stats_polling_interval_s",
	                       json_object_new_int(v->balloon.stats_s));
	return o;
}

/* The configuration the VM runs with, or the one it will start with. */
static const struct vm_virtio_config *current(struct vm_api_instance *in, uint64_t *memory)
{
	struct vm *vm = vm_api_instance_vm(in);
	if (!vm) {
		*memory = in->m->cfg.memory;
		return &in->m->cfg.virtio;
	}
	struct vm_info i;
	vm_get_info(vm, &i);
	*memory = i.memory;
	return vm_virtio_attached(vm);
}

static int check_amount(uint64_t mib, uint64_t memory, struct err *e)
{
	if (mib > memory / MIB)
		return err_set(e, ERR_INPUT,
		               "\"amount_mib\" %llu is more than the guest's memory (%llu MiB)",
		               (unsigned long long)mib, (unsigned long long)(memory / MIB));
	return 0;
}

static int check_interval(uint64_t s, struct err *e)
{
	if (s > UINT16_MAX)
		return err_set(e, ERR_INPUT,
		               "\"stats_polling_interval_s\" %llu is out of range (0 to 65535)",
		               (unsigned long long)s);
	return 0;
}

int vm_api_put_balloon(struct vm_api_machine *m, json_object *o, struct err *e)
{
	uint64_t mib = api_uint(o, "amount_mib", 0);
	uint64_t s = api_uint(o, "stats_polling_interval_s", 0);
	if (check_amount(mib, m->cfg.memory, e) || check_interval(s, e))
		return -1;
	struct vm_virtio_config *v = &m->cfg.virtio;
	if (!v->balloon.enabled && vm_virtio_count(v) >= VM_VIRTIO_MAX)
		return err_set(e, ERR_INPUT, "too many virtio devices (at most %d)", VM_VIRTIO_MAX);
	v->balloon.enabled = 1;
	v->balloon.no_deflate_on_oom = !api_bool(o, "deflate_on_oom", 1);
	v->balloon.stats_s = (uint16_t)s;
	v->balloon_target = mib * MIB;
	m->configured = 1;
	return 0;
}

static int no_balloon(struct err *e)
{
	return err_set(e, ERR_INPUT, "no balloon device is configured (PUT /balloon first)");
}

int vm_api_patch_balloon(struct vm_api_instance *in, json_object *o, struct err *e)
{
	uint64_t memory;
	const struct vm_virtio_config *v = current(in, &memory);
	uint64_t mib = api_uint(o, "amount_mib", 0);
	if (!v->balloon.enabled)
		return no_balloon(e);
	if (check_amount(mib, memory, e))
		return -1;
	struct vm *vm = vm_api_instance_vm(in);
	if (vm)
		return vm_virtio_balloon_set_target(vm, mib * MIB, e);
	in->m->cfg.virtio.balloon_target = mib * MIB;
	return 0;
}

int vm_api_patch_balloon_stats(struct vm_api_instance *in, json_object *o, struct err *e)
{
	uint64_t memory;
	const struct vm_virtio_config *v = current(in, &memory);
	uint64_t s = api_uint(o, "stats_polling_interval_s", 0);
	if (!v->balloon.enabled)
		return no_balloon(e);
	if (check_interval(s, e))
		return -1;
	struct vm *vm = vm_api_instance_vm(in);
	if (!vm) {
		in->m->cfg.virtio.balloon.stats_s = (uint16_t)s;
		return 0;
	}
	/* the guest's driver decided at start whether it sends statistics */
	if ((s == 0) != (v->balloon.stats_s == 0))
		return err_set(e, ERR_INPUT,
		               "statistics cannot be turned %s after the VM started (the interval "
		               "was %u s)",
		               s ? "on" : "off", v->balloon.stats_s);
	return vm_virtio_balloon_set_stats(vm, (uint16_t)s, e);
}

json_object *vm_api_get_balloon(struct vm_api_instance *in, struct err *e)
{
	uint64_t memory;
	json_object *o = vm_api_balloon_config_json(current(in, &memory));
	if (!o)
		no_balloon(e);
	return o;
}

json_object *vm_api_balloon_stats_json(struct vm_api_instance *in, struct err *e)
{
	uint64_t memory;
	const struct vm_virtio_config *v = current(in, &memory);
	struct vm *vm = vm_api_instance_vm(in);
	struct virtio_balloon_info b;
	if (!v->balloon.enabled) {
		no_balloon(e);
		return NULL;
	}
	if (!v->balloon.stats_s) {
		err_set(e, ERR_INPUT,
		        "balloon statistics are not enabled (stats_polling_interval_s is 0)");
		return NULL;
	}
	if (!vm) {
		err_set(e, ERR_INPUT, "the VM has not started yet (PUT /actions InstanceStart)");
		return NULL;
	}
	if (vm_virtio_balloon_info(vm, &b, e))
		return NULL;
	json_object *o = json_object_new_object();
	api_add_u64(o, "target_pages", b.target_pages);
	api_add_u64(o, "actual_pages", b.actual_pages);
	api_add_u64(o, "target_mib", (uint64_t)b.target_pages * 4096 / MIB);
	api_add_u64(o, "actual_mib", (uint64_t)b.actual_pages * 4096 / MIB);
	for (size_t t = 0; t < sizeof(stat_names) / sizeof(stat_names[0]); t++)
		if (b.stats_seen & (1u << t))
			api_add_u64(o, stat_names[t], b.stats[t]);
	return o;
}
