/* Device rules on cgroup v2 (eBPF program attached to the cgroup). */
#include "oci/cgroup.h"

int oci_cgroup_devices_v2(const struct oci_cgroup *cg, const struct oci_dev_rule *rules, size_t n,
                          const struct oci_dev_rule *defaults, size_t nd, struct err *e);

int oci_cgroup_devices_v2(const struct oci_cgroup *cg, const struct oci_dev_rule *rules, size_t n,
                          const struct oci_dev_rule *defaults, size_t nd, struct err *e)
{
	(void)cg;
	(void)rules;
	(void)n;
	(void)defaults;
	(void)nd;
	return err_set(e, ERR_INPUT,
	               "linux.resources.devices: device rules on a cgroup v2-only "
	               "host (eBPF) are not implemented");
}
