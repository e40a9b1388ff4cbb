/* SPDX-License-Identifier: Apache-2.0 */
/* create: the runtime's side of making a container, in named phases:
 *   load_bundle      config.json, and what it asks that create refuses
 *   make_state       state directory, cgroup path, exec.fifo
 *   open_resources   idmapped-mount user namespaces, console, seccomp listener
 *   open_namespaces  namespaces joined by path
 *   make_cgroup      the cgroup with its limits, before the init exists
 *   spawn            the init in its new namespaces (init.c takes over there)
 *   sync_with_init   id maps, cgroup, hooks, until the init is READY (sync.h)
 *   record           the state and --pid-file
 * Any failure undoes what was done (abort_create). */
#include "oci/container.h"
#include "oci/hooks.h"
#include "oci/init.h"
#include "oci/ns.h"
#include "oci/sync.h"
#include "oci/terminal.h"
#include "oci/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Everything create holds until it is done. */
struct create {
	const struct oci_create_opts *o;
	char bundle[PATH_MAX];
	struct oci_config *c;
	struct oci_state *st;
	struct oci_cgroup *cg;
	struct oci_init_args a; /* what the init is given */
	int sock;               /* our end of the socket pair */
	int pidns_fd;           /* a pid namespace joined by path */
	pid_t pid;              /* the init */
	int made;               /* the state directory is ours to remove */
};

static int write_pid_file(const char *path, pid_t pid, struct err *e)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (util_write_atomic(path, buf, strlen(buf), e) < 0)
		return err_prefix(e, "--pid-file");
	return 0;
}

