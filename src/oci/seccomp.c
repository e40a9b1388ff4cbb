/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp: parsing (cfg_parse_seccomp) and translation to libseccomp. */
#include "oci/seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

const char *const oci_seccomp_action_names[] = {"SCMP_ACT_KILL",        "SCMP_ACT_KILL_PROCESS",
                                                "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                                                "SCMP_ACT_ERRNO",       "SCMP_ACT_TRACE",
                                                "SCMP_ACT_ALLOW",       "SCMP_ACT_LOG",
                                                "SCMP_ACT_NOTIFY",      NULL};
const char *const oci_seccomp_op_names[] = {"SCMP_CMP_NE",        "SCMP_CMP_LT", "SCMP_CMP_LE",
                                            "SCMP_CMP_EQ",        "SCMP_CMP_GE", "SCMP_CMP_GT",
                                            "SCMP_CMP_MASKED_EQ", NULL};
const char *const oci_seccomp_flag_names[] = {
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL};
const char *const oci_seccomp_arch_names[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     NULL};
static const enum scmp_compare ops[] = {SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE,       SCMP_CMP_EQ,
                                        SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ};

/* Action name + optional errnoRet → SCMP_ACT_* value. */
static int parse_action(const char *name, struct json_object *errno_ret, const char *field,
                        uint32_t *out, struct err *e)
{
	uint64_t ret = EPERM;
	if (errno_ret && cfg_uint(errno_ret, field, 0xffff, &ret, e) < 0)
		return -1;
	if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(name, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(name, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO((uint16_t)ret);
	else if (!strcmp(name, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE((uint16_t)ret);
	else if (!strcmp(name, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(name, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else if (!strcmp(name, "SCMP_ACT_NOTIFY"))
		*out = SCMP_ACT_NOTIFY;
	else
		return err_set(e, ERR_INPUT, "config.json: %s: unknown seccomp action '%s'", field,
		               name);
	return 0;
}

static int parse_rule(struct oci_config *c, struct json_object *it, size_t i,
                      struct oci_seccomp_rule *r, struct err *e)
{
	struct json_object *v;
	char field[128];
	const char *s;
	snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu].names", i);
	if (!(v = cfg_get(it, "names")))
		return err_set(e, ERR_INPUT, "config.json: %s: missing", field);
	char **names;
	if (cfg_strv(c, v, field, &names, &r->n_names, e) < 0)
		return -1;
	r->names = (const char **)names;
	for (size_t k = 0; k < r->n_names; k++)
		if (seccomp_syscall_resolve_name(names[k]) == __NR_SCMP_ERROR)
			return err_set(e, ERR_INPUT,
			               "config.json: %s[%zu]: unknown system call '%.64s'", field,
			               k, names[k]);
	snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu].action", i);
	if (!(v = cfg_get(it, "action")))
		return err_set(e, ERR_INPUT, "config.json: %s: missing", field);
	if (cfg_string(c, v, field, &s, e) < 0 ||
	    parse_action(s, cfg_get(it, "errnoRet"), field, &r->action, e) < 0)
		return -1;
	if ((v = cfg_get(it, "args"))) {
		snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu].args", i);
		if (!json_object_is_type(v, json_type_array))
			return err_set(e, ERR_INPUT, "config.json: %s: must be an array", field);
		size_t n = json_object_array_length(v);
		if (n > 6 * 4)
			return err_set(e, ERR_INPUT, "config.json: %s: too many conditions", field);
		r->args = CFG_NEW(c, struct oci_seccomp_arg, n + 1);
		if (!r->args)
			return err_set(e, ERR_SYSTEM, "out of memory");
		for (size_t k = 0; k < n; k++) {
			struct json_object *a = json_object_array_get_idx(v, k), *f;
			char af[160];
			uint64_t u;
			snprintf(af, sizeof(af), "%s[%zu].index", field, k);
			if (!(f = cfg_get(a, "index")))
				return err_set(e, ERR_INPUT, "config.json: %s: missing", af);
			if (cfg_uint(f, af, 5, &u, e) < 0)
				return -1;
			r->args[k].index = (unsigned)u;
			snprintf(af, sizeof(af), "%s[%zu].value", field, k);
			if (!(f = cfg_get(a, "value")))
				return err_set(e, ERR_INPUT, "config.json: %s: missing", af);
			if (cfg_uint(f, af, UINT64_MAX, &r->args[k].value, e) < 0)
				return -1;
			snprintf(af, sizeof(af), "%s[%zu].valueTwo", field, k);
			if ((f = cfg_get(a, "valueTwo")) &&
			    cfg_uint(f, af, UINT64_MAX, &r->args[k].value_two, e) < 0)
				return -1;
			snprintf(af, sizeof(af), "%s[%zu].op", field, k);
			if (!(f = cfg_get(a, "op")))
				return err_set(e, ERR_INPUT, "config.json: %s: missing", af);
			if (cfg_string(c, f, af, &s, e) < 0)
				return -1;
			int op = -1;
			for (int o = 0; oci_seccomp_op_names[o]; o++)
				if (!strcmp(s, oci_seccomp_op_names[o]))
					op = o;
			if (op < 0)
				return err_set(e, ERR_INPUT,
				               "config.json: %s: unknown operator '%s'", af, s);
			r->args[k].op = (int)ops[op];
		}
		r->n_args = n;
	}
	return 0;
}

int cfg_parse_seccomp(struct oci_config *c, struct json_object *o, struct err *e)
{
	struct json_object *v;
	const char *s;
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, ERR_INPUT, "config.json: linux.seccomp: must be an object");
	struct oci_seccomp *sc = CFG_NEW(c, struct oci_seccomp, 1);
	if (!sc)
		return err_set(e, ERR_SYSTEM, "out of memory");
	if (!(v = cfg_get(o, "defaultAction")))
		return err_set(e, ERR_INPUT, "config.json: linux.seccomp.defaultAction: missing");
	if (cfg_string(c, v, "linux.seccomp.defaultAction", &s, e) < 0 ||
	    parse_action(s, cfg_get(o, "defaultErrnoRet"), "linux.seccomp.defaultAction",
	                 &sc->default_action, e) < 0)
		return -1;
	if ((v = cfg_get(o, "architectures"))) {
		char **names;
		if (cfg_strv(c, v, "linux.seccomp.architectures", &names, &sc->n_archs, e) < 0)
			return -1;
		sc->archs = CFG_NEW(c, uint32_t, sc->n_archs + 1);
		if (!sc->archs)
			return err_set(e, ERR_SYSTEM, "out of memory");
		for (size_t i = 0; i < sc->n_archs; i++) {
			char lower[32];
			const char *n = names[i];
			size_t k = 0;
			if (!strncmp(n, "SCMP_ARCH_", 10))
				n += 10;
			for (; n[k] && k < sizeof(lower) - 1; k++)
				lower[k] = (char)tolower((unsigned char)n[k]);
			lower[k] = '\0';
			sc->archs[i] = seccomp_arch_resolve_name(lower);
			if (sc->archs[i] == 0)
				return err_set(
				    e, ERR_INPUT,
				    "config.json: linux.seccomp.architectures[%zu]: unknown "
				    "architecture '%s'",
				    i, names[i]);
		}
	}
	if ((v = cfg_get(o, "flags"))) {
		char **names;
		size_t n;
		if (cfg_strv(c, v, "linux.seccomp.flags", &names, &n, e) < 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			int f = -1;
			for (int k = 0; oci_seccomp_flag_names[k]; k++)
				if (!strcmp(names[i], oci_seccomp_flag_names[k]))
					f = k;
			if (f < 0)
				return err_set(
				    e, ERR_INPUT,
				    "config.json: linux.seccomp.flags[%zu]: unknown flag '%s'", i,
				    names[i]);
			sc->flags |= 1u << f;
		}
	}
	if ((v = cfg_get(o, "listenerPath")) &&
	    cfg_string(c, v, "linux.seccomp.listenerPath", &sc->listener_path, e) < 0)
		return -1;
	if ((v = cfg_get(o, "listenerMetadata")) &&
	    cfg_string(c, v, "linux.seccomp.listenerMetadata", &sc->listener_metadata, e) < 0)
		return -1;
	if ((v = cfg_get(o, "syscalls"))) {
		if (!json_object_is_type(v, json_type_array))
			return err_set(e, ERR_INPUT,
			               "config.json: linux.seccomp.syscalls: must be an "
			               "array");
		size_t n = json_object_array_length(v);
		sc->rules = CFG_NEW(c, struct oci_seccomp_rule, n + 1);
		if (!sc->rules)
			return err_set(e, ERR_SYSTEM, "out of memory");
		for (size_t i = 0; i < n; i++)
			if (parse_rule(c, json_object_array_get_idx(v, i), i, &sc->rules[i], e) < 0)
				return -1;
		sc->n_rules = n;
	}
	int uses_notify = sc->default_action == SCMP_ACT_NOTIFY;
	for (size_t i = 0; i < sc->n_rules; i++)
		uses_notify |= sc->rules[i].action == SCMP_ACT_NOTIFY;
	if (uses_notify && !sc->listener_path)
		return err_set(e, ERR_INPUT,
		               "config.json: linux.seccomp.listenerPath: required by "
		               "SCMP_ACT_NOTIFY");
	if (sc->listener_path && sc->listener_path[0] != '/')
		return err_set(e, ERR_INPUT,
		               "config.json: linux.seccomp.listenerPath: '%s' is not absolute",
		               sc->listener_path);
	c->seccomp = sc;
	return 0;
}

void *oci_seccomp_build(const struct oci_seccomp *s, struct err *e)
{
	scmp_filter_ctx ctx = seccomp_init(s->default_action);
	int r;
	if (!ctx) {
		err_set(e, ERR_INPUT, "seccomp: the default action is not supported by the kernel");
		return NULL;
	}
	for (size_t i = 0; i < s->n_archs; i++) {
		r = seccomp_arch_add(ctx, s->archs[i]);
		if (r < 0 && r != -EEXIST) {
			err_errno(e, -r, "seccomp: adding architecture %zu", i);
			goto fail;
		}
	}
	if (s->flags & OCI_SECCOMP_FLAG_TSYNC)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if ((s->flags & OCI_SECCOMP_FLAG_LOG) &&
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)) < 0) {
		err_errno(e, -r, "seccomp: flag SECCOMP_FILTER_FLAG_LOG");
		goto fail;
	}
	if ((s->flags & OCI_SECCOMP_FLAG_SPEC_OFF) &&
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1)) < 0) {
		err_errno(e, -r, "seccomp: flag SECCOMP_FILTER_FLAG_SPEC_ALLOW");
		goto fail;
	}
	if (s->flags & OCI_SECCOMP_FLAG_WAIT_KILLABLE) {
		err_set(e, ERR_INPUT,
		        "seccomp: flag SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs "
		        "libseccomp 2.6");
		goto fail;
	}
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct oci_seccomp_rule *rule = &s->rules[i];
		if (rule->action == s->default_action)
			continue; /* the kernel rejects rules equal to the default */
		struct scmp_arg_cmp cmp[24];
		for (size_t k = 0; k < rule->n_args && k < 24; k++) {
			cmp[k].arg = rule->args[k].index;
			cmp[k].op = (enum scmp_compare)rule->args[k].op;
			cmp[k].datum_a = rule->args[k].value;
			cmp[k].datum_b = rule->args[k].value_two;
		}
		for (size_t n = 0; n < rule->n_names; n++) {
			int nr = seccomp_syscall_resolve_name(rule->names[n]);
			if (nr == __NR_SCMP_ERROR)
				continue;
			/* Conditions on the same argument are OR-ed: one rule each, as the
			 * spec's examples assume; different arguments are AND-ed. */
			int same_arg = 0;
			for (size_t a = 1; a < rule->n_args; a++)
				if (rule->args[a].index == rule->args[0].index)
					same_arg = 1;
			if (same_arg) {
				for (size_t a = 0; a < rule->n_args; a++) {
					r = seccomp_rule_add_array(ctx, rule->action, nr, 1,
					                           &cmp[a]);
					if (r < 0)
						break;
				}
			} else {
				r = seccomp_rule_add_array(ctx, rule->action, nr,
				                           (unsigned)rule->n_args, cmp);
			}
			if (r < 0) {
				err_errno(
				    e, -r,
				    "config.json: linux.seccomp.syscalls[%zu]: adding rule for "
				    "'%s'",
				    i, rule->names[n]);
				goto fail;
			}
		}
	}
	return ctx;
