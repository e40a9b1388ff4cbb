/* SPDX-License-Identifier: Apache-2.0 */
/* state, list, ps, pause/resume, update, events. */
#include "cli/oci_cli.h"
#include "lib/file.h"
#include "oci/cgroup.h"
#include "oci/config.h"
#include "oci/container.h"
#include "oci/state.h"
#include "oci/util.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int help_asked(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(text, stdout);
			return 1;
		}
	return 0;
}

static int status_of(struct oci_state *st, const char **status, struct err *e)
{
	struct oci_cgroup cg;
	int paused = 0;
	if (oci_state_alive(st) && st->cgroup[0]) {
		if (oci_state_cgroup(st, &cg, e) < 0)
			return -1;
		paused = oci_cgroup_is_frozen(&cg);
	}
	*status = oci_state_status(st, paused);
	return 0;
}

int oci_cmd_state(const struct oci_globals *g, int argc, char **argv)
{
	if (help_asked(argc, argv,
	               "Usage: capsa state ID\nPrint the state of a container as "
	               "runtime-spec JSON.\n"))
		return 0;
	if (argc != 2)
		return oci_cli_usage("state", "expected exactly one container ID");
	struct oci_state st;
	struct err e = {0};
	const char *status;
	if (oci_state_open(g->root, argv[1], &st, &e) < 0 || status_of(&st, &status, &e) < 0)
		return oci_cli_fail(g, &e);
	char *s = oci_state_json(&st, status, 1);
	oci_state_close(&st);
	if (!s)
		return 1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static const char list_help[] = "Usage: capsa list [--format table|json] [-q]\n"
                                "List the containers under --root.\n";

int oci_cmd_list(const struct oci_globals *g, int argc, char **argv)
{
	if (help_asked(argc, argv, list_help))
		return 0;
	int json = 0, quiet = 0;
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (!strcmp(argv[i], "--format") || !strcmp(argv[i], "-f"))
			v = i + 1 < argc ? argv[++i] : "";
		else if (!strncmp(argv[i], "--format=", 9))
			v = argv[i] + 9;
		else if (!strcmp(argv[i], "--json"))
			v = "json";
		else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			quiet = 1;
		else
			return oci_cli_usage("list", "unknown option '%s'", argv[i]);
		if (v && strcmp(v, "json") && strcmp(v, "table"))
			return oci_cli_usage("list", "--format must be table or json, not '%s'", v);
		if (v)
			json = !strcmp(v, "json");
	}
	DIR *d = opendir(g->root);
	if (!d) {
		if (json)
			printf("[]\n");
		else if (!quiet)
			printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
			       "CREATED", "OWNER");
		return 0;
	}
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn)
			break;
		names = nn;
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (json)
		printf("[");
	else if (!quiet)
		printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		struct oci_state st;
		struct err e = {0};
		const char *status;
		if (!names[i] || oci_state_open(g->root, names[i], &st, &e) < 0 ||
		    status_of(&st, &status, &e) < 0) {
			free(names[i]);
			continue;
		}
		int alive = strcmp(status, "stopped") != 0;
		if (json) {
			char *s = oci_state_json(&st, status, 0);
			if (s)
				printf("%s%s", first ? "" : ",", s);
			free(s);
			first = 0;
		} else if (quiet) {
			printf("%s\n", st.id);
		} else {
			printf("%-20s %-8d %-10s %-40s %-30s %s\n", st.id, alive ? (int)st.pid : 0,
			       status, st.bundle, st.created, st.owner == 0 ? "root" : "user");
		}
		oci_state_close(&st);
		free(names[i]);
	}
	free(names);
	if (json)
		printf("]\n");
	return 0;
}

static const char ps_help[] = "Usage: capsa ps [--format table|json] ID\n"
                              "List the processes in a container's cgroup (json: an array of "
                              "pids).\n";

int oci_cmd_ps(const struct oci_globals *g, int argc, char **argv)
{
	if (help_asked(argc, argv, ps_help))
		return 0;
	int json = 0, i = 1;
	const char *id = NULL;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--format") || !strcmp(argv[i], "-f")) {
			if (i + 1 >= argc)
				return oci_cli_usage("ps", "--format needs a value");
			json = !strcmp(argv[++i], "json");
		} else if (!strncmp(argv[i], "--format=", 9)) {
			json = !strcmp(argv[i] + 9, "json");
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!id) {
			id = argv[i];
		}
	}
	if (!id)
		return oci_cli_usage("ps", "expected a container ID");
	struct oci_state st;
	struct oci_cgroup cg;
	struct err e = {0};
	pid_t *pids = NULL;
	size_t n = 0;
	if (oci_state_open(g->root, id, &st, &e) < 0)
		return oci_cli_fail(g, &e);
	if (!st.cgroup[0]) {
		if (oci_state_alive(&st)) {
			pids = malloc(sizeof(*pids));
			if (pids) {
				pids[0] = st.pid;
				n = 1;
			}
		}
	} else if (oci_state_cgroup(&st, &cg, &e) < 0 || oci_cgroup_pids(&cg, &pids, &n, &e) < 0) {
		oci_state_close(&st);
		return oci_cli_fail(g, &e);
	}
	oci_state_close(&st);
	if (json) {
		printf("[");
		for (size_t k = 0; k < n; k++)
			printf("%s%d", k ? "," : "", (int)pids[k]);
		printf("]\n");
	} else {
		printf("%-8s %s\n", "PID", "CMD");
		for (size_t k = 0; k < n; k++) {
			char p[64], cmd[512] = "";
			snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pids[k]);
			size_t len = 0;
			char *t = file_read(p, 1 << 16, &len, &e);
			if (t) {
				for (size_t j = 0; j + 1 < len; j++)
					if (!t[j])
						t[j] = ' ';
				snprintf(cmd, sizeof(cmd), "%s", t);
				free(t);
			}
			printf("%-8d %s\n", (int)pids[k], cmd);
		}
	}
	free(pids);
	return 0;
}

