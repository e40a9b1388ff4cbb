/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup discovery, paths, membership, freezing and removal. Limits are in
 * cgroup_limits.c. */
#include "oci/cgroup.h"
#include "lib/file.h"
#include "oci/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Mountinfo: "id parent maj:min root mountpoint opts [optional...] - fstype source superopts" */
int oci_cgroup_parse_mountinfo(struct oci_cgroup *cg, const char *text, struct err *e)
{
	cg->nh = 0;
	cg->unified[0] = '\0';
	const char *line = text;
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[2048];
		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			char *f[6] = {0}, *save = NULL, *tok = strtok_r(buf, " ", &save);
			int i = 0;
			for (; tok && i < 5; i++, tok = strtok_r(NULL, " ", &save))
				f[i] = tok;
			char *sep = tok;
			while (sep && strcmp(sep, "-") != 0)
				sep = strtok_r(NULL, " ", &save);
			char *fstype = sep ? strtok_r(NULL, " ", &save) : NULL;
			char *source = fstype ? strtok_r(NULL, " ", &save) : NULL;
			char *super = source ? strtok_r(NULL, " ", &save) : NULL;
			if (i == 5 && fstype && strlen(f[4]) < 256) {
				if (!strcmp(fstype, "cgroup2") && !cg->unified[0]) {
					snprintf(cg->unified, sizeof(cg->unified), "%s", f[4]);
				} else if (!strcmp(fstype, "cgroup") && super &&
				           cg->nh < OCI_CG_MAX_HIER) {
					/* keep only controller names and name=... */
					char *ctrls = cg->h[cg->nh].ctrls, *s2 = NULL;
					ctrls[0] = '\0';
					for (char *o = strtok_r(super, ",", &s2); o;
					     o = strtok_r(NULL, ",", &s2)) {
						if (!strcmp(o, "rw") || !strcmp(o, "ro") ||
						    !strncmp(o, "release_agent", 13) ||
						    !strcmp(o, "clone_children") ||
						    !strcmp(o, "noprefix") || !strcmp(o, "xattr") ||
						    !strcmp(o, "cpuset_v2_mode") ||
						    !strcmp(o, "favordynmods"))
							continue;
						if (strlen(ctrls) + strlen(o) + 2 > 255)
							break;
						if (ctrls[0])
							strcat(ctrls, ",");
						strcat(ctrls, o);
					}
					int dup = 0;
					for (int k = 0; k < cg->nh; k++)
						if (!strcmp(cg->h[k].ctrls, ctrls))
							dup = 1;
					if (!dup && ctrls[0]) {
						snprintf(cg->h[cg->nh].mnt, sizeof(cg->h[0].mnt),
						         "%s", f[4]);
						cg->nh++;
					}
				}
			}
		}
		line = end ? end + 1 : NULL;
	}
	if (cg->nh == 0 && !cg->unified[0])
		return err_set(e, ERR_SYSTEM, "no cgroup file system is mounted");
	cg->layout = cg->nh == 0 ? OCI_CG_V2 : (cg->unified[0] ? OCI_CG_HYBRID : OCI_CG_V1);
	return 0;
}

int oci_cgroup_detect(struct oci_cgroup *cg, struct err *e)
{
	const char *mi = cg->mountinfo_path ? cg->mountinfo_path : "/proc/self/mountinfo";
	char *text = file_read(mi, 4 << 20, NULL, e);
	if (!text)
		return -1;
	int r = oci_cgroup_parse_mountinfo(cg, text, e);
	free(text);
	if (r < 0)
		return -1;
	cg->v2_ctrls[0] = '\0';
	if (cg->unified[0]) {
		char p[300];
		snprintf(p, sizeof(p), "%s/cgroup.controllers", cg->unified);
		char *c = file_read(p, 4096, NULL, e);
		if (c) {
			char *nl = strchr(c, '\n');
			if (nl)
				*nl = '\0';
			snprintf(cg->v2_ctrls, sizeof(cg->v2_ctrls), "%s", c);
			free(c);
		}
		err_clear(e);
	}
	return 0;
}

