/* SPDX-License-Identifier: Apache-2.0 */
/* create, start, run, kill, delete, exec. */
#include "cli/oci_cli.h"
#include "oci/container.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int want_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(text, stdout);
			return 1;
		}
	}
	return 0;
}

static const char create_help[] =
    "Usage: capsa create [OPTIONS] ID\n"
    "       capsa run [OPTIONS] ID\n"
    "Create a container from an OCI bundle; `create` leaves it waiting for\n"
    "`capsa start`, `run` starts it, waits, deletes it and exits with its status.\n"
    "  -b, --bundle DIR        bundle directory (default: current directory)\n"
    "      --pid-file FILE     write the container's init pid to FILE\n"
    "      --console-socket S  unix socket that receives the pty master (terminal: true)\n"
    "      --no-pivot          use MS_MOVE + chroot instead of pivot_root\n"
    "      --preserve-fds N    pass N extra file descriptors (3, 4, ...)\n"
    "  -d, --detach            (run) return once the container is started\n"
    "      --no-new-keyring    accepted for compatibility\n";

static int create_or_run(const struct oci_globals *g, int argc, char **argv, int run)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, 0, 'b'},         {"pid-file", required_argument, 0, 'p'},
	    {"console-socket", required_argument, 0, 'c'}, {"no-pivot", no_argument, 0, 'n'},
	    {"preserve-fds", required_argument, 0, 'f'},   {"detach", no_argument, 0, 'd'},
	    {"no-new-keyring", no_argument, 0, 'k'},       {"keep", no_argument, 0, 'K'},
	    {"no-subreaper", no_argument, 0, 'S'},         {0, 0, 0, 0},
	};
	if (want_help(argc, argv, create_help))
		return 0;
	struct oci_create_opts o = {.root = g->root, .systemd_cgroup = g->systemd_cgroup};
	int detach = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+b:d", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.bundle = optarg;
			break;
		case 'p':
			o.pid_file = optarg;
			break;
		case 'c':
			o.console_socket = optarg;
			break;
		case 'n':
			o.no_pivot = 1;
			break;
		case 'f': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 0 || n > 65000)
				return oci_cli_usage(argv[0], "--preserve-fds: bad count '%s'",
				                     optarg);
			o.preserve_fds = (int)n;
			break;
		}
		case 'd':
			detach = 1;
			break;
		case 'k':
		case 'K':
		case 'S':
			break;
		default:
			return oci_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return oci_cli_usage(argv[0], "expected exactly one container ID");
	o.id = argv[optind];
	struct err e = {0};
	if (run) {
		struct err w = {0};
		int status = oci_run(&o, detach, &w, &e);
		oci_cli_warn(g, &w);
		return status < 0 ? oci_cli_fail(g, &e) : status;
	}
	pid_t pid;
	struct err w = {0};
	int r = oci_create(&o, &pid, &w, &e);
	oci_cli_warn(g, &w);
	return r < 0 ? oci_cli_fail(g, &e) : 0;
}

int oci_cmd_create(const struct oci_globals *g, int argc, char **argv)
{
	return create_or_run(g, argc, argv, 0);
}

int oci_cmd_run(const struct oci_globals *g, int argc, char **argv)
{
	return create_or_run(g, argc, argv, 1);
}

static int one_id(int argc, char **argv, const char *help)
{
	if (want_help(argc, argv, help))
		return 0;
	if (argc != 2 || argv[1][0] == '-')
		return oci_cli_usage(argv[0], "expected exactly one container ID");
	return -1;
}

int oci_cmd_start(const struct oci_globals *g, int argc, char **argv)
{
	int r = one_id(argc, argv,
	               "Usage: capsa start ID\nRun the user process of a created container.\n");
	if (r >= 0)
		return r;
	struct err e = {0}, w = {0};
	if (oci_start(g->root, argv[1], &w, &e) < 0)
		return oci_cli_fail(g, &e);
	oci_cli_warn(g, &w);
	return 0;
}

static const char kill_help[] =
    "Usage: capsa kill [--all] ID [SIGNAL]\n"
    "Send SIGNAL (name or number, default TERM) to the container's init;\n"
    "with --all (-a) to every process in its cgroup.\n";

int oci_cmd_kill(const struct oci_globals *g, int argc, char **argv)
{
	if (want_help(argc, argv, kill_help))
		return 0;
	int all = 0, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--all") || !strcmp(argv[i], "-a"))
			all = 1;
		else
			return oci_cli_usage("kill", "unknown option '%s'", argv[i]);
	}
	if (i >= argc || argc - i > 2)
		return oci_cli_usage("kill", "expected ID [SIGNAL]");
	int sig = SIGTERM;
	if (argc - i == 2 && (sig = oci_parse_signal(argv[i + 1])) < 0)
		return oci_cli_usage("kill", "unknown signal '%s'", argv[i + 1]);
	struct err e = {0};
	if (oci_kill(g->root, argv[i], sig, all, &e) < 0)
		return oci_cli_fail(g, &e);
	return 0;
}