int oci_cmd_pause(const struct oci_globals *g, int argc, char **argv)
{
	int freeze = !strcmp(argv[0], "pause");
	if (help_asked(argc, argv,
	               freeze ? "Usage: capsa pause ID\nFreeze every process of a container.\n"
	                      : "Usage: capsa resume ID\nThaw a paused container.\n"))
		return 0;
	if (argc != 2)
		return oci_cli_usage(argv[0], "expected exactly one container ID");
	struct oci_state st;
	struct oci_cgroup cg;
	struct err e = {0};
	const char *status;
	if (oci_state_open(g->root, argv[1], &st, &e) < 0)
		return oci_cli_fail(g, &e);
	int r = status_of(&st, &status, &e);
	if (r == 0 && freeze && strcmp(status, "running") != 0)
		r = err_set(&e, ERR_INPUT, "container '%s' is %s, not running", st.id, status);
	if (r == 0 && !freeze && strcmp(status, "paused") != 0)
		r = err_set(&e, ERR_INPUT, "container '%s' is %s, not paused", st.id, status);
	if (r == 0 && !st.cgroup[0])
		r = err_set(&e, ERR_INPUT, "container '%s' has no cgroup to freeze", st.id);
	if (r == 0)
		r = oci_state_cgroup(&st, &cg, &e);
	if (r == 0)
		r = oci_cgroup_freeze(&cg, freeze, &e);
	oci_state_close(&st);
	return r < 0 ? oci_cli_fail(g, &e) : 0;
}

static const char update_help[] =
    "Usage: capsa update [OPTIONS] ID\n"
    "Change the cgroup limits of a container.\n"
    "  -r, --resources FILE   linux.resources as JSON ('-' = stdin)\n"
    "  --memory N  --memory-swap N  --memory-reservation N  --pids-limit N\n"
    "  --cpu-shares N  --cpu-quota N  --cpu-period N  --cpuset-cpus L  --cpuset-mems L\n"
    "  --blkio-weight N\n";

int oci_cmd_update(const struct oci_globals *g, int argc, char **argv)
{
	if (help_asked(argc, argv, update_help))
		return 0;
	static const char *const keys[][3] = {
	    {"--memory", "memory", "limit"},
	    {"--memory-swap", "memory", "swap"},
	    {"--memory-reservation", "memory", "reservation"},
	    {"--pids-limit", "pids", "limit"},
	    {"--cpu-shares", "cpu", "shares"},
	    {"--cpu-quota", "cpu", "quota"},
	    {"--cpu-period", "cpu", "period"},
	    {"--cpuset-cpus", "cpu", "cpus"},
	    {"--cpuset-mems", "cpu", "mems"},
	    {"--blkio-weight", "blockIO", "weight"},
	};
	const char *file = NULL, *id = NULL;
	char json[4096] = "{";
	size_t o = 1;
	const char *groups[] = {"memory", "pids", "cpu", "blockIO"};
	char parts[4][1024] = {"", "", "", ""};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-r") || !strcmp(argv[i], "--resources")) {
			if (i + 1 >= argc)
				return oci_cli_usage("update", "%s needs a file", argv[i]);
			file = argv[++i];
			continue;
		}
		int matched = 0;
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (strcmp(argv[i], keys[k][0]))
				continue;
			if (i + 1 >= argc)
				return oci_cli_usage("update", "%s needs a value", argv[i]);
			const char *v = argv[++i];
			int str = !strcmp(keys[k][2], "cpus") || !strcmp(keys[k][2], "mems");
			if (!str) {
				char *end;
				strtoll(v, &end, 10);
				if (*end || !*v)
					return oci_cli_usage("update", "%s: '%s' is not a number",
					                     keys[k][0], v);
			} else if (strspn(v, "0123456789,-") != strlen(v)) {
				return oci_cli_usage("update", "%s: bad list '%s'", keys[k][0], v);
			}
			for (int gi = 0; gi < 4; gi++) {
				if (strcmp(groups[gi], keys[k][1]))
					continue;
				size_t pl = strlen(parts[gi]);
				snprintf(parts[gi] + pl, sizeof(parts[gi]) - pl,
				         str ? "%s\"%s\":\"%s\"" : "%s\"%s\":%s", pl ? "," : "",
				         keys[k][2], v);
			}
			matched = 1;
		}
		if (matched)
			continue;
		if (argv[i][0] == '-')
			return oci_cli_usage("update", "unknown option '%s'", argv[i]);
		if (id)
			return oci_cli_usage("update", "expected exactly one container ID");
		id = argv[i];
	}
	if (!id)
		return oci_cli_usage("update", "expected a container ID");
	for (int gi = 0; gi < 4; gi++)
		if (parts[gi][0])
			o += (size_t)snprintf(json + o, sizeof(json) - o, "%s\"%s\":{%s}",
			                      o > 1 ? "," : "", groups[gi], parts[gi]);
	snprintf(json + o, sizeof(json) - o, "}");
	struct err e = {0};
	char *text = NULL;
	if (file) {
		text = file_read(!strcmp(file, "-") ? "/dev/stdin" : file, 1 << 20, NULL, &e);
		if (!text)
			return oci_cli_fail(g, &e);
	}
	struct oci_state st;
	struct oci_cgroup cg;
	if (oci_state_open(g->root, id, &st, &e) < 0) {
		free(text);
		return oci_cli_fail(g, &e);
	}
	struct oci_config *c =
	    oci_config_parse("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"/\"}}", NULL, &e);
	struct oci_resources r;
	int rc = c ? 0 : -1;
	if (rc == 0 && !st.cgroup[0])
		rc = err_set(&e, ERR_INPUT, "container '%s' has no cgroup", id);
	if (rc == 0)
		rc = oci_config_parse_resources(c, text ? text : json, &r, &e);
	if (rc == 0)
		rc = oci_state_cgroup(&st, &cg, &e);
	if (rc == 0)
		rc = oci_cgroup_apply(&cg, &r, &e);
	oci_config_free(c);
	oci_state_close(&st);
	free(text);
	return rc < 0 ? oci_cli_fail(g, &e) : 0;
}