static int has_word(const char *list, const char *word, char sep)
{
	size_t n = strlen(word);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, sep);
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !strncmp(p, word, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static int append(char *out, size_t len, size_t *pos, const char *s, struct err *e)
{
	size_t n = strlen(s);
	if (*pos + n + 1 > len)
		return err_set(e, ERR_INPUT, "linux.cgroupsPath: too long");
	memcpy(out + *pos, s, n + 1);
	*pos += n;
	return 0;
}

int oci_cgroup_resolve_path(const char *cgroups_path, const char *id, int systemd, char *out,
                            size_t len, struct err *e)
{
	size_t pos = 0;
	out[0] = '\0';
	if (systemd) {
		/* slice:prefix:name */
		char buf[1024];
		const char *p = cgroups_path && *cgroups_path ? cgroups_path : ":capsa:";
		if (strlen(p) >= sizeof(buf))
			return err_set(e, ERR_INPUT, "linux.cgroupsPath: too long");
		strcpy(buf, p);
		char *c1 = strchr(buf, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || !c2 || strchr(c2 + 1, ':'))
			return err_set(e, ERR_INPUT,
			               "linux.cgroupsPath: '%s' is not slice:prefix:name (systemd)",
			               p);
		*c1 = *c2 = '\0';
		const char *slice = buf[0] ? buf : "system.slice", *prefix = c1 + 1;
		const char *name = c2[1] ? c2 + 1 : id;
		size_t sl = strlen(slice);
		if (sl < 7 || strcmp(slice + sl - 6, ".slice") || strchr(slice, '/'))
			return err_set(e, ERR_INPUT, "linux.cgroupsPath: bad slice '%s'", slice);
		/* a-b-c.slice lives in a.slice/a-b.slice/a-b-c.slice */
		if (strcmp(slice, "-.slice") != 0) {
			for (size_t i = 0; i < sl - 6; i++) {
				if (slice[i] == '-' || i == sl - 7) {
					size_t upto = slice[i] == '-' ? i : sl - 6;
					char part[512];
					if (upto == 0 || upto + 7 > sizeof(part))
						return err_set(e, ERR_INPUT,
						               "linux.cgroupsPath: bad slice '%s'",
						               slice);
					memcpy(part, slice, upto);
					strcpy(part + upto, ".slice");
					if (append(out, len, &pos, "/", e) ||
					    append(out, len, &pos, part, e))
						return -1;
				}
			}
		}
		if (append(out, len, &pos, "/", e) ||
		    (prefix[0] && append(out, len, &pos, prefix, e)) ||
		    (prefix[0] && append(out, len, &pos, "-", e)) ||
		    append(out, len, &pos, name, e))
			return -1;
		if (!strstr(name, ".slice") && append(out, len, &pos, ".scope", e))
			return -1;
	} else if (cgroups_path && *cgroups_path) {
		if (cgroups_path[0] != '/' && append(out, len, &pos, "/", e))
			return -1;
		if (append(out, len, &pos, cgroups_path, e))
			return -1;
	} else {
		if (append(out, len, &pos, "/capsa/", e) || append(out, len, &pos, id, e))
			return -1;
	}
	/* No "..", no "//", no trailing '/'. */
	if (strstr(out, "/../") || strstr(out, "/./") || strstr(out, "//") ||
	    (pos >= 3 && !strcmp(out + pos - 3, "/..")) || (pos > 1 && out[pos - 1] == '/') ||
	    !strcmp(out, "/"))
		return err_set(e, ERR_INPUT, "linux.cgroupsPath: '%s' is not a usable cgroup path",
		               out);
	return 0;
}

int oci_cgroup_ctrl_dir(const struct oci_cgroup *cg, const char *ctrl, char *buf, size_t len,
                        int *is_v2)
{
	for (int i = 0; i < cg->nh; i++) {
		if (has_word(cg->h[i].ctrls, ctrl, ',')) {
			*is_v2 = 0;
			return snprintf(buf, len, "%s%s", cg->h[i].mnt, cg->path) >= (int)len ? -1
			                                                                      : 0;
		}
	}
	if (cg->unified[0] && (!ctrl[0] || has_word(cg->v2_ctrls, ctrl, ' '))) {
		*is_v2 = 1;
		return snprintf(buf, len, "%s%s", cg->unified, cg->path) >= (int)len ? -1 : 0;
	}
	return -1;
}

/* Copy cpuset.cpus/mems from the parent where they are empty (v1 needs it). */
static void cpuset_init(const char *dir)
{
	const char *files[2] = {"cpuset.cpus", "cpuset.mems"};
	for (int i = 0; i < 2; i++) {
		char p[1400], pp[1400];
		struct err e = {0};
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		char *cur = file_read(p, 4096, NULL, &e);
		if (cur && cur[0] && cur[0] != '\n') {
			free(cur);
			continue;
		}
		free(cur);
		char parent[1400];
		snprintf(parent, sizeof(parent), "%s", dir);
		char *slash = strrchr(parent, '/');
		if (!slash)
			continue;
		*slash = '\0';
		cpuset_init(parent);
		snprintf(pp, sizeof(pp), "%s/%s", parent, files[i]);
		char *val = file_read(pp, 4096, NULL, &e);
		if (val) {
			util_write_str(p, val, &e);
			free(val);
		}
	}
}

static int write_pid(const char *dir, pid_t pid, struct err *e)
{
	char p[1400], s[32];
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	snprintf(s, sizeof(s), "%d", (int)pid);
	return util_write_str(p, s, e);
}

/* Create a v2 leaf directory by directory, enabling every available
 * controller in each parent's cgroup.subtree_control on the way down: a
 * controller reaches a cgroup only through all of its ancestors. */
static int v2_create(const struct oci_cgroup *cg, struct err *e)
{
	char dir[1400];
	size_t dl = (size_t)snprintf(dir, sizeof(dir), "%s", cg->unified);
	for (const char *p = cg->path; p && *p;) {
		const char *next = strchr(p + 1, '/');
		size_t seg = next ? (size_t)(next - p) : strlen(p);
		if (dl + seg >= sizeof(dir))
			return err_set(e, ERR_INPUT, "linux.cgroupsPath: too long");
		char sc[1500], copy[256];
		snprintf(sc, sizeof(sc), "%s/cgroup.subtree_control", dir);
		snprintf(copy, sizeof(copy), "%s", cg->v2_ctrls);
		char *save = NULL;
		for (char *c = strtok_r(copy, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
			char w[64];
			struct err ig = {0}; /* not every controller can be enabled everywhere */
			snprintf(w, sizeof(w), "+%s", c);
			util_write_str(sc, w, &ig);
		}
		memcpy(dir + dl, p, seg);
		dl += seg;
		dir[dl] = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return err_sys(e, "cgroup: creating %s", dir);
		p = next;
	}
	return 0;
}

int oci_cgroup_create(struct oci_cgroup *cg, pid_t pid, struct err *e)
{
	char dir[1400];
	for (int i = 0; i < cg->nh; i++) {
		snprintf(dir, sizeof(dir), "%s%s", cg->h[i].mnt, cg->path);
		if (util_mkdir_p(dir, 0755, e) < 0)
			return err_prefix(e, "cgroup");
		if (has_word(cg->h[i].ctrls, "cpuset", ','))
			cpuset_init(dir);
	}
	if (cg->unified[0] && v2_create(cg, e) < 0)
		return -1;
	return pid > 0 ? oci_cgroup_join(cg, pid, e) : 0;
}

int oci_cgroup_join_self_v1(const struct oci_cgroup *cg, struct err *e)
{
	char p[1500];
	for (int i = 0; i < cg->nh; i++) {
		snprintf(p, sizeof(p), "%s%s/tasks", cg->h[i].mnt, cg->path);
		if (util_write_str(p, "0", e) < 0)
			return err_prefix(e, "joining cgroup");
	}
	return 0;
}

/* clone3(2) arguments (the kernel's struct clone_args, version 2). */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
	    set_tid_size, cgroup;
};
#define CAPSA_CLONE_INTO_CGROUP 0x200000000ULL

pid_t oci_cgroup_clone(const struct oci_cgroup *cg, int ns_flags, int *inside)
{
	*inside = 0;
	if (cg->path[0] && cg->unified[0]) {
		char dir[1400];
		snprintf(dir, sizeof(dir), "%s%s", cg->unified, cg->path);
		int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd >= 0) {
			struct clone3_args ca;
			memset(&ca, 0, sizeof(ca));
			ca.flags = (uint64_t)(unsigned)ns_flags | CAPSA_CLONE_INTO_CGROUP;
			ca.exit_signal = SIGCHLD;
			ca.cgroup = (uint64_t)cgfd;
			pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
			int saved = errno;
			if (pid != 0)
				close(cgfd);
			if (pid >= 0) {
				*inside = 1;
				return pid;
			}
			errno = saved; /* an older kernel: plain clone below */
		}
	}
	return (pid_t)syscall(SYS_clone, ns_flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

int oci_cgroup_join(const struct oci_cgroup *cg, pid_t pid, struct err *e)
{
	char dir[1400];
	for (int i = 0; i < cg->nh; i++) {
		snprintf(dir, sizeof(dir), "%s%s", cg->h[i].mnt, cg->path);
		if (write_pid(dir, pid, e) < 0)
			return err_prefix(e, "joining cgroup");
	}
	if (cg->unified[0]) {
		snprintf(dir, sizeof(dir), "%s%s", cg->unified, cg->path);
		if (write_pid(dir, pid, e) < 0)
			return err_prefix(e, "joining cgroup");
	}
	return 0;
}

static int procs_dir(const struct oci_cgroup *cg, char *dir, size_t len)
{
	int v2;
	const char *prefer[] = {"pids", "freezer", "memory", "cpu", "name=systemd", ""};
	for (size_t i = 0; i < sizeof(prefer) / sizeof(prefer[0]); i++)
		if (oci_cgroup_ctrl_dir(cg, prefer[i], dir, len, &v2) == 0)
			return 0;
	if (cg->nh > 0)
		return snprintf(dir, len, "%s%s", cg->h[0].mnt, cg->path) >= (int)len ? -1 : 0;
	return -1;
}

int oci_cgroup_pids(const struct oci_cgroup *cg, pid_t **pids, size_t *n, struct err *e)
{
	char dir[1400], p[1500];
	*pids = NULL;
	*n = 0;
	if (procs_dir(cg, dir, sizeof(dir)) < 0)
		return err_set(e, ERR_SYSTEM, "no cgroup hierarchy to list processes");
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	char *text = file_read(p, 16 << 20, NULL, e);
	if (!text)
		return -1;
	size_t cap = 16;
	pid_t *v = malloc(cap * sizeof(*v));
	for (char *s = text; v && *s;) {
		char *end;
		long x = strtol(s, &end, 10);
		if (end == s)
			break;
		if (*n == cap) {
			pid_t *nv = realloc(v, cap * 2 * sizeof(*v));
			if (!nv) {
				free(v);
				v = NULL;
				break;
			}
			v = nv;
			cap *= 2;
		}
		v[(*n)++] = (pid_t)x;
		s = end;
		while (*s == '\n')
			s++;
	}
	free(text);
	if (!v)
		return err_set(e, ERR_SYSTEM, "out of memory");
	*pids = v;
	return 0;
}

int oci_cgroup_destroy(const struct oci_cgroup *cg, int kill_procs, struct err *e)
{
	char dir[1400];
	if (!cg->path[0])
		return 0;
	if (kill_procs) {
		/* Thaw first so that SIGKILL is delivered. */
		if (oci_cgroup_is_frozen(cg)) {
			struct err e2 = {0};
			oci_cgroup_freeze(cg, 0, &e2);
		}
		for (int tries = 0; tries < 500; tries++) {
			pid_t *pids;
			size_t n;
			struct err e2 = {0};
			if (oci_cgroup_pids(cg, &pids, &n, &e2) < 0)
				break;
			for (size_t i = 0; i < n; i++)
				kill(pids[i], SIGKILL);
			free(pids);
			if (n == 0)
				break;
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
		}
	}
	int failed = 0;
	for (int i = -1; i < cg->nh; i++) {
		if (i < 0 && !cg->unified[0])
			continue;
		snprintf(dir, sizeof(dir), "%s%s", i < 0 ? cg->unified : cg->h[i].mnt, cg->path);
		for (int tries = 0; tries < 200; tries++) {
			if (rmdir(dir) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY) {
				failed = errno;
				break;
			}
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
			if (tries == 199)
				failed = EBUSY;
		}
	}
	if (failed)
		return err_errno(e, failed, "removing cgroup %s", cg->path);
	return 0;
}

int oci_cgroup_freeze(const struct oci_cgroup *cg, int freeze, struct err *e)
{
	char dir[1400], p[1500];
	int v2;
	if (oci_cgroup_ctrl_dir(cg, "freezer", dir, sizeof(dir), &v2) < 0) {
		if (!cg->unified[0] || cg->layout != OCI_CG_V2)
			return err_set(e, ERR_SYSTEM,
			               "the freezer cgroup controller is not available");
		snprintf(dir, sizeof(dir), "%s%s", cg->unified, cg->path);
		v2 = 1;
	}
	if (v2) {
		snprintf(p, sizeof(p), "%s/cgroup.freeze", dir);
		if (util_write_str(p, freeze ? "1" : "0", e) < 0)
			return -1;
	} else {
		snprintf(p, sizeof(p), "%s/freezer.state", dir);
		if (util_write_str(p, freeze ? "FROZEN" : "THAWED", e) < 0)
			return -1;
	}
	for (int i = 0; i < 1000; i++) {
		if (oci_cgroup_is_frozen(cg) == freeze)
			return 0;
		nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);
	}
	return err_set(e, ERR_SYSTEM, "cgroup %s did not %s in time", cg->path,
	               freeze ? "freeze" : "thaw");
}

/* The contents of DIR/FILE (at most about max bytes), or NULL when it cannot
 * be read: the callers report such a value as unknown. */
static char *read_knob(const char *dir, const char *file, size_t max)
{
	char p[1500];
	struct err e = {0};
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return file_read(p, max, NULL, &e);
}

int oci_cgroup_is_frozen(const struct oci_cgroup *cg)
{
	char dir[1400];
	int v2, frozen = 0;
	if (oci_cgroup_ctrl_dir(cg, "freezer", dir, sizeof(dir), &v2) < 0) {
		if (!cg->unified[0] || cg->layout != OCI_CG_V2)
			return 0;
		snprintf(dir, sizeof(dir), "%s%s", cg->unified, cg->path);
		v2 = 1;
	}
	char *t = read_knob(dir, v2 ? "cgroup.events" : "freezer.state", 4096);
	if (t) {
		frozen = v2 ? strstr(t, "frozen 1") != NULL : strncmp(t, "FROZEN", 6) == 0;
		free(t);
	}
	return frozen;
}

static long long read_ll(const char *dir, const char *file)
{
	char *t = read_knob(dir, file, 1 << 16);
	if (!t)
		return -1;
	long long v = strncmp(t, "max", 3) == 0 ? -1 : strtoll(t, NULL, 10);
	free(t);
	return v;
}

static long long read_key(const char *dir, const char *file, const char *key)
{
	char *t = read_knob(dir, file, 1 << 16);
	if (!t)
		return -1;
	long long v = -1;
	size_t kl = strlen(key);
	for (char *l = t; l && *l;) {
		if (!strncmp(l, key, kl) && l[kl] == ' ') {
			v = strtoll(l + kl + 1, NULL, 10);
			break;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	free(t);
	return v;
}

void oci_cgroup_stats(const struct oci_cgroup *cg, struct oci_cgroup_stats *s)
{
	char dir[1400];
	int v2;
	memset(s, 0xff, sizeof(*s)); /* -1 = unknown */
	if (oci_cgroup_ctrl_dir(cg, "memory", dir, sizeof(dir), &v2) == 0) {
		s->mem_usage = read_ll(dir, v2 ? "memory.current" : "memory.usage_in_bytes");
		s->mem_limit = read_ll(dir, v2 ? "memory.max" : "memory.limit_in_bytes");
		s->mem_max_usage =
		    v2 ? read_ll(dir, "memory.peak") : read_ll(dir, "memory.max_usage_in_bytes");
		s->oom_kills = v2 ? read_key(dir, "memory.events", "oom_kill")
		                  : read_key(dir, "memory.oom_control", "oom_kill");
	}
	if (oci_cgroup_ctrl_dir(cg, "pids", dir, sizeof(dir), &v2) == 0) {
		s->pids_current = read_ll(dir, "pids.current");
		s->pids_limit = read_ll(dir, "pids.max");
	}
	if (oci_cgroup_ctrl_dir(cg, "cpuacct", dir, sizeof(dir), &v2) == 0 && !v2) {
		s->cpu_usage_ns = read_ll(dir, "cpuacct.usage");
	} else if (oci_cgroup_ctrl_dir(cg, "cpu", dir, sizeof(dir), &v2) == 0 && v2) {
		long long us = read_key(dir, "cpu.stat", "usage_usec");
		s->cpu_usage_ns = us < 0 ? -1 : us * 1000;
	}
}

unsigned long long oci_cgroup_shares_to_weight(unsigned long long shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}
