/* SPDX-License-Identifier: Apache-2.0 */
#include "oci/process.h"
#include "oci/seccomp.h"
#include "oci/terminal.h"
#include "oci/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/personality.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static const char *env_get(char **env, const char *key)
{
	size_t n = strlen(key);
	for (char **p = env; p && *p; p++)
		if (!strncmp(*p, key, n) && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

/* An executable regular file; any regular file when need_exec is 0. */
static int runnable(const struct stat *st, int need_exec)
{
	return S_ISREG(st->st_mode) && (!need_exec || (st->st_mode & 0111));
}

int oci_find_exec(const struct oci_process *p, char *out, size_t len, struct err *e)
{
	return oci_find_program(p, 1, out, len, e);
}

int oci_find_program(const struct oci_process *p, int need_exec, char *out, size_t len,
                     struct err *e)
{
	const char *name = p->args[0];
	struct stat st;
	if (strchr(name, '/')) {
		if (snprintf(out, len, "%s", name) >= (int)len)
			return err_set(e, ERR_INPUT, "process.args[0]: too long");
		if (stat(out, &st) < 0)
			return err_set(e, ERR_INPUT, "process.args[0]: %s: %s", name,
			               strerror(errno));
		if (!runnable(&st, need_exec))
			return err_set(e, ERR_INPUT, "process.args[0]: %s: not %s file", name,
			               need_exec ? "an executable" : "a regular");
		return 0;
	}
	const char *path = env_get(p->env, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t dl = end ? (size_t)(end - path) : strlen(path);
		if (snprintf(out, len, "%.*s/%s", (int)dl, dl ? path : ".", name) < (int)len &&
		    stat(out, &st) == 0 && runnable(&st, need_exec))
			return 0;
		if (!end)
			break;
		path = end + 1;
	}
	return err_set(e, ERR_INPUT, "process.args[0]: '%s' not found in PATH inside the container",
	               name);
}

int oci_process_limits(const struct oci_process *p, struct err *e)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = {(rlim_t)p->rlimits[i].soft, (rlim_t)p->rlimits[i].hard};
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return err_sys(e, "process.rlimits[%zu]", i);
	}
	if (p->has_oom_score_adj) {
		char v[16];
		snprintf(v, sizeof(v), "%d", p->oom_score_adj);
		if (util_write_str("/proc/self/oom_score_adj", v, e) < 0)
			return err_prefix(e, "process.oomScoreAdj");
	}
	return 0;
}

static int in_set(const struct oci_caps *c, int set, int cap)
{
	for (size_t i = 0; i < c->n[set]; i++)
		if (c->set[set][i] == cap)
			return 1;
	return 0;
}

static int apply_caps(const struct oci_caps *caps, struct err *e)
{
	cap_t c = cap_init();
	if (!c)
		return err_sys(e, "cap_init");
	static const cap_flag_t flags[3] = {CAP_EFFECTIVE, CAP_INHERITABLE, CAP_PERMITTED};
	static const int sets[3] = {OCI_CAP_EFFECTIVE, OCI_CAP_INHERITABLE, OCI_CAP_PERMITTED};
	int last = (int)cap_max_bits() - 1;
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < caps->n[sets[k]]; i++) {
			cap_value_t v = caps->set[sets[k]][i];
			if (v > last)
				continue;
			if (cap_set_flag(c, flags[k], 1, &v, CAP_SET) < 0) {
				cap_free(c);
				return err_sys(e, "process.capabilities");
			}
		}
	}
	int r = cap_set_proc(c);
	cap_free(c);
	if (r < 0)
		return err_sys(e, "process.capabilities: setting effective/permitted/inheritable");
	if (CAP_AMBIENT_SUPPORTED()) {
		cap_reset_ambient();
		for (size_t i = 0; i < caps->n[OCI_CAP_AMBIENT]; i++) {
			cap_value_t v = caps->set[OCI_CAP_AMBIENT][i];
			if (v > last)
				continue;
			if (cap_set_ambient(v, CAP_SET) < 0)
				return err_sys(e,
				               "process.capabilities.ambient: %s (must also be "
				               "permitted and inheritable)",
				               oci_cap_name(v));
		}
	}
	return 0;
}