fail:
	seccomp_release(ctx);
	return NULL;
}

void oci_seccomp_free(void *ctx)
{
	if (ctx)
		seccomp_release(ctx);
}

int oci_seccomp_load(const struct oci_seccomp *s, int *notify_fd, struct err *e)
{
	*notify_fd = -1;
	scmp_filter_ctx ctx = oci_seccomp_build(s, e);
	if (!ctx)
		return -1;
	/* libseccomp sets no_new_privs before loading unless told not to; that
	 * is process.noNewPrivileges' decision (set already when true). */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r == 0) /* the kernel's errno instead of ECANCELED */
		r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (r < 0) {
		seccomp_release(ctx);
		return err_errno(e, -r, "seccomp: leaving no_new_privs alone");
	}
	r = seccomp_load(ctx);
	if (r == -EACCES) {
		seccomp_release(ctx);
		return err_set(e, ERR_INPUT,
		               "loading the filter without no_new_privs needs CAP_SYS_ADMIN, which "
		               "the runtime does not have (set process.noNewPrivileges)");
	}
	if (r < 0) {
		seccomp_release(ctx);
		return err_errno(e, -r, "seccomp: loading the filter");
	}
	if (s->listener_path)
		*notify_fd = seccomp_notify_fd(ctx);
	seccomp_release(ctx);
	return 0;
}
