/* SPDX-License-Identifier: Apache-2.0 */
/* Shared pieces of the OCI runtime's command line (src/cli/oci*.c). */
#ifndef CAPSA_CLI_OCI_CLI_H
#define CAPSA_CLI_OCI_CLI_H

#include "lib/err.h"

struct oci_globals {
	const char *root;
	const char *log;
	int log_json;
	int debug;
	int systemd_cgroup;
};

/* Print "capsa: msg" (and log it) and return the exit status for e. */
int oci_cli_fail(const struct oci_globals *g, const struct err *e);
/* Usage error: print and return 2. */
int oci_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void oci_cli_warn(const struct oci_globals *g, const struct err *w);
/* "TERM", "SIGTERM", "15" → signal number; -1 if unknown. */
int oci_parse_signal(const char *s);

int oci_cmd_create(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_run(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_start(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_kill(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_delete(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_exec(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_state(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_list(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_ps(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_pause(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_update(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_events(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_spec(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_features(const struct oci_globals *g, int argc, char **argv);

#endif
