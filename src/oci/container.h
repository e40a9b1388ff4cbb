/* SPDX-License-Identifier: Apache-2.0 */
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

/* Internal (create and run): create the container, its start queued on
 * exec.fifo when run_now; *cfg_out (if not NULL) gets the config. */
int oci_create_container(const struct oci_create_opts *o, int run_now, struct oci_config **cfg_out,
                         struct oci_state *st, struct oci_cgroup *cg, pid_t *pid_out,
                         struct err *warn, struct err *e);

#endif
