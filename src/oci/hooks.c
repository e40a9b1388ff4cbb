/* SPDX-License-Identifier: Apache-2.0 */
#include "oci/hooks.h"
#include "oci/util.h"

#include "lib/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *oci_hook_kind_name(int kind)
{
	static const char *const n[OCI_HOOK_KINDS] = {"prestart",        "createRuntime",
	                                              "createContainer", "startContainer",
	                                              "poststart",       "poststop"};
	return kind >= 0 && kind < OCI_HOOK_KINDS ? n[kind] : "?";
}

static double mono(void)
{
	return (double)clock_mono_ns() / 1e9;
}

static int run_one(const struct oci_hook *h, const char *name, const char *state, struct err *e)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return err_sys(e, "%s: pipe", name);
	char *noargs[2] = {(char *)h->path, NULL};
	char *noenv[1] = {NULL};
	pid_t pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return err_sys(e, "%s: fork", name);
	}
	if (pid == 0) {
		dup2(in[0], 0);
		setpgid(0, 0);
		execve(h->path, h->args && h->args[0] ? h->args : noargs, h->env ? h->env : noenv);
		dprintf(2, "capsa: %s: executing %s: %s\n", name, h->path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	signal(SIGPIPE, SIG_IGN);
	/* A hook may not read its stdin: ignore EPIPE. */
	util_write_all(in[1], state, strlen(state));
	close(in[1]);
	double deadline = h->timeout ? mono() + h->timeout : 0;
	int status;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return err_sys(e, "%s: waiting for %s", name, h->path);
		if (deadline && mono() > deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return err_set(e, ERR_SYSTEM, "%s: %s timed out after %d s", name, h->path,
			               h->timeout);
		}
		nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);
	}
	if (WIFSIGNALED(status))
		return err_set(e, ERR_SYSTEM, "%s: %s killed by signal %d", name, h->path,
		               WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return err_set(e, ERR_SYSTEM, "%s: %s exited with status %d", name, h->path,
		               WEXITSTATUS(status));
	return 0;
}

int oci_hooks_run(const struct oci_config *c, int kind, const char *state_json, struct err *e)
{
	/* A failed poststart or poststop hook is only a warning: the spec has the
	 * remaining hooks run as if it had succeeded. Their messages are joined. */
	int keep_going = kind == OCI_HOOK_POSTSTART || kind == OCI_HOOK_POSTSTOP, failed = 0;
	for (size_t i = 0; i < c->n_hooks[kind]; i++) {
		char name[64];
		struct err one = {0};
		snprintf(name, sizeof(name), "hooks.%s[%zu]", oci_hook_kind_name(kind), i);
		if (run_one(&c->hooks[kind][i], name, state_json, &one) == 0)
			continue;
		if (!failed++)
			*e = one;
		else
			err_append(e, "; %s", one.msg);
		if (!keep_going)
			return -1;
	}
	return failed ? -1 : 0;
}
