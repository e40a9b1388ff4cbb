/* SPDX-License-Identifier: Apache-2.0 */
/* start, kill, delete, run: the runtime's side of the lifecycle after
 * create (create.c). */
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
			err_join(warn, hw.msg);
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
				err_join(warn, hw.msg);
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
	if (oci_create_container(&ro, 1, &c, &st, &cg, &pid, warn, e) < 0) {
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