static void print_stats(const struct oci_state *st, const struct oci_cgroup *cg)
{
	struct oci_cgroup_stats s;
	oci_cgroup_stats(cg, &s);
	printf("{\"type\":\"stats\",\"id\":\"%s\",\"data\":{"
	       "\"cpu\":{\"usage\":{\"total\":%lld}},"
	       "\"memory\":{\"usage\":{\"usage\":%lld,\"limit\":%lld,\"max\":%lld},"
	       "\"oom_kill\":%lld},"
	       "\"pids\":{\"current\":%lld,\"limit\":%lld}}}\n",
	       st->id, s.cpu_usage_ns, s.mem_usage, s.mem_limit, s.mem_max_usage, s.oom_kills,
	       s.pids_current, s.pids_limit);
	fflush(stdout);
}

static const char events_help[] = "Usage: capsa events [--stats] [--interval SECS] ID\n"
                                  "Print resource usage as JSON lines: once with --stats, else "
                                  "every interval\n(default 5 s) until the container stops.\n";

int oci_cmd_events(const struct oci_globals *g, int argc, char **argv)
{
	if (help_asked(argc, argv, events_help))
		return 0;
	int stats = 0;
	double interval = 5;
	const char *id = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stats")) {
			stats = 1;
		} else if (!strcmp(argv[i], "--interval") || !strncmp(argv[i], "--interval=", 11)) {
			const char *v =
			    argv[i][10] == '=' ? argv[i] + 11 : (i + 1 < argc ? argv[++i] : "");
			char *end;
			interval = strtod(v, &end);
			if (end == v || (*end && strcmp(end, "s")) || interval <= 0 ||
			    interval > 3600)
				return oci_cli_usage("events", "--interval: bad value '%s'", v);
		} else if (argv[i][0] == '-') {
			return oci_cli_usage("events", "unknown option '%s'", argv[i]);
		} else {
			id = argv[i];
		}
	}
	if (!id)
		return oci_cli_usage("events", "expected a container ID");
	for (;;) {
		struct oci_state st;
		struct oci_cgroup cg;
		struct err e = {0};
		if (oci_state_open(g->root, id, &st, &e) < 0)
			return oci_cli_fail(g, &e);
		int alive = oci_state_alive(&st);
		if (!st.cgroup[0] || oci_state_cgroup(&st, &cg, &e) < 0) {
			oci_state_close(&st);
			if (!e.kind)
				err_set(&e, ERR_INPUT, "container '%s' has no cgroup", id);
			return oci_cli_fail(g, &e);
		}
		oci_state_close(&st);
		if (!alive) {
			if (stats) {
				err_set(&e, ERR_INPUT, "container '%s' is not running", id);
				return oci_cli_fail(g, &e);
			}
			return 0;
		}
		print_stats(&st, &cg);
		if (stats)
			return 0;
		struct timespec ts = {(time_t)interval,
		                      (long)((interval - (double)(time_t)interval) * 1e9)};
		nanosleep(&ts, NULL);
	}
}
