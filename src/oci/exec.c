/* SPDX-License-Identifier: Apache-2.0 */
/* exec: a new process in a running container's namespaces and cgroup. */
#include "lib/file.h"
#include "oci/container.h"
#include "oci/process.h"
#include "oci/sync.h"
#include "oci/terminal.h"
#include "oci/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	const char *name;
	int type;
} join_order[] = {
    {"user", CLONE_NEWUSER},     {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"time", CLONE_NEWTIME},
    {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};
#define N_JOIN (sizeof(join_order) / sizeof(join_order[0]))

static int same_ns(pid_t pid, const char *name)
{
	char a[64], b[64];
	struct stat sa, sb;
	snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int)pid, name);
	snprintf(b, sizeof(b), "/proc/self/ns/%s", name);
	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return 1;
	return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

/* Build the process to run from the options and the container's config. */
static int exec_process(const struct oci_exec_opts *o, struct oci_config *c, struct err *e)
{
	if (o->process_file) {
		char *text = file_read(o->process_file, 4 << 20, NULL, e);
		if (!text)
			return err_prefix(e, "--process");
		int r = oci_config_parse_process(c, text, e);
		free(text);
		return r < 0 ? err_prefix(e, "--process %s", o->process_file) : 0;
	}
	if (!c->has_process)
		return err_set(e, ERR_INPUT, "config.json has no process to start from");
	struct oci_process *p = &c->process;
	if (!o->args || !o->args[0])
		return err_set(e, ERR_INPUT, "exec: no command given");
	p->args = o->args;
	p->terminal = o->tty;
	if (o->cwd) {
		if (o->cwd[0] != '/')
			return err_set(e, ERR_INPUT, "--cwd %s: not absolute", o->cwd);
		p->cwd = o->cwd;
	}
	if (o->env && o->env[0]) {
		size_t n = 0, m = 0;
		while (p->env[n])
			n++;
		while (o->env[m])
			m++;
		char **env = arena_alloc(&c->arena, (n + m + 1) * sizeof(char *));
		if (!env)
			return err_set(e, ERR_SYSTEM, "out of memory");
		memcpy(env, p->env, n * sizeof(char *));
		memcpy(env + n, o->env, m * sizeof(char *));
		p->env = env;
	}
	if (o->user) {
		unsigned long uid, gid = 0;
		char *end;
		uid = strtoul(o->user, &end, 10);
		if (end == o->user || (*end && *end != ':'))
			return err_set(e, ERR_INPUT, "--user %s: expected UID[:GID]", o->user);
		if (*end == ':') {
			const char *g = end + 1;
			gid = strtoul(g, &end, 10);
			if (end == g || *end)
				return err_set(e, ERR_INPUT, "--user %s: expected UID[:GID]",
				               o->user);
		}
		p->uid = (uint32_t)uid;
		p->gid = (uint32_t)gid;
	}
	if (o->no_new_privs)
		p->no_new_privileges = 1;
	if (o->caps && o->caps[0]) {
		size_t m = 0;
		while (o->caps[m])
			m++;
		for (int s = 0; s < 5; s++) {
			if (s == OCI_CAP_AMBIENT)
				continue;
			int *v = arena_alloc(&c->arena, (p->caps.n[s] + m + 1) * sizeof(int));
			if (!v)
				return err_set(e, ERR_SYSTEM, "out of memory");
			memcpy(v, p->caps.set[s], p->caps.n[s] * sizeof(int));
			for (size_t i = 0; i < m; i++) {
				int cap = oci_cap_from_name(o->caps[i]);
				if (cap < 0)
					return err_set(e, ERR_INPUT, "--cap %s: unknown capability",
					               o->caps[i]);
				v[p->caps.n[s] + i] = cap;
			}
			p->caps.set[s] = v;
			p->caps.n[s] += m;
		}
	}
	return 0;
}

static void child_b(const struct oci_exec_opts *o, struct oci_config *c, int sock, int console,
                    int userns)
{
	struct err e = {0};
	if (c->process.terminal) {
		if (console < 0) {
			err_set(&e, ERR_INPUT, "--tty needs --console-socket");
			oci_child_fail(sock, &e);
		}
		if (oci_terminal_setup(console, &e) < 0)
			oci_child_fail(sock, &e);
		close(console);
	}
	if (oci_process_check(c, &c->process, &e) == 0)
		oci_process_exec(c, &c->process, userns, o->preserve_fds, -1, NULL, &e);
	oci_child_fail(sock, &e);
}

