/* create, start, kill, delete, run: the runtime's side of the lifecycle. */
#include "oci/container.h"
#include "oci/hooks.h"
#include "oci/ns.h"
#include "oci/terminal.h"
#include "oci/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int oci_msg_send(int sock, char type, const char *text)
{
	char buf[8192];
	size_t n = text ? strlen(text) : 0;
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[0] = type;
	if (n)
		memcpy(buf + 1, text, n);
	ssize_t r;
	do
		r = send(sock, buf, n + 1, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

int oci_msg_recv(int sock, char *text, size_t len)
{
	char buf[8192];
	ssize_t r;
	int resets = 0;
	/* A peer that exited with a message of ours unread makes the next recv
	 * fail once with ECONNRESET, before the messages it sent us: look again. */
	do
		r = recv(sock, buf, sizeof(buf) - 1, 0);
	while (r < 0 && (errno == EINTR || (errno == ECONNRESET && resets++ == 0)));
	if (r <= 0)
		return (int)r;
	buf[r] = '\0';
	if (text && len)
		snprintf(text, len, "%s", buf + 1);
	return (unsigned char)buf[0];
}

void oci_child_fail(int sock, const struct err *e)
{
	char msg[ERR_MSG_MAX + 4];
	snprintf(msg, sizeof(msg), "%d%s", e->kind == ERR_INPUT ? 1 : 0, e->msg);
	oci_msg_send(sock, OCI_MSG_ERROR, msg);
	_exit(1);
}

static void child_error(const char *payload, struct err *e)
{
	err_set(e, payload[0] == '1' ? ERR_INPUT : ERR_SYSTEM, "%s", payload[0] ? payload + 1 : "");
}

int oci_state_cgroup(const struct oci_state *st, struct oci_cgroup *cg, struct err *e)
{
	memset(cg, 0, sizeof(*cg));
	if (!st->cgroup[0])
		return 0;
	if (oci_cgroup_detect(cg, e) < 0)
		return -1;
	snprintf(cg->path, sizeof(cg->path), "%s", st->cgroup);
	return 0;
}

/* Warnings are joined into one message for the user. */
static void add_warning(struct err *warn, const char *msg)
{
	if (warn->kind == ERR_NONE)
		err_set(warn, ERR_INPUT, "%s", msg);
	else
		err_append(warn, "; %s", msg);
}

static char *state_for_hooks(const struct oci_state *st, const char *status)
{
	return oci_state_json(st, status, 0);
}

static int write_pid_file(const char *path, pid_t pid, struct err *e)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (util_write_atomic(path, buf, strlen(buf), e) < 0)
		return err_prefix(e, "--pid-file");
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

/* Start the init in its namespaces. Without a user namespace it is born in
 * its cgroup v2 (CLONE_INTO_CGROUP) and joins the v1 hierarchies itself
 * (oci_cgroup_join_self_v1), so nobody pays for moving a whole process. */
static pid_t spawn_init(const struct oci_config *c, const struct oci_cgroup *cg,
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

/* Undo a partly created container. */
static void abort_create(struct oci_state *st, struct oci_cgroup *cg, pid_t pid)
{
	struct err ignore = {0};
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (cg && cg->path[0])
		oci_cgroup_destroy(cg, 1, &ignore);
	oci_state_remove(st, &ignore);
	oci_state_close(st);
}

static int setup_cgroup(const struct oci_create_opts *o, const struct oci_config *c,
                        struct oci_cgroup *cg, struct oci_state *st, struct err *e)
{
	memset(cg, 0, sizeof(*cg));
	if (oci_cgroup_detect(cg, e) < 0)
		return -1;
	if (oci_cgroup_resolve_path(c->cgroups_path, o->id, o->systemd_cgroup, cg->path,
	                            sizeof(cg->path), e) < 0)
		return err_prefix(e, "config.json");
	if (geteuid() != 0) {
		/* Rootless: only a delegated (writable) hierarchy is used. */
		char dir[1400];
		int v2;
		if (oci_cgroup_ctrl_dir(cg, "", dir, sizeof(dir), &v2) < 0 ||
		    access(cg->unified, W_OK) != 0) {
			if (c->resources.present)
				return err_set(e, ERR_INPUT,
				               "linux.resources: cgroups are not "
				               "delegated to this user");
			cg->path[0] = '\0';
		}
	}
	snprintf(st->cgroup, sizeof(st->cgroup), "%s", cg->path);
	return 0;
}

static int do_create(const struct oci_create_opts *o, int run_now, struct oci_config **cfg_out,
                     struct oci_state *st, struct oci_cgroup *cg, pid_t *pid_out, struct err *warn,
                     struct err *e)
{
	char bundle[PATH_MAX], fifo[OCI_PATH_MAX + 16], msg[8192];
	pid_t pid = -1;
	int sv[2] = {-1, -1}, console = -1, listener = -1, ret = -1, pidns_fd = -1;
	struct oci_config *c = NULL;
	struct oci_init_args a;
	memset(&a, 0, sizeof(a));
	a.fifo = -1;
	cg->path[0] = '\0';
	if (util_valid_id(o->id, e) < 0)
		return -1;
	if (!realpath(o->bundle ? o->bundle : ".", bundle))
		return err_set(e, ERR_INPUT, "--bundle %s: %s", o->bundle ? o->bundle : ".",
		               strerror(errno));
	c = oci_config_load(bundle, e);
	if (!c)
		return -1;
	if (c->warning)
		add_warning(warn, c->warning);
	if (!c->has_process) {
		err_set(e, ERR_INPUT,
		        "config.json: process: missing (needed to create a container)");
		goto out_cfg;
	}
	struct stat sb;
	if (stat(c->root_path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		err_set(e, ERR_INPUT, "config.json: root.path: %s: %s", c->root_path,
		        errno ? strerror(errno) : "not a directory");
		goto out_cfg;
	}
	if (c->process.terminal && !o->console_socket && o->console_fd <= 0) {
		err_set(e, ERR_INPUT, "process.terminal is true: --console-socket is required");
		goto out_cfg;
	}
	const struct oci_namespace *userns = oci_config_ns(c, CLONE_NEWUSER);
	const struct oci_namespace *pidns = oci_config_ns(c, CLONE_NEWPID);
	if (userns && userns->path && pidns && !pidns->path) {
		err_set(e, ERR_INPUT,
		        "linux.namespaces: joining a user namespace by path while "
		        "creating a new pid namespace is not supported");
		goto out_cfg;
	}
	if (!oci_config_ns(c, CLONE_NEWNS) &&
	    (c->n_mounts || c->n_masked || c->n_readonly || c->root_readonly || c->n_devices)) {
		/* they would be made in the runtime's own mount namespace */
		err_set(e, ERR_INPUT,
		        "config.json: %s: needs a mount namespace (linux.namespaces has none)",
		        c->n_mounts     ? "mounts"
		        : c->n_masked   ? "linux.maskedPaths"
		        : c->n_readonly ? "linux.readonlyPaths"
		        : c->n_devices  ? "linux.devices"
		                        : "root.readonly");
		goto out_cfg;
	}
	if (geteuid() != 0 && !userns) {
		err_set(e, ERR_INPUT,
		        "linux.namespaces: running as a non-root user needs a user "
		        "namespace");
		goto out_cfg;
	}
	if (oci_state_create(o->root, o->id, st, e) < 0)
		goto out_cfg;
	snprintf(st->bundle, sizeof(st->bundle), "%s", bundle);
	snprintf(st->rootfs, sizeof(st->rootfs), "%s", c->root_path);
	st->systemd_cgroup = o->systemd_cgroup;
	if (oci_state_save(st, e) < 0)
		goto fail;
	if (setup_cgroup(o, c, cg, st, e) < 0)
		goto fail;
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", st->dir);
	if (mkfifo(fifo, 0600) < 0) {
		err_sys(e, "creating %s", fifo);
		goto fail;
	}
	/* Read-write: never blocks, and the init keeps it without needing access
	 * to the state directory (it may be root of a user namespace only). */
	a.fifo = open(fifo, O_RDWR | O_CLOEXEC);
	if (a.fifo < 0) {
		err_sys(e, "opening %s", fifo);
		goto fail;
	}
	a.idmap_fds = calloc(c->n_mounts + 1, sizeof(int));
	if (!a.idmap_fds) {
		err_set(e, ERR_SYSTEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < c->n_mounts; i++)
		a.idmap_fds[i] = -1;
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct oci_mount *m = &c->mounts[i];
		if (!m->idmap)
			continue;
		a.idmap_fds[i] = oci_idmap_userns_fd(m->n_uid_map ? m->uid_map : c->uid_map,
		                                     m->n_uid_map ? m->n_uid_map : c->n_uid_map,
		                                     m->n_gid_map ? m->gid_map : c->gid_map,
		                                     m->n_gid_map ? m->n_gid_map : c->n_gid_map, e);
		if (a.idmap_fds[i] < 0) {
			err_prefix(e, "mounts[%zu] (idmap)", i);
			goto fail;
		}
	}
	if (c->process.terminal && o->console_fd > 0 && (console = dup(o->console_fd)) < 0) {
		err_sys(e, "dup");
		goto fail;
	}
	if (console < 0 && o->console_socket && c->process.terminal &&
	    (console = oci_unix_connect(o->console_socket, e)) < 0) {
		err_prefix(e, "--console-socket");
		goto fail;
	}
	if (c->seccomp && c->seccomp->listener_path &&
	    (listener = oci_unix_connect(c->seccomp->listener_path, e)) < 0) {
		err_prefix(e, "linux.seccomp.listenerPath");
		goto fail;
	}
	/* Namespaces joined by path: opened here, entered by the child (pid:
	 * by us, as it only applies to children). */
	for (size_t i = 0; i < c->n_namespaces; i++) {
		const struct oci_namespace *n = &c->namespaces[i];
		if (!n->path)
			continue;
		int fd = open(n->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err_set(e, ERR_INPUT, "linux.namespaces: %s namespace path %s: %s",
			        oci_ns_name(n->type), n->path, strerror(errno));
			goto fail;
		}
		if (n->type == CLONE_NEWPID) {
			pidns_fd = fd;
			continue;
		}
		/* user first, so that the others are entered with its privileges */
		if (n->type == CLONE_NEWUSER && a.n_join > 0) {
			a.join_fds[a.n_join] = a.join_fds[0];
			a.join_types[a.n_join] = a.join_types[0];
			a.join_fds[0] = fd;
			a.join_types[0] = n->type;
		} else {
			a.join_fds[a.n_join] = fd;
			a.join_types[a.n_join] = n->type;
		}
		a.n_join++;
	}
	if (pidns_fd >= 0 && setns(pidns_fd, CLONE_NEWPID) < 0) {
		err_sys(e, "linux.namespaces: joining pid namespace");
		goto fail;
	}
	/* The cgroup exists (with its limits) before the init does; the init
	 * is moved into it while it builds its root file system. */
	if (cg->path[0]) {
		if (oci_cgroup_create(cg, 0, e) < 0)
			goto fail;
		if (c->resources.present && oci_cgroup_apply(cg, &c->resources, e) < 0)
			goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		err_sys(e, "socketpair");
		goto fail;
	}
	a.cfg = c;
	a.cg = cg;
	a.bundle = bundle;
	a.sock = sv[1];
	a.console = console;
	a.seccomp_listener = listener;
	a.no_pivot = o->no_pivot;
	a.preserve_fds = o->preserve_fds;
	a.new_userns = userns && !userns->path;
	a.userns = userns != NULL;
	for (size_t i = 0; i < c->n_namespaces; i++)
		if (!c->namespaces[i].path && (c->namespaces[i].type == CLONE_NEWCGROUP ||
		                               c->namespaces[i].type == CLONE_NEWTIME))
			a.unshare_late |= c->namespaces[i].type;
	a.need_sync = c->n_hooks[OCI_HOOK_PRESTART] || c->n_hooks[OCI_HOOK_CREATE_RUNTIME] ||
	              c->n_hooks[OCI_HOOK_CREATE_CONTAINER] ||
	              c->n_hooks[OCI_HOOK_START_CONTAINER] || (a.unshare_late & CLONE_NEWCGROUP) ||
	              (c->seccomp && c->seccomp->listener_path);
	fflush(NULL);
	pid = spawn_init(c, cg, &a);
	if (pid < 0) {
		err_sys(e, "creating the container's namespaces (clone)");
		goto fail;
	}
	if (pid == 0) {
		close(sv[0]);
		close(st->lock_fd); /* the init must not hold the container lock */
		oci_init_main(&a);
	}
	close(sv[1]);
	sv[1] = -1;
	if (a.new_userns &&
	    oci_write_idmaps(pid, c->uid_map, c->n_uid_map, c->gid_map, c->n_gid_map, e) < 0)
		goto fail;
	st->pid = pid;
	st->start_time = util_proc_start_time(pid, NULL);
	if (a.new_userns && oci_msg_send(sv[0], OCI_MSG_GO, NULL) < 0) {
		err_sys(e, "starting the container init");
		goto fail;
	}
	/* run: the start signal is queued now, the init goes straight on. */
	if (run_now && write(a.fifo, "1", 1) != 1) {
		err_sys(e, "signalling the container init");
		goto fail;
	}
	/* Moving a process between cgroups can wait for an RCU grace period
	 * (milliseconds): the init builds its root file system meanwhile and
	 * enters its cgroup namespace only after OCI_MSG_HOOKS_DONE. */
	if (cg->path[0] && !a.join_self && oci_cgroup_join(cg, pid, e) < 0)
		goto fail;
	/* If the init has failed already, its message is read below. */
	oci_msg_send(sv[0], OCI_MSG_JOINED, NULL);
	for (;;) {
		int t = oci_msg_recv(sv[0], msg, sizeof(msg));
		if (t == OCI_MSG_READY)
			break;
		if (t == OCI_MSG_ERROR) {
			child_error(msg, e);
			goto fail;
		}
		if (t == OCI_MSG_HOOKS) {
			int any = c->n_hooks[OCI_HOOK_PRESTART] ||
			          c->n_hooks[OCI_HOOK_CREATE_RUNTIME] ||
			          c->n_hooks[OCI_HOOK_CREATE_CONTAINER] ||
			          c->n_hooks[OCI_HOOK_START_CONTAINER] ||
			          (c->seccomp && c->seccomp->listener_path);
			char *state = any ? state_for_hooks(st, "creating") : strdup("{}");
			int r = state ? 0 : err_set(e, ERR_SYSTEM, "out of memory");
			if (r == 0)
				r = oci_hooks_run(c, OCI_HOOK_PRESTART, state, e);
			if (r == 0)
				r = oci_hooks_run(c, OCI_HOOK_CREATE_RUNTIME, state, e);
			if (r == 0)
				r = oci_msg_send(sv[0], OCI_MSG_HOOKS_DONE, state);
			free(state);
			if (r < 0)
				goto fail;
			continue;
		}
		if (t <= 0) {
			int status = 0;
			waitpid(pid, &status, 0);
			pid = -1;
			err_set(e, ERR_SYSTEM, "the container init exited during setup (status %d)",
			        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
			goto fail;
		}
		err_set(e, ERR_INTERNAL, "unexpected message %d from the container init", t);
		goto fail;
	}
	if (oci_state_save(st, e) < 0)
		goto fail;
	if (o->pid_file && write_pid_file(o->pid_file, pid, e) < 0)
		goto fail;
	*pid_out = pid;
	ret = 0;
	goto out;
fail:
	abort_create(st, cg, pid);
	cg->path[0] = '\0';
out:
	for (int i = 0; i < a.n_join; i++)
		close(a.join_fds[i]);
	for (size_t i = 0; a.idmap_fds && i < c->n_mounts; i++)
		if (a.idmap_fds[i] >= 0)
			close(a.idmap_fds[i]);
	free(a.idmap_fds);
	if (a.fifo >= 0)
		close(a.fifo);
	if (pidns_fd >= 0)
		close(pidns_fd);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (console >= 0)
		close(console);
	if (listener >= 0)
		close(listener);
out_cfg:
	if (ret == 0 && cfg_out)
		*cfg_out = c;
	else
		oci_config_free(c);
	if (ret < 0)
		oci_config_err_context(e);
	return ret;
}

int oci_create(const struct oci_create_opts *o, pid_t *pid, struct err *warn, struct err *e)
{
	struct oci_state st;
	struct oci_cgroup cg;
	memset(&st, 0, sizeof(st));
	st.lock_fd = -1;
	int r = do_create(o, 0, NULL, &st, &cg, pid, warn, e);
	oci_state_close(&st);
	return r;
}

static int mark_started(struct oci_state *st, const struct oci_config *cfg, struct err *warn,
                        struct err *e);

static int start_locked(struct oci_state *st, const struct oci_config *cfg, struct err *warn,
                        struct err *e)
{
	char fifo[OCI_PATH_MAX + 16];
	const char *status = oci_state_status(st, 0);
	if (strcmp(status, "created") != 0)
		return err_set(e, ERR_INPUT, "container '%s' is %s, not created", st->id, status);
	oci_state_path(st, "exec.fifo", fifo, sizeof(fifo));
	int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "container '%s': its init is not waiting (%s)", st->id, fifo);
	char one = '1';
	ssize_t w = write(fd, &one, 1);
	int saved = errno;
	close(fd);
	if (w != 1)
		return err_errno(e, saved, "container '%s': signalling its init", st->id);
	return mark_started(st, cfg, warn, e);
}

/* The init has its start signal: record it and run the poststart hooks. */
static int mark_started(struct oci_state *st, const struct oci_config *cfg, struct err *warn,
                        struct err *e)
{
	char fifo[OCI_PATH_MAX + 16];
	oci_state_path(st, "exec.fifo", fifo, sizeof(fifo));
	unlink(fifo);
	st->started = 1;
	if (oci_state_save(st, e) < 0)
		return -1;
	struct oci_config *c = cfg ? NULL : oci_config_load(st->bundle, warn);
	const struct oci_config *use = cfg ? cfg : c;
	if (use && use->n_hooks[OCI_HOOK_POSTSTART]) {
		char *state = oci_state_json(st, "running", 0);
		struct err hw = {0};
		if (state && oci_hooks_run(use, OCI_HOOK_POSTSTART, state, &hw) < 0)
			add_warning(warn, hw.msg);
		free(state);
	}
	oci_config_free(c);
	return 0;
}

int oci_start(const char *root, const char *id, struct err *warn, struct err *e)
{
	struct oci_state st;
	if (oci_state_open(root, id, &st, e) < 0)
		return -1;
	int r = start_locked(&st, NULL, warn, e);
	oci_state_close(&st);
	return r;
}

int oci_kill(const char *root, const char *id, int sig, int all, struct err *e)
{
	struct oci_state st;
	if (oci_state_open(root, id, &st, e) < 0)
		return -1;
	int r = 0;
	if (all && st.cgroup[0]) {
		struct oci_cgroup cg;
		pid_t *pids = NULL;
		size_t n = 0;
		if (oci_state_cgroup(&st, &cg, e) < 0 || oci_cgroup_pids(&cg, &pids, &n, e) < 0) {
			r = -1;
		} else {
			for (size_t i = 0; i < n; i++)
				kill(pids[i], sig);
			if (sig == SIGKILL && oci_cgroup_is_frozen(&cg))
				oci_cgroup_freeze(&cg, 0, e);
			free(pids);
		}
	} else if (!oci_state_alive(&st)) {
		r = err_set(e, ERR_INPUT, "container '%s' is not running", id);
	} else if (kill(st.pid, sig) < 0) {
		r = err_sys(e, "signalling container '%s'", id);
	}
	oci_state_close(&st);
	return r;
}

static void wait_dead(const struct oci_state *st, double secs)
{
	for (int i = 0; i < (int)(secs * 200) && oci_state_alive(st); i++) {
		waitpid(st->pid, NULL, WNOHANG);
		nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
	}
}

static int delete_locked(struct oci_state *st, const struct oci_config *cfg, int force,
                         struct err *warn, struct err *e)
{
	const char *status = oci_state_status(st, 0);
	struct oci_cgroup cg;
	if (!strcmp(status, "running") || !strcmp(status, "paused")) {
		if (!force)
			return err_set(e, ERR_INPUT,
			               "container '%s' is %s: stop it first or use --force", st->id,
			               status);
	}
	if (oci_state_alive(st)) {
		if (oci_state_cgroup(st, &cg, e) == 0 && cg.path[0] && oci_cgroup_is_frozen(&cg)) {
			struct err ig = {0};
			oci_cgroup_freeze(&cg, 0, &ig);
		}
		kill(st->pid, SIGKILL);
		wait_dead(st, 10);
	}
	if (oci_state_cgroup(st, &cg, e) < 0)
		return -1;
	if (cg.path[0] && oci_cgroup_destroy(&cg, 1, e) < 0)
		return -1;
	if (st->started || !strcmp(status, "stopped")) {
		struct oci_config *c = cfg ? NULL : oci_config_load(st->bundle, warn);
		const struct oci_config *use = cfg ? cfg : c;
		if (use && use->n_hooks[OCI_HOOK_POSTSTOP]) {
			char *state = oci_state_json(st, "stopped", 0);
			struct err hw = {0};
			if (state && oci_hooks_run(use, OCI_HOOK_POSTSTOP, state, &hw) < 0)
				add_warning(warn, hw.msg);
			free(state);
		}
		oci_config_free(c);
	}
	return oci_state_remove(st, e);
}

int oci_delete(const char *root, const char *id, int force, struct err *warn, struct err *e)
{
	struct oci_state st;
	if (oci_state_open(root, id, &st, e) < 0)
		return -1;
	int r = delete_locked(&st, NULL, force, warn, e);
	oci_state_close(&st);
	return r;
}

static volatile pid_t fwd_pid;
static void forward(int sig)
{
	if (fwd_pid > 0)
		kill(fwd_pid, sig);
}

int oci_run(const struct oci_create_opts *o, int detach, struct err *warn, struct err *e)
{
	struct oci_state st;
	struct oci_cgroup cg;
	struct oci_config *c = NULL;
	struct oci_create_opts ro = *o;
	int sp[2] = {-1, -1}, master = -1;
	pid_t pid;
	memset(&st, 0, sizeof(st));
	st.lock_fd = -1;
	/* A terminal without --console-socket in the foreground: capsa keeps
	 * the pty master itself and relays between it and its own stdio. */
	if (!detach && !o->console_socket) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
			return err_sys(e, "socketpair");
		ro.console_fd = sp[1];
	}
	if (do_create(&ro, 1, &c, &st, &cg, &pid, warn, e) < 0) {
		oci_state_close(&st);
		goto fail_sock;
	}
	if (sp[0] >= 0) {
		close(sp[1]);
		sp[1] = -1;
		if (c->process.terminal) {
			char name[128];
			master = oci_recv_fd(sp[0], name, sizeof(name) - 1);
			if (master < 0) {
				err_sys(e, "receiving the container's terminal");
				struct err ig = {0};
				delete_locked(&st, c, 1, &ig, &ig);
				oci_state_close(&st);
				oci_config_free(c);
				goto fail_sock;
			}
		}
		close(sp[0]);
		sp[0] = -1;
	}
	struct err ig = {0};
	if (mark_started(&st, c, warn, e) < 0) {
		delete_locked(&st, c, 1, &ig, &ig);
		oci_state_close(&st);
		oci_config_free(c);
		if (master >= 0)
			close(master);
		return -1;
	}
	oci_state_close(&st);
	if (detach) {
		oci_config_free(c);
		return 0;
	}
	fwd_pid = pid;
	struct sigaction sa = {.sa_handler = forward};
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	int status = 0;
	if (master >= 0) {
		oci_terminal_relay(master, pid, &status);
		close(master);
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	fwd_pid = 0;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (oci_state_open(o->root, o->id, &st, &ig) == 0) {
		delete_locked(&st, c, 1, warn, &ig);
		oci_state_close(&st);
	}
	oci_config_free(c);
	return code;
fail_sock:
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	return -1;
}
