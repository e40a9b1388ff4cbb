/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime <-> init protocol (see sync.h). */
#include "oci/sync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The payload of ERROR: '1' for bad input, '0' otherwise, then the message. */
void oci_child_fail(int sock, const struct err *e)
{
	char msg[ERR_MSG_MAX + 4];
	snprintf(msg, sizeof(msg), "%d%s", e->kind == ERR_INPUT ? 1 : 0, e->msg);
	oci_msg_send(sock, OCI_MSG_ERROR, msg);
	_exit(1);
}

void oci_msg_error(const char *payload, struct err *e)
{
	err_set(e, payload[0] == '1' ? ERR_INPUT : ERR_SYSTEM, "%s", payload[0] ? payload + 1 : "");
}

void oci_sync_expect(int sock, char type, char *text, size_t len)
{
	if (oci_msg_recv(sock, text, len) != type)
		_exit(1); /* the runtime went away */
}

void oci_sync_hooks(int sock, char *state, size_t len)
{
	oci_msg_send(sock, OCI_MSG_HOOKS, NULL);
	oci_sync_expect(sock, OCI_MSG_HOOKS_DONE, state, len);
}

int oci_sync_await_ready(int sock, pid_t *pid, int (*hooks)(void *arg, char **state, struct err *e),
                         void *arg, struct err *e)
{
	char msg[8192];
	for (;;) {
		int t = oci_msg_recv(sock, msg, sizeof(msg));
		if (t == OCI_MSG_READY)
			return 0;
		if (t == OCI_MSG_ERROR) {
			oci_msg_error(msg, e);
			return -1;
		}
		if (t == OCI_MSG_HOOKS) {
			char *state = NULL;
			int r = hooks(arg, &state, e);
			if (r == 0 && oci_msg_send(sock, OCI_MSG_HOOKS_DONE, state) < 0)
				r = err_sys(e, "sending the state to the container init");
			free(state);
			if (r < 0)
				return -1;
			continue;
		}
		if (t <= 0) {
			int status = 0;
			waitpid(*pid, &status, 0);
			*pid = -1;
			return err_set(
			    e, ERR_SYSTEM, "the container init exited during setup (status %d)",
			    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
		return err_set(e, ERR_INTERNAL, "unexpected message %d from the container init", t);
	}
}