static void child_a(const struct oci_exec_opts *o, struct oci_config *c, const struct oci_state *st,
                    const struct oci_cgroup *cg, int sock, int console)
{
	struct err e = {0};
	int fds[N_JOIN], userns = 0;
	/* born in the v2 cgroup by oci_cgroup_clone(); v1 by moving ourselves */
	if (cg->path[0] && oci_cgroup_join_self_v1(cg, &e) < 0)
		oci_child_fail(sock, &e);
	if (oci_process_limits(&c->process, &e) < 0)
		oci_child_fail(sock, &e);
	/* Without a mount namespace of its own the container is a chroot. */
	int rootfd = -1;
	if (same_ns(st->pid, "mnt")) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/root", (int)st->pid);
		if ((rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
			err_sys(&e, "opening %s", p);
			oci_child_fail(sock, &e);
		}
	}
	for (size_t i = 0; i < N_JOIN; i++) {
		char p[64];
		fds[i] = -1;
		if (same_ns(st->pid, join_order[i].name))
			continue;
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)st->pid, join_order[i].name);
		fds[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			err_sys(&e, "opening %s", p);
			oci_child_fail(sock, &e);
		}
	}
	for (size_t i = 0; i < N_JOIN; i++) {
		if (fds[i] < 0)
			continue;
		if (setns(fds[i], join_order[i].type) < 0) {
			err_sys(&e, "joining the container's %s namespace", join_order[i].name);
			oci_child_fail(sock, &e);
		}
		close(fds[i]);
		if (join_order[i].type == CLONE_NEWUSER)
			userns = 1;
	}
	if (rootfd >= 0 && (fchdir(rootfd) < 0 || chroot(".") < 0)) {
		err_sys(&e, "entering the container's root (chroot)");
		oci_child_fail(sock, &e);
	}
	if (chdir("/") < 0) {
		err_sys(&e, "chdir /");
		oci_child_fail(sock, &e);
	}
	pid_t b = fork();
	if (b < 0) {
		err_sys(&e, "fork");
		oci_child_fail(sock, &e);
	}
	if (b == 0)
		child_b(o, c, sock, console, userns);
	char msg[32];
	snprintf(msg, sizeof(msg), "%d", (int)b);
	oci_msg_send(sock, OCI_MSG_PID, msg);
	close(sock);
	if (o->detach)
		_exit(0);
	int status;
	while (waitpid(b, &status, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static volatile pid_t exec_fwd;
static void exec_forward(int sig)
{
	if (exec_fwd > 0)
		kill(exec_fwd, sig);
}

int oci_exec(const struct oci_exec_opts *o, struct err *e)
{
	struct oci_state st;
	struct oci_cgroup cg;
	struct oci_config *c = NULL;
	int sv[2] = {-1, -1}, console = -1, ret = -1;
	pid_t a = -1, b = -1;
	if (oci_state_open(o->root, o->id, &st, e) < 0)
		return -1;
	const char *status = oci_state_status(&st, 0);
	if (strcmp(status, "running") != 0 && strcmp(status, "created") != 0) {
		err_set(e, ERR_INPUT, "container '%s' is %s: cannot exec", o->id, status);
		goto out;
	}
	if (oci_state_cgroup(&st, &cg, e) < 0)
		goto out;
	c = oci_config_load(st.bundle, e);
	if (!c || exec_process(o, c, e) < 0)
		goto out;
	if (c->process.terminal) {
		if (!o->console_socket) {
			err_set(e, ERR_INPUT, "a terminal needs --console-socket");
			goto out;
		}
		if ((console = oci_unix_connect(o->console_socket, e)) < 0) {
			err_prefix(e, "--console-socket");
			goto out;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		err_sys(e, "socketpair");
		goto out;
	}
	/* The state lock is not held while the process runs. */
	oci_state_close(&st);
	fflush(NULL);
	int inside = 0;
	a = oci_cgroup_clone(&cg, 0, &inside);
	if (a > 0 && cg.path[0] && cg.unified[0] && !inside) {
		char p[1400], s[32];
		struct err ig = {0};
		snprintf(p, sizeof(p), "%s%s/cgroup.procs", cg.unified, cg.path);
		snprintf(s, sizeof(s), "%d", (int)a);
		util_write_str(p, s, &ig);
	}
	if (a < 0) {
		err_sys(e, "fork");
		goto out;
	}
	if (a == 0) {
		close(sv[0]);
		child_a(o, c, &st, &cg, sv[1], console);
	}
	close(sv[1]);
	sv[1] = -1;
	char msg[ERR_MSG_MAX + 8];
	for (;;) {
		int t = oci_msg_recv(sv[0], msg, sizeof(msg));
		if (t == OCI_MSG_PID) {
			b = (pid_t)atoi(msg);
			continue;
		}
		if (t == OCI_MSG_ERROR) {
			oci_msg_error(msg, e);
			goto out;
		}
		break; /* EOF: the process was executed */
	}
	if (b <= 0) {
		err_set(e, ERR_SYSTEM, "exec: the helper process died");
		goto out;
	}
	if (o->pid_file) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%d", (int)b);
		if (util_write_atomic(o->pid_file, buf, strlen(buf), e) < 0) {
			err_prefix(e, "--pid-file");
			goto out;
		}
	}
	if (o->detach) {
		waitpid(a, NULL, 0);
		a = -1;
		ret = 0;
		goto out;
	}
	exec_fwd = b;
	struct sigaction sa = {.sa_handler = exec_forward};
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	int wstatus = 0;
	while (waitpid(a, &wstatus, 0) < 0 && errno == EINTR)
		;
	a = -1;
	exec_fwd = 0;
	ret = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
out:
	if (a > 0) {
		kill(a, SIGKILL);
		waitpid(a, NULL, 0);
	}
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (console >= 0)
		close(console);
	oci_config_free(c);
	oci_state_close(&st);
	return ret;
}
