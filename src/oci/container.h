/* The container lifecycle: create, start, kill, delete, run and exec. */
#ifndef CAPSA_OCI_CONTAINER_H
#define CAPSA_OCI_CONTAINER_H

#include "lib/err.h"
#include "oci/cgroup.h"
#include "oci/config.h"
#include "oci/state.h"

#include <sys/types.h>

struct oci_create_opts {
	const char *root, *id, *bundle;
	const char *pid_file;       /* may be NULL */
	const char *console_socket; /* may be NULL */
	int no_pivot;
	int systemd_cgroup;
	int preserve_fds;
	int console_fd; /* internal (run): connected socket used instead of console_socket */
};

/* Create the container; it waits in "created" for start. *pid = its init.
 * Parts of the config that are accepted but ignored go to *warn. */
int oci_create(const struct oci_create_opts *o, pid_t *pid, struct err *warn, struct err *e);
/* Let a created container run its process. Poststart hook failures go
 * to *warn (the container keeps running). */
int oci_start(const char *root, const char *id, struct err *warn, struct err *e);
int oci_kill(const char *root, const char *id, int sig, int all, struct err *e);
/* Remove a stopped container (force: kill it first). */
int oci_delete(const char *root, const char *id, int force, struct err *warn, struct err *e);
/* create + start + wait + delete; returns the container's exit status
 * (128+signal when killed) or -1. detach: return after start. */
int oci_run(const struct oci_create_opts *o, int detach, struct err *warn, struct err *e);

/* The cgroup recorded for a container (cg->path[0] == 0 when none). */
int oci_state_cgroup(const struct oci_state *st, struct oci_cgroup *cg, struct err *e);

struct oci_exec_opts {
	const char *root, *id;
	const char *process_file; /* JSON process object, or NULL */
	char **args;              /* used when no process_file */
	const char *cwd;          /* override, may be NULL */
	char **env;               /* extra KEY=VALUE, NULL-terminated, may be NULL */
	const char *user;         /* "uid[:gid]", may be NULL */
	char **caps;              /* extra capabilities, may be NULL */
	int tty, detach, no_new_privs, preserve_fds;
	const char *console_socket, *pid_file;
};
/* Run a process inside a running container; returns its exit status
 * (0 when detached) or -1. */
int oci_exec(const struct oci_exec_opts *o, struct err *e);

/* Internal: the container init (child side of create). Never returns. */
struct oci_init_args {
	struct oci_config *cfg;
	const struct oci_cgroup *cg;
	const char *bundle;
	int fifo;       /* exec.fifo, opened read-write by the runtime */
	int *idmap_fds; /* per mount: user namespace fd for idmapped mounts, or -1 */
	int sock, console, seccomp_listener;
	int no_pivot, preserve_fds, new_userns, userns;
	int join_fds[8], join_types[8], n_join; /* namespaces joined by path */
	int unshare_late;                       /* cgroup/time namespaces */
	int need_sync;                          /* exchange OCI_MSG_HOOKS / OCI_MSG_HOOKS_DONE */
	int join_self; /* born in the v2 cgroup; joins the v1 ones itself */
};
void oci_init_main(struct oci_init_args *a) __attribute__((noreturn));

/* Parent/child messages on the sync socket. */
enum {
	OCI_MSG_GO = 'G',
	OCI_MSG_HOOKS = 'M',
	OCI_MSG_HOOKS_DONE = 'H',
	OCI_MSG_READY = 'R',
	OCI_MSG_ERROR = 'E',
	OCI_MSG_PID = 'P',
	OCI_MSG_JOINED = 'J', /* the init is in its cgroup */
};
int oci_msg_send(int sock, char type, const char *text);
/* Receive a message; returns its type, 0 on EOF, -1 on error. text gets the payload. */
int oci_msg_recv(int sock, char *text, size_t len);
/* Child side: report an error and exit. */
void oci_child_fail(int sock, const struct err *e) __attribute__((noreturn));

#endif