static int send_notify_fd(int sock, int fd, const char *state_json, const char *metadata,
                          struct err *e)
{
	size_t len =
	    strlen(state_json ? state_json : "{}") + strlen(metadata ? metadata : "") + 256;
	char *msg = malloc(len);
	if (!msg)
		return err_set(e, ERR_SYSTEM, "out of memory");
	snprintf(msg, len,
	         "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":%d,"
	         "\"metadata\":\"%s\",\"state\":%s}",
	         (int)getpid(), metadata ? metadata : "", state_json ? state_json : "{}");
	int r = oci_send_fd(sock, fd, msg, strlen(msg));
	free(msg);
	return r < 0 ? err_sys(e, "linux.seccomp.listenerPath: sending the notify fd") : 0;
}

/* Load linux.seccomp; a notify fd goes to the listener. */
static int load_seccomp(const struct oci_config *c, int listener, const char *state_json,
                        struct err *e)
{
	int nfd;
	if (oci_seccomp_load(c->seccomp, &nfd, e) < 0)
		return err_prefix(e, "linux.seccomp");
	if (nfd >= 0) {
		int r = listener >= 0
		            ? send_notify_fd(listener, nfd, state_json,
		                             c->seccomp->listener_metadata, e)
		            : err_set(e, ERR_INPUT, "linux.seccomp.listenerPath: not connected");
		close(nfd);
		if (r < 0)
			return -1;
	}
	if (listener >= 0)
		close(listener);
	return 0;
}

/* sched_setattr(2) argument, first version of the kernel ABI (48 bytes). */
struct sched_attr_v0 {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

/* Personality, I/O priority, scheduler and CPU affinity (while we still
 * have CAP_SYS_NICE). */
static int apply_sched(const struct oci_config *c, const struct oci_process *p, struct err *e)
{
	if (c && c->has_personality && personality(c->personality) < 0)
		return err_sys(e, "linux.personality");
	if (p->has_ioprio && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0,
	                             (p->ioprio_class << 13) | p->ioprio_level) < 0)
		return err_sys(e, "process.ioPriority");
	if (p->sched.present) {
		struct sched_attr_v0 attr;
		memset(&attr, 0, sizeof(attr));
		attr.size = sizeof(attr);
		attr.sched_policy = (uint32_t)p->sched.policy;
		attr.sched_flags = p->sched.flags;
		attr.sched_nice = p->sched.nice;
		attr.sched_priority = (uint32_t)p->sched.priority;
		attr.sched_runtime = p->sched.runtime;
		attr.sched_deadline = p->sched.deadline;
		attr.sched_period = p->sched.period;
		if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
			return err_sys(e, "process.scheduler");
	}
	if (p->cpu_affinity) {
		cpu_set_t set;
		if (oci_parse_cpu_list(p->cpu_affinity, &set) < 0 ||
		    sched_setaffinity(0, sizeof(set), &set) < 0)
			return err_sys(e, "process.execCPUAffinity: %s", p->cpu_affinity);
	}
	return 0;
}

/* Is every capability the process is to have one we have ourselves? */
static int check_caps(const struct oci_caps *caps, struct err *e)
{
	static const int sets[4] = {OCI_CAP_EFFECTIVE, OCI_CAP_PERMITTED, OCI_CAP_INHERITABLE,
	                            OCI_CAP_AMBIENT};
	static const char *const names[4] = {"effective", "permitted", "inheritable", "ambient"};
	int last = (int)cap_max_bits() - 1;
	cap_t own = cap_get_proc();
	if (!own)
		return err_sys(e, "reading the runtime's capabilities");
	int r = 0;
	for (int k = 0; k < 4 && r == 0; k++) {
		for (size_t i = 0; i < caps->n[sets[k]] && r == 0; i++) {
			cap_value_t v = caps->set[sets[k]][i];
			cap_flag_value_t have = CAP_CLEAR;
			if (v > last)
				continue; /* unknown to this kernel: left out, as runc does */
			if (cap_get_flag(own, v, CAP_PERMITTED, &have) < 0 || have != CAP_SET)
				r = err_set(
				    e, ERR_INPUT,
				    "process.capabilities.%s: %s: the runtime does not have it "
				    "to give",
				    names[k], oci_cap_name(v));
		}
	}
	cap_free(own);
	return r;
}

