/* SPDX-License-Identifier: Apache-2.0 */
/* config.json: process.ioPriority, process.scheduler,
 * process.execCPUAffinity and linux.personality. */
#include "oci/config.h"

#include <json-c/json.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>

int oci_parse_cpu_list(const char *s, void *setp)
{
	cpu_set_t *set = setp;
	CPU_ZERO(set);
	if (!*s)
		return -1;
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b;
		if (end == s || a < 0 || a >= CPU_SETSIZE)
			return -1;
		b = a;
		if (*end == '-') {
			const char *t = end + 1;
			b = strtol(t, &end, 10);
			if (end == t || b < a || b >= CPU_SETSIZE)
				return -1;
		}
		for (long i = a; i <= b; i++)
			CPU_SET((int)i, set);
		if (*end == ',')
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return 0;
}

static const struct {
	const char *name;
	int value;
} policies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},
    {"SCHED_BATCH", 3}, {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};
static const struct {
	const char *name;
	uint64_t value;
} sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

static int get_u64(struct json_object *o, const char *key, const char *prefix, uint64_t *out,
                   struct err *e)
{
	struct json_object *v = cfg_get(o, key);
	char field[96];
	if (!v)
		return 0;
	snprintf(field, sizeof(field), "%s.%s", prefix, key);
	return cfg_uint(v, field, UINT64_MAX, out, e);
}

int cfg_parse_process_sched(struct oci_config *c, struct json_object *o, struct oci_process *p,
                            struct err *e)
{
	struct json_object *v, *s;
	const char *str;
	if ((s = cfg_get(o, "ioPriority"))) {
		static const char *const classes[] = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
		                                      "IOPRIO_CLASS_IDLE"};
		if (!(v = cfg_get(s, "class")))
			return err_set(e, ERR_INPUT,
			               "config.json: process.ioPriority.class: missing");
		if (cfg_string(c, v, "process.ioPriority.class", &str, e) < 0)
			return -1;
		p->ioprio_class = 0;
		for (int i = 0; i < 3; i++)
			if (!strcmp(str, classes[i]))
				p->ioprio_class = i + 1;
		if (!p->ioprio_class)
			return err_set(e, ERR_INPUT,
			               "config.json: process.ioPriority.class: unknown class '%s'",
			               str);
		int64_t prio = 0;
		if ((v = cfg_get(s, "priority")) &&
		    cfg_int64_in(v, "process.ioPriority.priority", 0, 7, &prio, e) < 0)
			return -1;
		p->ioprio_level = (int)prio;
		p->has_ioprio = 1;
	}
	if ((s = cfg_get(o, "scheduler"))) {
		const char *pf = "process.scheduler";
		if (!(v = cfg_get(s, "policy")))
			return err_set(e, ERR_INPUT,
			               "config.json: process.scheduler.policy: missing");
		if (cfg_string(c, v, "process.scheduler.policy", &str, e) < 0)
			return -1;
		p->sched.policy = -1;
		for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
			if (!strcmp(str, policies[i].name))
				p->sched.policy = policies[i].value;
		if (p->sched.policy < 0)
			return err_set(
			    e, ERR_INPUT,
			    "config.json: process.scheduler.policy: '%s' is not supported", str);
		int64_t n = 0;
		if ((v = cfg_get(s, "nice")) &&
		    cfg_int64_in(v, "process.scheduler.nice", -20, 19, &n, e) < 0)
			return -1;
		p->sched.nice = (int)n;
		n = 0;
		if ((v = cfg_get(s, "priority")) &&
		    cfg_int64_in(v, "process.scheduler.priority", 0, 99, &n, e) < 0)
			return -1;
		p->sched.priority = (int)n;
		if (get_u64(s, "runtime", pf, &p->sched.runtime, e) ||
		    get_u64(s, "deadline", pf, &p->sched.deadline, e) ||
		    get_u64(s, "period", pf, &p->sched.period, e))
			return -1;
		if ((v = cfg_get(s, "flags"))) {
			char **names;
			size_t nn;
			if (cfg_strv(c, v, "process.scheduler.flags", &names, &nn, e) < 0)
				return -1;
			for (size_t i = 0; i < nn; i++) {
				uint64_t f = 0;
				for (size_t k = 0; k < sizeof(sched_flags) / sizeof(sched_flags[0]);
				     k++)
					if (!strcmp(names[i], sched_flags[k].name))
						f = sched_flags[k].value;
				if (!f)
					return err_set(e, ERR_INPUT,
					               "config.json: process.scheduler.flags[%zu]: "
					               "unknown flag '%s'",
					               i, names[i]);
				p->sched.flags |= f;
			}
		}
		p->sched.present = 1;
	}
	if ((s = cfg_get(o, "execCPUAffinity"))) {
		cpu_set_t set;
		const char *keys[2] = {"initial", "final"};
		for (int k = 0; k < 2; k++) {
			char field[64];
			snprintf(field, sizeof(field), "process.execCPUAffinity.%s", keys[k]);
			if (!(v = cfg_get(s, keys[k])))
				continue;
			if (cfg_string(c, v, field, &str, e) < 0)
				return -1;
			if (oci_parse_cpu_list(str, &set) < 0)
				return err_set(e, ERR_INPUT, "config.json: %s: bad cpu list '%s'",
				               field, str);
			p->cpu_affinity = str; /* final wins over initial */
		}
	}
	return 0;
}

int cfg_parse_personality(struct oci_config *c, struct json_object *o, struct err *e)
{
	struct json_object *v;
	const char *dom;
	if (!(v = cfg_get(o, "domain")))
		return err_set(e, ERR_INPUT, "config.json: linux.personality.domain: missing");
	if (cfg_string(c, v, "linux.personality.domain", &dom, e) < 0)
		return -1;
	if (!strcmp(dom, "LINUX"))
		c->personality = PER_LINUX;
	else if (!strcmp(dom, "LINUX32"))
		c->personality = PER_LINUX32;
	else
		return err_set(e, ERR_INPUT, "config.json: linux.personality.domain: unknown '%s'",
		               dom);
	if ((v = cfg_get(o, "flags"))) {
		char **names;
		size_t n;
		if (cfg_strv(c, v, "linux.personality.flags", &names, &n, e) < 0)
			return -1;
		if (n)
			return err_set(
			    e, ERR_INPUT,
			    "config.json: linux.personality.flags: '%s' is not supported",
			    names[0]);
	}
	c->has_personality = 1;
	return 0;
}
