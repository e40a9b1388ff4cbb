/* SPDX-License-Identifier: Apache-2.0 */
/* Writing linux.resources into cgroup v1 or v2 files. */
#include "oci/cgroup.h"
#include "oci/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int wr(const char *dir, const char *file, const char *val, const char *field, struct err *e)
{
	char p[1500];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	if (util_write_str(p, val, e) < 0)
		return err_prefix(e, "%s", field);
	return 0;
}

static int wr_ll(const char *dir, const char *file, long long v, const char *field, struct err *e)
{
	char s[32];
	snprintf(s, sizeof(s), "%lld", v);
	return wr(dir, file, s, field, e);
}

static int need(const struct oci_cgroup *cg, const char *ctrl, char *dir, size_t len, int *v2,
                const char *field, struct err *e)
{
	if (oci_cgroup_ctrl_dir(cg, ctrl, dir, len, v2) < 0)
		return err_set(e, ERR_INPUT, "%s: the %s cgroup controller is not available", field,
		               ctrl);
	return 0;
}

static int exists(const char *dir, const char *file)
{
	char p[1500];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

static int apply_memory(const struct oci_cgroup *cg, const struct oci_resources *r, struct err *e)
{
	char dir[1400];
	int v2;
	const char *f = "linux.resources.memory";
	if (r->mem_limit == OCI_UNSET && r->mem_swap == OCI_UNSET &&
	    r->mem_reservation == OCI_UNSET && r->mem_swappiness == OCI_UNSET &&
	    !r->mem_disable_oom_killer)
		return 0;
	if (need(cg, "memory", dir, sizeof(dir), &v2, f, e) < 0)
		return -1;
	if (v2) {
		char s[32];
		if (r->mem_limit != OCI_UNSET) {
			snprintf(s, sizeof(s), "%lld", (long long)r->mem_limit);
			if (wr(dir, "memory.max", r->mem_limit < 0 ? "max" : s,
			       "linux.resources.memory.limit", e))
				return -1;
		}
		if (r->mem_swap != OCI_UNSET) {
			if (r->mem_swap >= 0 && (r->mem_limit == OCI_UNSET || r->mem_limit < 0))
				return err_set(e, ERR_INPUT,
				               "linux.resources.memory.swap: needs a "
				               "memory limit on cgroup v2");
			snprintf(s, sizeof(s), "%lld",
			         (long long)(r->mem_swap < 0 ? 0 : r->mem_swap - r->mem_limit));
			if (!exists(dir, "memory.swap.max")) {
				if (r->mem_swap >= 0 && r->mem_swap != r->mem_limit)
					return err_set(e, ERR_INPUT,
					               "linux.resources.memory.swap: "
					               "swap accounting is not enabled");
			} else if (wr(dir, "memory.swap.max", r->mem_swap < 0 ? "max" : s,
			              "linux.resources.memory.swap", e))
				return -1;
		}
		if (r->mem_reservation != OCI_UNSET) {
			snprintf(s, sizeof(s), "%lld", (long long)r->mem_reservation);
			if (wr(dir, "memory.low", r->mem_reservation < 0 ? "max" : s,
			       "linux.resources.memory.reservation", e))
				return -1;
		}
		if (r->mem_swappiness != OCI_UNSET)
			return err_set(e, ERR_INPUT,
			               "linux.resources.memory.swappiness: not "
			               "available on cgroup v2");
		if (r->mem_disable_oom_killer)
			return err_set(e, ERR_INPUT,
			               "linux.resources.memory.disableOOMKiller: not "
			               "available on cgroup v2");
		return 0;
	}
	int has_memsw = exists(dir, "memory.memsw.limit_in_bytes");
	if (r->mem_swap != OCI_UNSET && !has_memsw && r->mem_swap >= 0 &&
	    r->mem_swap != r->mem_limit)
		return err_set(e, ERR_INPUT,
		               "linux.resources.memory.swap: swap accounting is not enabled");
	if (r->mem_limit != OCI_UNSET) {
		/* Raising: limit first. Lowering below memsw: memsw first. */
		int r1 = wr_ll(dir, "memory.limit_in_bytes", r->mem_limit < 0 ? -1 : r->mem_limit,
		               "linux.resources.memory.limit", e);
		if (r1 < 0 && r->mem_swap != OCI_UNSET && has_memsw) {
			err_clear(e);
			if (wr_ll(dir, "memory.memsw.limit_in_bytes", r->mem_swap,
			          "linux.resources.memory.swap", e) < 0 ||
			    wr_ll(dir, "memory.limit_in_bytes", r->mem_limit,
			          "linux.resources.memory.limit", e) < 0)
				return -1;
		} else if (r1 < 0) {
			return -1;
		}
	}
	if (r->mem_swap != OCI_UNSET && has_memsw &&
	    wr_ll(dir, "memory.memsw.limit_in_bytes", r->mem_swap, "linux.resources.memory.swap",
	          e) < 0)
		return -1;
	if (r->mem_reservation != OCI_UNSET &&
	    wr_ll(dir, "memory.soft_limit_in_bytes", r->mem_reservation,
	          "linux.resources.memory.reservation", e) < 0)
		return -1;
	if (r->mem_swappiness != OCI_UNSET && wr_ll(dir, "memory.swappiness", r->mem_swappiness,
	                                            "linux.resources.memory.swappiness", e) < 0)
		return -1;
	if (r->mem_disable_oom_killer &&
	    wr(dir, "memory.oom_control", "1", "linux.resources.memory.disableOOMKiller", e) < 0)
		return -1;
	return 0;
}

static int apply_cpu(const struct oci_cgroup *cg, const struct oci_resources *r, struct err *e)
{
	char dir[1400];
	int v2;
	if (r->cpu_shares != OCI_UNSET || r->cpu_quota != OCI_UNSET || r->cpu_period != OCI_UNSET) {
		if (need(cg, "cpu", dir, sizeof(dir), &v2, "linux.resources.cpu", e) < 0)
			return -1;
		if (v2) {
			if (r->cpu_shares != OCI_UNSET &&
			    wr_ll(dir, "cpu.weight",
			          (long long)oci_cgroup_shares_to_weight(
			              (unsigned long long)r->cpu_shares),
			          "linux.resources.cpu.shares", e) < 0)
				return -1;
			if (r->cpu_quota != OCI_UNSET || r->cpu_period != OCI_UNSET) {
				char s[64];
				long long period =
				    r->cpu_period != OCI_UNSET ? r->cpu_period : 100000;
				if (r->cpu_quota == OCI_UNSET || r->cpu_quota < 0)
					snprintf(s, sizeof(s), "max %lld", period);
				else
					snprintf(s, sizeof(s), "%lld %lld", (long long)r->cpu_quota,
					         period);
				if (wr(dir, "cpu.max", s, "linux.resources.cpu.quota", e) < 0)
					return -1;
			}
		} else {
			if (r->cpu_shares != OCI_UNSET && wr_ll(dir, "cpu.shares", r->cpu_shares,
			                                        "linux.resources.cpu.shares", e))
				return -1;
			if (r->cpu_period != OCI_UNSET &&
			    wr_ll(dir, "cpu.cfs_period_us", r->cpu_period,
			          "linux.resources.cpu.period", e))
				return -1;
			if (r->cpu_quota != OCI_UNSET &&
			    wr_ll(dir, "cpu.cfs_quota_us", r->cpu_quota < 0 ? -1 : r->cpu_quota,
			          "linux.resources.cpu.quota", e))
				return -1;
		}
	}
	if ((r->cpus && r->cpus[0]) || (r->mems && r->mems[0])) {
		if (need(cg, "cpuset", dir, sizeof(dir), &v2, "linux.resources.cpu.cpus", e) < 0)
			return -1;
		if (r->cpus && r->cpus[0] &&
		    wr(dir, "cpuset.cpus", r->cpus, "linux.resources.cpu.cpus", e) < 0)
			return -1;
		if (r->mems && r->mems[0] &&
		    wr(dir, "cpuset.mems", r->mems, "linux.resources.cpu.mems", e) < 0)
			return -1;
	}
	return 0;
}

static int apply_blkio(const struct oci_cgroup *cg, const struct oci_resources *r, struct err *e)
{
	char dir[1400], s[128];
	int v2;
	if (r->blkio_weight == OCI_UNSET && r->blkio_leaf_weight == OCI_UNSET && !r->n_blk_weight &&
	    !r->n_blk_rbps && !r->n_blk_wbps && !r->n_blk_riops && !r->n_blk_wiops)
		return 0;
	const char *ctrl = cg->layout == OCI_CG_V2 ? "io" : "blkio";
	if (need(cg, ctrl, dir, sizeof(dir), &v2, "linux.resources.blockIO", e) < 0)
		return -1;
	if (r->blkio_leaf_weight != OCI_UNSET)
		return err_set(e, ERR_INPUT,
		               "linux.resources.blockIO.leafWeight: not supported by "
		               "current kernels");
	if (r->blkio_weight != OCI_UNSET) {
		const char *file =
		    v2 ? (exists(dir, "io.bfq.weight") ? "io.bfq.weight" : "io.weight")
		       : (exists(dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight");
		long long w = r->blkio_weight;
		if (v2 && !strcmp(file, "io.weight"))
			w = 1 + (w - 10) * 9999 / 990;
		snprintf(s, sizeof(s), v2 ? "default %lld" : "%lld", w);
		if (!exists(dir, file))
			return err_set(e, ERR_INPUT,
			               "linux.resources.blockIO.weight: no I/O "
			               "scheduler supports weights here");
		if (wr(dir, file, s, "linux.resources.blockIO.weight", e) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->n_blk_weight; i++) {
		const struct oci_blkio_dev *d = &r->blk_weight[i];
		if (!d->has_value)
			continue;
		snprintf(s, sizeof(s), "%lld:%lld %llu", (long long)d->major, (long long)d->minor,
		         (unsigned long long)d->value);
		const char *file =
		    v2 ? "io.bfq.weight"
		       : (exists(dir, "blkio.weight_device") ? "blkio.weight_device"
		                                             : "blkio.bfq.weight_device");
		if (wr(dir, file, s, "linux.resources.blockIO.weightDevice", e) < 0)
			return -1;
	}
	struct {
		const struct oci_blkio_dev *d;
		size_t n;
		const char *v1, *v2key, *field;
	} thr[4] = {
	    {r->blk_rbps, r->n_blk_rbps, "blkio.throttle.read_bps_device", "rbps",
	     "linux.resources.blockIO.throttleReadBpsDevice"},
	    {r->blk_wbps, r->n_blk_wbps, "blkio.throttle.write_bps_device", "wbps",
	     "linux.resources.blockIO.throttleWriteBpsDevice"},
	    {r->blk_riops, r->n_blk_riops, "blkio.throttle.read_iops_device", "riops",
	     "linux.resources.blockIO.throttleReadIOPSDevice"},
	    {r->blk_wiops, r->n_blk_wiops, "blkio.throttle.write_iops_device", "wiops",
	     "linux.resources.blockIO.throttleWriteIOPSDevice"},
	};
	for (int t = 0; t < 4; t++) {
		for (size_t i = 0; i < thr[t].n; i++) {
			const struct oci_blkio_dev *d = &thr[t].d[i];
			if (v2)
				snprintf(s, sizeof(s), "%lld:%lld %s=%llu", (long long)d->major,
				         (long long)d->minor, thr[t].v2key,
				         (unsigned long long)d->value);
			else
				snprintf(s, sizeof(s), "%lld:%lld %llu", (long long)d->major,
				         (long long)d->minor, (unsigned long long)d->value);
			if (wr(dir, v2 ? "io.max" : thr[t].v1, s, thr[t].field, e) < 0)
				return -1;
		}
	}
	return 0;
}

static void rule_str(const struct oci_dev_rule *d, char *s, size_t len)
{
	char maj[24], min[24];
	if (d->major < 0)
		strcpy(maj, "*");
	else
		snprintf(maj, sizeof(maj), "%lld", (long long)d->major);
	if (d->minor < 0)
		strcpy(min, "*");
	else
		snprintf(min, sizeof(min), "%lld", (long long)d->minor);
	if (d->type == 'a' && d->major < 0 && d->minor < 0)
		snprintf(s, len, "a");
	else
		snprintf(s, len, "%c %s:%s %s", d->type, maj, min, d->access);
}

/* Devices every container gets (null, zero, full, tty, random, urandom, ptmx, pts). */
static const struct oci_dev_rule default_rules[] = {
    {1, 'c', 1, 3, "rwm"}, {1, 'c', 1, 5, "rwm"}, {1, 'c', 1, 7, "rwm"},
    {1, 'c', 1, 8, "rwm"}, {1, 'c', 1, 9, "rwm"}, {1, 'c', 5, 0, "rwm"},
    {1, 'c', 5, 1, "rwm"}, {1, 'c', 5, 2, "rwm"}, {1, 'c', 136, -1, "rwm"},
};

int oci_cgroup_devices_v2(const struct oci_cgroup *cg, const struct oci_dev_rule *rules, size_t n,
                          const struct oci_dev_rule *defaults, size_t nd, struct err *e);

static int apply_devices(const struct oci_cgroup *cg, const struct oci_resources *r, struct err *e)
{
	char dir[1400], s[96];
	int v2;
	if (!r->n_devices)
		return 0;
	if (oci_cgroup_ctrl_dir(cg, "devices", dir, sizeof(dir), &v2) < 0) {
		if (cg->layout != OCI_CG_V2)
			return err_set(e, ERR_INPUT,
			               "linux.resources.devices: the devices cgroup "
			               "controller is not available");
		return oci_cgroup_devices_v2(cg, r->devices, r->n_devices, default_rules,
		                             sizeof(default_rules) / sizeof(default_rules[0]), e);
	}
	for (size_t i = 0; i < r->n_devices; i++) {
		rule_str(&r->devices[i], s, sizeof(s));
		if (wr(dir, r->devices[i].allow ? "devices.allow" : "devices.deny", s,
		       "linux.resources.devices", e) < 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof(default_rules) / sizeof(default_rules[0]); i++) {
		rule_str(&default_rules[i], s, sizeof(s));
		if (wr(dir, "devices.allow", s, "linux.resources.devices", e) < 0)
			return -1;
	}
	return 0;
}

/* "2MB" (the cgroup files' spelling) → /sys/kernel/mm/hugepages/hugepages-2048kB. */
static int huge_page_size_exists(const char *size)
{
	char *end, p[96];
	unsigned long long n = strtoull(size, &end, 10);
	int shift = !strcmp(end, "KB") ? 0 : !strcmp(end, "MB") ? 10 : !strcmp(end, "GB") ? 20 : -1;
	if (shift < 0 || n == 0 || n > (1ULL << 40))
		return 0;
	snprintf(p, sizeof(p), "/sys/kernel/mm/hugepages/hugepages-%llukB", n << shift);
	return access(p, F_OK) == 0;
}

int oci_cgroup_apply(const struct oci_cgroup *cg, const struct oci_resources *r, struct err *e)
{
	char dir[1400], s[64];
	int v2;
	if (apply_memory(cg, r, e) < 0 || apply_cpu(cg, r, e) < 0 || apply_blkio(cg, r, e) < 0)
		return -1;
	if (r->pids_limit != OCI_UNSET) {
		if (need(cg, "pids", dir, sizeof(dir), &v2, "linux.resources.pids", e) < 0)
			return -1;
		snprintf(s, sizeof(s), "%lld", (long long)r->pids_limit);
		if (wr(dir, "pids.max", r->pids_limit <= 0 ? "max" : s,
		       "linux.resources.pids.limit", e) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->n_hugepages; i++) {
		char file[96];
		if (need(cg, "hugetlb", dir, sizeof(dir), &v2, "linux.resources.hugepageLimits", e))
			return -1;
		snprintf(file, sizeof(file), "hugetlb.%s.%s", r->hugepages[i].size,
		         v2 ? "max" : "limit_in_bytes");
		if (!exists(dir, file) && !huge_page_size_exists(r->hugepages[i].size))
			return err_set(
			    e, ERR_INPUT,
			    "linux.resources.hugepageLimits[%zu].pageSize: '%s' is not a "
			    "huge page size of this machine",
			    i, r->hugepages[i].size);
		if (!exists(dir, file))
			return err_set(e, ERR_SYSTEM,
			               "linux.resources.hugepageLimits[%zu]: %s has no %s (the "
			               "hugetlb controller is not enabled for this cgroup)",
			               i, dir, file);
		snprintf(s, sizeof(s), "%llu", (unsigned long long)r->hugepages[i].limit);
		if (wr(dir, file, s, "linux.resources.hugepageLimits", e) < 0)
			return -1;
	}
	if (apply_devices(cg, r, e) < 0)
		return -1;
	for (size_t i = 0; i < r->n_unified; i++) {
		if (!cg->unified[0])
			return err_set(e, ERR_INPUT,
			               "linux.resources.unified: needs cgroup v2 (not mounted)");
		snprintf(dir, sizeof(dir), "%s%s", cg->unified, cg->path);
		if (!exists(dir, r->unified_keys[i]))
			return err_set(e, ERR_INPUT,
			               "linux.resources.unified: '%s' is not a file of "
			               "this cgroup",
			               r->unified_keys[i]);
		if (wr(dir, r->unified_keys[i], r->unified_values[i], "linux.resources.unified",
		       e) < 0)
			return -1;
	}
	return 0;
}