static const char delete_help[] = "Usage: capsa delete [--force] ID\n"
                                  "Remove a stopped container: its state, cgroup and poststop "
                                  "hooks.\n  -f, --force   kill it first if it is still running\n";

int oci_cmd_delete(const struct oci_globals *g, int argc, char **argv)
{
	if (want_help(argc, argv, delete_help))
		return 0;
	int force = 0, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = 1;
		else
			return oci_cli_usage("delete", "unknown option '%s'", argv[i]);
	}
	if (i != argc - 1)
		return oci_cli_usage("delete", "expected exactly one container ID");
	struct err e = {0}, w = {0};
	if (oci_delete(g->root, argv[i], force, &w, &e) < 0) {
		/* delete --force of something already gone is not an error */
		if (force && strstr(e.msg, "does not exist"))
			return 0;
		return oci_cli_fail(g, &e);
	}
	oci_cli_warn(g, &w);
	return 0;
}

static const char exec_help[] =
    "Usage: capsa exec [OPTIONS] ID [COMMAND [ARG...]]\n"
    "Run a process in a running container: it joins all the container's\n"
    "namespaces and its cgroup.\n"
    "  -p, --process FILE      the process as runtime-spec JSON (instead of COMMAND)\n"
    "  -t, --tty               allocate a terminal (needs --console-socket)\n"
    "      --console-socket S  unix socket that receives the pty master\n"
    "      --cwd DIR           working directory\n"
    "  -e, --env KEY=VALUE     add an environment variable (repeatable)\n"
    "  -u, --user UID[:GID]    run as this user\n"
    "  -c, --cap CAP           add a capability (repeatable)\n"
    "      --no-new-privs      set no_new_privs\n"
    "  -d, --detach            do not wait; print nothing, write --pid-file\n"
    "      --pid-file FILE     write the new process's pid to FILE\n"
    "      --preserve-fds N    pass N extra file descriptors\n";

int oci_cmd_exec(const struct oci_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"process", required_argument, 0, 'p'},
	    {"tty", no_argument, 0, 't'},
	    {"console-socket", required_argument, 0, 'C'},
	    {"cwd", required_argument, 0, 'w'},
	    {"env", required_argument, 0, 'e'},
	    {"user", required_argument, 0, 'u'},
	    {"cap", required_argument, 0, 'c'},
	    {"no-new-privs", no_argument, 0, 'N'},
	    {"detach", no_argument, 0, 'd'},
	    {"pid-file", required_argument, 0, 'P'},
	    {"preserve-fds", required_argument, 0, 'f'},
	    {"process-label", required_argument, 0, 'L'},
	    {"apparmor", required_argument, 0, 'A'},
	    {0, 0, 0, 0},
	};
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(exec_help, stdout);
		return 0;
	}
	struct oci_exec_opts o = {.root = g->root};
	char *env[256], *caps[64];
	int ne = 0, nc = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:tw:e:u:c:d", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.process_file = optarg;
			break;
		case 't':
			o.tty = 1;
			break;
		case 'C':
			o.console_socket = optarg;
			break;
		case 'w':
			o.cwd = optarg;
			break;
		case 'e':
			if (ne >= 255 || !strchr(optarg, '='))
				return oci_cli_usage("exec", "--env: expected KEY=VALUE, got '%s'",
				                     optarg);
			env[ne++] = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'c':
			if (nc >= 63)
				return oci_cli_usage("exec", "too many --cap");
			caps[nc++] = optarg;
			break;
		case 'N':
			o.no_new_privs = 1;
			break;
		case 'd':
			o.detach = 1;
			break;
		case 'P':
			o.pid_file = optarg;
			break;
		case 'f':
			o.preserve_fds = atoi(optarg);
			if (o.preserve_fds < 0 || o.preserve_fds > 65000)
				return oci_cli_usage("exec", "--preserve-fds: bad count");
			break;
		case 'L':
		case 'A':
			return oci_cli_usage("exec", "%s is not supported", argv[optind - 1]);
		default:
			return oci_cli_usage("exec", "unknown option '%s'", argv[optind - 1]);
		}
	}
	env[ne] = NULL;
	caps[nc] = NULL;
	o.env = env;
	o.caps = caps;
	if (optind >= argc)
		return oci_cli_usage("exec", "expected a container ID");
	o.id = argv[optind++];
	if (!o.process_file && optind >= argc)
		return oci_cli_usage("exec", "expected a command or --process FILE");
	if (o.process_file && optind < argc)
		return oci_cli_usage("exec", "give either a command or --process, not both");
	o.args = argv + optind;
	struct err e = {0};
	int status = oci_exec(&o, &e);
	return status < 0 ? oci_cli_fail(g, &e) : status;
}
