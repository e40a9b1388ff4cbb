/* SPDX-License-Identifier: Apache-2.0 */
/* capsa as an OCI runtime: global options and command dispatch. */
#include "cli/commands.h"
#include "cli/oci_cli.h"

#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char *name;
	int (*fn)(const struct oci_globals *, int, char **);
	const char *help;
} commands[] = {
    {"create", oci_cmd_create, "create a container from a bundle (waits for start)"},
    {"start", oci_cmd_start, "run the process of a created container"},
    {"run", oci_cmd_run, "create and start a container, wait for it, delete it"},
    {"exec", oci_cmd_exec, "run another process inside a running container"},
    {"state", oci_cmd_state, "print a container's state (runtime-spec JSON)"},
    {"kill", oci_cmd_kill, "send a signal to a container's init (or all processes)"},
    {"delete", oci_cmd_delete, "remove a stopped container (--force: any)"},
    {"list", oci_cmd_list, "list the containers under --root"},
    {"ps", oci_cmd_ps, "list the processes of a container"},
    {"pause", oci_cmd_pause, "freeze all processes of a container"},
    {"resume", oci_cmd_pause, "thaw a paused container"},
    {"update", oci_cmd_update, "change a container's cgroup limits"},
    {"events", oci_cmd_events, "print resource usage statistics"},
    {"spec", oci_cmd_spec, "write a default config.json"},
    {"features", oci_cmd_features, "print the supported features (runtime-spec JSON)"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

int cli_oci_is_command(const char *word)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(word, commands[i].name))
			return 1;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: capsa [GLOBAL OPTIONS] COMMAND [OPTIONS] [ID]\n\n"
	           "OCI runtime commands (compatible with crun and runc):\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nGlobal options (before the command):\n"
	           "  --root DIR            state directory (default /run/capsa)\n"
	           "  --log FILE            also write errors to FILE\n"
	           "  --log-format text|json  format of --log lines\n"
	           "  --debug               accepted for compatibility\n"
	           "  --systemd-cgroup      linux.cgroupsPath is slice:prefix:name\n"
	           "Every command takes --help.\n");
}

static void log_line(const struct oci_globals *g, const char *level, const char *msg)
{
	if (!g || !g->log)
		return;
	FILE *f = fopen(g->log, "ae");
	if (!f)
		return;
	char ts[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (g->log_json) {
		fprintf(f, "{\"level\":\"%s\",\"msg\":\"", level);
		for (const char *p = msg; *p; p++) {
			if (*p == '"' || *p == '\\')
				fprintf(f, "\\%c", *p);
			else if ((unsigned char)*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
		fprintf(f, "\",\"time\":\"%s\"}\n", ts);
	} else {
		fprintf(f, "%s %s: %s\n", ts, level, msg);
	}
	fclose(f);
}

int oci_cli_fail(const struct oci_globals *g, const struct err *e)
{
	fprintf(stderr, "capsa: %s\n", e->msg);
	log_line(g, "error", e->msg);
	return err_exit_status(e);
}

void oci_cli_warn(const struct oci_globals *g, const struct err *w)
{
	if (w->kind == ERR_NONE)
		return;
	fprintf(stderr, "capsa: warning: %s\n", w->msg);
	log_line(g, "warning", w->msg);
}

int oci_cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "capsa %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see capsa %s --help)\n", cmd);
	va_end(ap);
	return 2;
}

int oci_parse_signal(const char *s)
{
	static const struct {
		const char *n;
		int v;
	} sigs[] = {
	    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
	    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
	    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
	    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
	    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
	    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
	    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
	    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
	    {"SYS", SIGSYS},
	};
	if (!s || !*s)
		return -1;
	char *end;
	long n = strtol(s, &end, 10);
	if (*end == '\0')
		return n > 0 && n < NSIG ? (int)n : -1;
	const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcasecmp(name, sigs[i].n))
			return sigs[i].v;
	if (!strncasecmp(name, "RTMIN", 5) || !strncasecmp(name, "RTMAX", 5)) {
		int base = toupper((unsigned char)name[4]) == 'N' ? SIGRTMIN : SIGRTMAX;
		int off = name[5] ? atoi(name + 5) : 0;
		int v = base + off;
		return v >= SIGRTMIN && v <= SIGRTMAX ? v : -1;
	}
	return -1;
}

static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (!strcmp(argv[*i], name)) {
		if (*i + 1 >= argc)
			return NULL;
		return argv[++*i];
	}
	return NULL;
}

int cli_oci_main(int argc, char **argv)
{
	struct oci_globals g = {.root = "/run/capsa"};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *v;
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--debug")) {
			g.debug = 1;
		} else if (!strcmp(a, "--systemd-cgroup")) {
			g.systemd_cgroup = 1;
		} else if (!strncmp(a, "--root", 6) && (v = opt_value(argc, argv, &i, "--root"))) {
			g.root = v;
		} else if (!strncmp(a, "--log-format", 12) &&
		           (v = opt_value(argc, argv, &i, "--log-format"))) {
			if (strcmp(v, "json") && strcmp(v, "text"))
				return oci_cli_usage(
				    "", "--log-format must be text or json, not '%s'", v);
			g.log_json = !strcmp(v, "json");
		} else if (!strncmp(a, "--log", 5) && (v = opt_value(argc, argv, &i, "--log"))) {
			g.log = v;
		} else if (!strncmp(a, "--cgroup-manager", 16) &&
		           (v = opt_value(argc, argv, &i, "--cgroup-manager"))) {
			g.systemd_cgroup = !strcmp(v, "systemd");
		} else if (!strncmp(a, "--rootless", 10)) {
			if (!strcmp(a, "--rootless") && i + 1 < argc &&
			    (!strcmp(argv[i + 1], "true") || !strcmp(argv[i + 1], "false") ||
			     !strcmp(argv[i + 1], "auto")))
				i++;
		} else {
			fprintf(stderr, "capsa: unknown global option '%s' (see capsa --help)\n",
			        a);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t k = 0; k < N_COMMANDS; k++)
		if (!strcmp(argv[i], commands[k].name))
			return commands[k].fn(&g, argc - i, argv + i);
	fprintf(stderr, "capsa: unknown command '%s' (see capsa --help)\n", argv[i]);
	return 2;
}