/* Parts of the config create refuses although they parse. */
static int refuse(const struct create *k, struct err *e)
{
	const struct oci_config *c = k->c;
	const struct oci_create_opts *o = k->o;
	struct stat sb;
	if (!c->has_process)
		return err_set(e, ERR_INPUT, "process: missing (needed to create a container)");
	if (stat(c->root_path, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return err_set(e, ERR_INPUT, "root.path: %s: %s", c->root_path,
		               errno ? strerror(errno) : "not a directory");
	if (c->process.terminal && !o->console_socket && o->console_fd <= 0)
		return err_set(e, ERR_INPUT,
		               "process.terminal is true: --console-socket is required");
	const struct oci_namespace *userns = oci_config_ns(c, CLONE_NEWUSER);
	const struct oci_namespace *pidns = oci_config_ns(c, CLONE_NEWPID);
	if (userns && userns->path && pidns && !pidns->path)
		return err_set(e, ERR_INPUT,
		               "linux.namespaces: joining a user namespace by path while "
		               "creating a new pid namespace is not supported");
	if (!oci_config_ns(c, CLONE_NEWNS) &&
	    (c->n_mounts || c->n_masked || c->n_readonly || c->root_readonly || c->n_devices))
		/* they would be made in the runtime's own mount namespace */
		return err_set(e, ERR_INPUT,
		               "%s: needs a mount namespace (linux.namespaces has none)",
		               c->n_mounts     ? "mounts"
		               : c->n_masked   ? "linux.maskedPaths"
		               : c->n_readonly ? "linux.readonlyPaths"
		               : c->n_devices  ? "linux.devices"
		                               : "root.readonly");
	if (geteuid() != 0 && !userns)
		return err_set(e, ERR_INPUT,
		               "linux.namespaces: running as a non-root user needs a user "
		               "namespace");
	return 0;
}

static int load_bundle(struct create *k, struct err *warn, struct err *e)
{
	const char *b = k->o->bundle ? k->o->bundle : ".";
	if (util_valid_id(k->o->id, e) < 0)
		return -1;
	if (!realpath(b, k->bundle))
		return err_set(e, ERR_INPUT, "--bundle %s: %s", b, strerror(errno));
	k->c = oci_config_load(k->bundle, e);
	if (!k->c)
		return -1;
	if (k->c->warning)
		err_join(warn, k->c->warning);
	return refuse(k, e);
}

/* The cgroup path; rootless, only a delegated (writable) hierarchy is used. */
static int cgroup_path(struct create *k, struct err *e)
{
	struct oci_cgroup *cg = k->cg;
	if (oci_cgroup_detect(cg, e) < 0)
		return -1;
	if (oci_cgroup_resolve_path(k->c->cgroups_path, k->o->id, k->o->systemd_cgroup, cg->path,
	                            sizeof(cg->path), e) < 0)
		return -1;
	if (geteuid() != 0) {
		char dir[1400];
		int v2;
		if (oci_cgroup_ctrl_dir(cg, "", dir, sizeof(dir), &v2) < 0 ||
		    access(cg->unified, W_OK) != 0) {
			if (k->c->resources.present)
				return err_set(e, ERR_INPUT,
				               "linux.resources: cgroups are not "
				               "delegated to this user");
			cg->path[0] = '\0';
		}
	}
	snprintf(k->st->cgroup, sizeof(k->st->cgroup), "%s", cg->path);
	return 0;
}

static int make_state(struct create *k, struct err *e)
{
	char fifo[OCI_PATH_MAX + 16];
	struct oci_state *st = k->st;
	if (oci_state_create(k->o->root, k->o->id, st, e) < 0)
		return -1;
	k->made = 1;
	snprintf(st->bundle, sizeof(st->bundle), "%s", k->bundle);
	snprintf(st->rootfs, sizeof(st->rootfs), "%s", k->c->root_path);
	st->systemd_cgroup = k->o->systemd_cgroup;
	if (oci_state_save(st, e) < 0 || cgroup_path(k, e) < 0)
		return -1;
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", st->dir);
	if (mkfifo(fifo, 0600) < 0)
		return err_sys(e, "creating %s", fifo);
	/* Read-write: never blocks, and the init keeps it without needing access
	 * to the state directory (it may be root of a user namespace only). */
	k->a.fifo = open(fifo, O_RDWR | O_CLOEXEC);
	if (k->a.fifo < 0)
		return err_sys(e, "opening %s", fifo);
	return 0;
}

static int open_resources(struct create *k, struct err *e)
{
	const struct oci_config *c = k->c;
	const struct oci_create_opts *o = k->o;
	struct oci_init_args *a = &k->a;
	a->idmap_fds = calloc(c->n_mounts + 1, sizeof(int));
	if (!a->idmap_fds)
		return err_set(e, ERR_SYSTEM, "out of memory");
	for (size_t i = 0; i < c->n_mounts; i++)
		a->idmap_fds[i] = -1;
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct oci_mount *m = &c->mounts[i];
		if (!m->idmap)
			continue;
		a->idmap_fds[i] =
		    oci_idmap_userns_fd(m->n_uid_map ? m->uid_map : c->uid_map,
		                        m->n_uid_map ? m->n_uid_map : c->n_uid_map,
		                        m->n_gid_map ? m->gid_map : c->gid_map,
		                        m->n_gid_map ? m->n_gid_map : c->n_gid_map, e);
		if (a->idmap_fds[i] < 0)
			return err_prefix(e, "mounts[%zu] (idmap)", i);
	}
	if (c->process.terminal && o->console_fd > 0 && (a->console = dup(o->console_fd)) < 0)
		return err_sys(e, "dup");
	if (a->console < 0 && o->console_socket && c->process.terminal &&
	    (a->console = oci_unix_connect(o->console_socket, e)) < 0)
		return err_prefix(e, "--console-socket");
	if (c->seccomp && c->seccomp->listener_path &&
	    (a->seccomp_listener = oci_unix_connect(c->seccomp->listener_path, e)) < 0)
		return err_prefix(e, "linux.seccomp.listenerPath");
	return 0;
}

/* Namespaces joined by path: opened here, entered by the init (pid: by us,
 * as it only applies to children), the user namespace first so that the
 * others are entered with its privileges. */
static int open_namespaces(struct create *k, struct err *e)
{
	const struct oci_config *c = k->c;
	struct oci_init_args *a = &k->a;
	for (size_t i = 0; i < c->n_namespaces; i++) {
		const struct oci_namespace *n = &c->namespaces[i];
		if (!n->path)
			continue;
		int fd = open(n->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_set(e, ERR_INPUT, "linux.namespaces: %s namespace path %s: %s",
			               oci_ns_name(n->type), n->path, strerror(errno));
		if (n->type == CLONE_NEWPID) {
			k->pidns_fd = fd;
			continue;
		}
		int at = a->n_join++;
		if (n->type == CLONE_NEWUSER && at > 0) {
			a->join_fds[at] = a->join_fds[0];
			a->join_types[at] = a->join_types[0];
			at = 0;
		}
		a->join_fds[at] = fd;
		a->join_types[at] = n->type;
	}
	if (k->pidns_fd >= 0 && setns(k->pidns_fd, CLONE_NEWPID) < 0)
		return err_sys(e, "linux.namespaces: joining pid namespace");
	return 0;
}

/* The cgroup exists (with its limits) before the init does; the init is
 * born in it or moved into it while it builds its root file system. */
static int make_cgroup(struct create *k, struct err *e)
{
	if (!k->cg->path[0])
		return 0;
	if (oci_cgroup_create(k->cg, 0, e) < 0)
		return -1;
	if (k->c->resources.present && oci_cgroup_apply(k->cg, &k->c->resources, e) < 0)
		return -1;
	return 0;
}

static int ns_clone_flags(const struct oci_config *c)
{
	int flags = 0;
	for (size_t i = 0; i < c->n_namespaces; i++) {
		const struct oci_namespace *n = &c->namespaces[i];
		if (n->path || n->type == CLONE_NEWCGROUP || n->type == CLONE_NEWTIME)
			continue;
		flags |= n->type;
	}
	return flags;
}

/* The init in its namespaces. Without a user namespace it is born in its
 * cgroup v2 (CLONE_INTO_CGROUP) and joins the v1 hierarchies itself
 * (oci_cgroup_join_self_v1), so nobody pays for moving a whole process. */
static pid_t clone_init(const struct oci_config *c, const struct oci_cgroup *cg,
                        struct oci_init_args *a)
{
	int inside = 0, flags = ns_clone_flags(c);
	a->join_self = 0;
	if (!cg->path[0] || a->userns)
		return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	/* decided before the clone so that both sides agree */
	a->join_self = 1;
	pid_t pid = oci_cgroup_clone(cg, flags, &inside);
	if (pid > 0 && cg->unified[0] && !inside) {
		/* no CLONE_INTO_CGROUP: the init still joins v1 itself, we do v2 */
		struct err ig = {0};
		char dir[1400], s[32];
		snprintf(dir, sizeof(dir), "%s%s/cgroup.procs", cg->unified, cg->path);
		snprintf(s, sizeof(s), "%d", (int)pid);
		util_write_str(dir, s, &ig);
	}
	return pid;
}

static int any_hooks(const struct oci_config *c)
{
	return c->n_hooks[OCI_HOOK_PRESTART] || c->n_hooks[OCI_HOOK_CREATE_RUNTIME] ||
	       c->n_hooks[OCI_HOOK_CREATE_CONTAINER] || c->n_hooks[OCI_HOOK_START_CONTAINER] ||
	       (c->seccomp && c->seccomp->listener_path);
}

static int spawn(struct create *k, struct err *e)
{
	const struct oci_config *c = k->c;
	struct oci_init_args *a = &k->a;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_sys(e, "socketpair");
	const struct oci_namespace *userns = oci_config_ns(c, CLONE_NEWUSER);
	a->cfg = k->c;
	a->cg = k->cg;
	a->bundle = k->bundle;
	a->sock = sv[1];
	a->no_pivot = k->o->no_pivot;
	a->preserve_fds = k->o->preserve_fds;
	a->new_userns = userns && !userns->path;
	a->userns = userns != NULL;
	for (size_t i = 0; i < c->n_namespaces; i++)
		if (!c->namespaces[i].path && (c->namespaces[i].type == CLONE_NEWCGROUP ||
		                               c->namespaces[i].type == CLONE_NEWTIME))
			a->unshare_late |= c->namespaces[i].type;
	a->need_sync = any_hooks(c) || (a->unshare_late & CLONE_NEWCGROUP);
	fflush(NULL);
	k->pid = clone_init(c, k->cg, a);
	if (k->pid == 0) {
		close(sv[0]);
		close(k->st->lock_fd); /* the init must not hold the container lock */
		oci_init_main(a);
	}
	close(sv[1]);
	k->sock = sv[0];
	if (k->pid < 0)
		return err_sys(e, "creating the container's namespaces (clone)");
	return 0;
}

/* OCI_MSG_HOOKS: prestart and createRuntime hooks here, the state for the
 * init's createContainer and startContainer hooks. */
static int run_hooks(void *arg, char **state, struct err *e)
{
	struct create *k = arg;
	*state = any_hooks(k->c) ? oci_state_json(k->st, "creating", 0) : strdup("{}");
	if (!*state)
		return err_set(e, ERR_SYSTEM, "out of memory");
	if (oci_hooks_run(k->c, OCI_HOOK_PRESTART, *state, e) < 0 ||
	    oci_hooks_run(k->c, OCI_HOOK_CREATE_RUNTIME, *state, e) < 0)
		return -1;
	return 0;
}

static int sync_with_init(struct create *k, int run_now, struct err *e)
{
	const struct oci_config *c = k->c;
	if (k->a.new_userns &&
	    oci_write_idmaps(k->pid, c->uid_map, c->n_uid_map, c->gid_map, c->n_gid_map, e) < 0)
		return -1;
	k->st->pid = k->pid;
	k->st->start_time = util_proc_start_time(k->pid, NULL);
	if (k->a.new_userns && oci_msg_send(k->sock, OCI_MSG_GO, NULL) < 0)
		return err_sys(e, "starting the container init");
	/* run: the start signal is queued now, the init goes straight on. */
	if (run_now && write(k->a.fifo, "1", 1) != 1)
		return err_sys(e, "signalling the container init");
	/* Moving a process between cgroups can wait for an RCU grace period
	 * (milliseconds): the init builds its root file system meanwhile and
	 * enters its cgroup namespace only after OCI_MSG_HOOKS_DONE. */
	if (k->cg->path[0] && !k->a.join_self && oci_cgroup_join(k->cg, k->pid, e) < 0)
		return -1;
	/* If the init has failed already, its message is read below. */
	oci_msg_send(k->sock, OCI_MSG_JOINED, NULL);
	return oci_sync_await_ready(k->sock, &k->pid, run_hooks, k, e);
}

static int record(struct create *k, struct err *e)
{
	if (oci_state_save(k->st, e) < 0)
		return -1;
	if (k->o->pid_file && write_pid_file(k->o->pid_file, k->pid, e) < 0)
		return -1;
	return 0;
}

/* Undo a partly created container. */
static void abort_create(struct create *k)
{
	struct err ignore = {0};
	if (!k->made)
		return; /* e.g. it exists already: not ours */
	if (k->pid > 0) {
		kill(k->pid, SIGKILL);
		waitpid(k->pid, NULL, 0);
	}
	if (k->cg->path[0])
		oci_cgroup_destroy(k->cg, 1, &ignore);
	oci_state_remove(k->st, &ignore);
	oci_state_close(k->st);
	k->cg->path[0] = '\0';
}

/* What only create needs; the config stays (for run) when asked for. */
static void release(struct create *k)
{
	struct oci_init_args *a = &k->a;
	for (int i = 0; i < a->n_join; i++)
		close(a->join_fds[i]);
	for (size_t i = 0; a->idmap_fds && i < k->c->n_mounts; i++)
		if (a->idmap_fds[i] >= 0)
			close(a->idmap_fds[i]);
	free(a->idmap_fds);
	int fds[] = {a->fifo, k->pidns_fd, k->sock, a->console, a->seccomp_listener};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int oci_create_container(const struct oci_create_opts *o, int run_now, struct oci_config **cfg_out,
                         struct oci_state *st, struct oci_cgroup *cg, pid_t *pid_out,
                         struct err *warn, struct err *e)
{
	struct create k = {.o = o, .st = st, .cg = cg, .sock = -1, .pidns_fd = -1, .pid = -1};
	k.a.fifo = k.a.console = k.a.seccomp_listener = -1;
	memset(cg, 0, sizeof(*cg));
	int r = load_bundle(&k, warn, e);
	if (r == 0) {
		if (make_state(&k, e) < 0 || open_resources(&k, e) < 0 ||
		    open_namespaces(&k, e) < 0 || make_cgroup(&k, e) < 0 || spawn(&k, e) < 0 ||
		    sync_with_init(&k, run_now, e) < 0 || record(&k, e) < 0)
			r = -1;
		if (r < 0)
			abort_create(&k);
		release(&k);
	}
	if (r < 0)
		oci_config_err_context(e);
	*pid_out = k.pid;
	if (r == 0 && cfg_out)
		*cfg_out = k.c;
	else
		oci_config_free(k.c);
	return r;
}

int oci_create(const struct oci_create_opts *o, pid_t *pid, struct err *warn, struct err *e)
{
	struct oci_state st;
	struct oci_cgroup cg;
	memset(&st, 0, sizeof(st));
	st.lock_fd = -1;
	int r = oci_create_container(o, 0, NULL, &st, &cg, pid, warn, e);
	oci_state_close(&st);
	return r;
}