int oci_process_check(const struct oci_config *c, const struct oci_process *p, struct err *e)
{
	if (p->apparmor && p->apparmor[0] && access("/sys/kernel/security/apparmor", F_OK) != 0)
		return err_set(
		    e, ERR_INPUT,
		    "process.apparmorProfile: '%s': AppArmor is not enabled on this host",
		    p->apparmor);
	if (check_caps(&p->caps, e) < 0)
		return -1;
	if (c && c->seccomp && !p->no_new_privileges) {
		cap_t own = cap_get_proc();
		cap_flag_value_t admin = CAP_CLEAR;
		if (own)
			cap_get_flag(own, CAP_SYS_ADMIN, CAP_EFFECTIVE, &admin);
		cap_free(own);
		if (admin != CAP_SET)
			return err_set(e, ERR_INPUT,
			               "linux.seccomp: loading a filter without no_new_privs needs "
			               "CAP_SYS_ADMIN, which the runtime does not have (set "
			               "process.noNewPrivileges)");
	}
	return 0;
}

int oci_process_exec(const struct oci_config *c, const struct oci_process *p, int in_userns,
                     int preserve_fds, int seccomp_listener, const char *state_json, struct err *e)
{
	char exe[4096] = "";
	if (oci_process_enter(c, p, in_userns, preserve_fds, seccomp_listener, state_json, exe,
	                      sizeof(exe), e) < 0)
		return -1;
	environ = p->env;
	execve(exe, p->args, p->env);
	return err_sys(e, "executing %s", exe);
}

int oci_process_enter(const struct oci_config *c, const struct oci_process *p, int in_userns,
                      int preserve_fds, int seccomp_listener, const char *state_json, char *exe,
                      size_t exe_len, struct err *e)
{
	if (p->apparmor && p->apparmor[0]) {
		char prof[512];
		snprintf(prof, sizeof(prof), "exec %s", p->apparmor);
		if (util_write_str("/proc/self/attr/apparmor/exec", prof, e) < 0 &&
		    util_write_str("/proc/self/attr/exec", prof, e) < 0)
			return err_prefix(e, "process.apparmorProfile");
		err_clear(e);
	}
	if (apply_sched(c, p, e) < 0)
		return -1;
	/* Without no_new_privs loading a filter takes CAP_SYS_ADMIN: load it
	 * while we have it, as runc does (with no_new_privs, as late as can be,
	 * so that it filters only the user's process). */
	if (c && c->seccomp && !p->no_new_privileges &&
	    load_seccomp(c, seccomp_listener, state_json, e) < 0)
		return -1;
	if (p->has_umask)
		umask(p->umask);
	else
		umask(022);
	/* Bounding set first: dropping needs CAP_SETPCAP, which may go below. */
	int last = (int)cap_max_bits() - 1;
	for (int cap = 0; cap <= last; cap++) {
		if (in_set(&p->caps, OCI_CAP_BOUNDING, cap))
			continue;
		if (cap_drop_bound(cap) < 0 && errno != EINVAL)
			return err_sys(e, "process.capabilities.bounding: dropping %s",
			               oci_cap_name(cap) ? oci_cap_name(cap) : "?");
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return err_sys(e, "PR_SET_KEEPCAPS");
	_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is 32 bits");
	size_t ng = p->n_groups; /* at most 65536, checked by the parser */
	if (setgroups(ng, (const gid_t *)p->groups) < 0 &&
	    !(in_userns && errno == EPERM && ng == 0))
		return err_sys(e, "process.user.additionalGids");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return err_sys(e, "process.user.gid: %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return err_sys(e, "process.user.uid: %u", p->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return err_sys(e, "PR_SET_KEEPCAPS");
	if (apply_caps(&p->caps, e) < 0)
		return -1;
	if (chdir(p->cwd) < 0)
		return err_set(e, ERR_INPUT, "process.cwd: %s: %s", p->cwd, strerror(errno));
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_sys(e, "process.noNewPrivileges");
	if (!exe[0] && oci_find_exec(p, exe, exe_len, e) < 0)
		return -1;
	/* Only the preserved descriptors survive exec. */
	if (syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = 3 + preserve_fds; fd < 65536; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	if (c && c->seccomp && p->no_new_privileges &&
	    load_seccomp(c, seccomp_listener, state_json, e) < 0)
		return -1;
	return 0;
}
