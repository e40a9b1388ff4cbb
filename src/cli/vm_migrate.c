/* SPDX-License-Identifier: Apache-2.0 */
/* capsa vm migrate --api-sock PATH --to tcp:HOST:PORT: start a live
 * migration through the control API (PUT /migrate) and follow it (GET
 * /migrate) until the target runs the VM or the migration fails. */
#include "cli/vm_cmds.h"

#include "vm/api/client.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char migrate_usage[] =
    "Usage: capsa vm migrate --api-sock PATH --to tcp:HOST:PORT [--json]\n"
    "\n"
    "Move the VM served at PATH (`capsa vm run --api-sock PATH`) while it runs\n"
    "to `capsa vm run --incoming tcp:ADDR:PORT` on this or another host. Prints\n"
    "each pre-copy round, then the total time and the downtime twice: from the\n"
    "pause to the target running the VM, and from the pause to the last byte\n"
    "sent (the target's load and start left out, as QEMU counts its downtime).\n"
    "On success the source VM ends (exit status 0); on any failure it keeps\n"
    "running where it was.\n"
    "\n"
    "Options:\n"
    "  --api-sock PATH  the source VM's control API socket\n"
    "  --to SPEC        the target: tcp:HOST:PORT\n"
    "  --json           progress and result as JSON objects, one per line\n"
    "  -h, --help       this text\n"
    "\n"
    "Exit status: 0 when the target runs the VM, 1 when the migration failed,\n"
    "2 for bad options or a refused request.\n";

static json_object *member(json_object *o, const char *k)
{
	json_object *v = NULL;
	json_object_object_get_ex(o, k, &v);
	return v;
}

static int64_t num(json_object *o, const char *k)
{
	return json_object_get_int64(member(o, k));
}

/* One status report: a progress line when the round changed, the result at
 * the end. Returns 0 while active, 1 completed, -1 failed. */
static int report(json_object *o, int json, int *last_round)
{
	const char *state = json_object_get_string(member(o, "state"));
	int round = (int)num(o, "round");
	int active = state && !strcmp(state, "active");
	if (active && round == *last_round)
		return 0;
	*last_round = round;
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(
		                   o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (active && round == 1) {
		printf("round 1: every page with data, while the VM runs\n");
	} else if (active) {
		printf("round %d: %lld pages written meanwhile; %lld pages (%.1f MiB) sent so "
		       "far\n",
		       round, (long long)num(o, "dirty_pages"), (long long)num(o, "pages"),
		       (double)num(o, "bytes") / (1 << 20));
	} else if (state && !strcmp(state, "completed")) {
		printf("migrated to %s: %d rounds, %lld pages (%lld zero), %.1f MiB; total "
		       "%.1f ms, downtime %.2f ms to the target running, %.2f ms to the last "
		       "byte sent\n",
		       json_object_get_string(member(o, "destination")), round,
		       (long long)num(o, "pages"), (long long)num(o, "zero_pages"),
		       (double)num(o, "bytes") / (1 << 20),
		       json_object_get_double(member(o, "total_ms")),
		       json_object_get_double(member(o, "downtime_ms")),
		       json_object_get_double(member(o, "downtime_sent_ms")));
	}
	fflush(stdout);
	if (active)
		return 0;
	if (state && !strcmp(state, "completed"))
		return 1;
	fprintf(stderr, "capsa vm migrate: %s; the VM keeps running on the source\n",
	        state && !strcmp(state, "failed") ? json_object_get_string(member(o, "error"))
	                                          : "the migration is not running");
	return -1;
}

static int follow(const char *sock, int json)
{
	int last_round = 0;
	for (;;) {
		struct err e = {0};
		int status = 0;
		char *body = NULL;
		if (vm_api_call(sock, "GET", "/migrate", NULL, &status, &body, &e)) {
			fprintf(stderr, "capsa vm migrate: lost the source VM: %s\n", e.msg);
			return 1;
		}
		json_object *o = status == 200 ? json_tokener_parse(body) : NULL;
		free(body);
		if (!o) {
			fprintf(stderr, "capsa vm migrate: bad status answer (HTTP %d)\n", status);
			return 1;
		}
		int r = report(o, json, &last_round);
		json_object_put(o);
		if (r)
			return r > 0 ? 0 : 1;
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

int cli_vm_migrate(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"api-sock", required_argument, 0, 's'},
	    {"to", required_argument, 0, 't'},
	    {"json", no_argument, 0, 'j'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	const char *sock = NULL, *to = NULL;
	int json = 0, c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 's') {
			sock = optarg;
		} else if (c == 't') {
			to = optarg;
		} else if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			fputs(migrate_usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "capsa vm migrate: bad option '%s' (see --help)\n",
			        argv[optind - 1]);
			return 2;
		}
	}
	if (!sock || !to || optind < argc) {
		fprintf(stderr,
		        "capsa vm migrate: --api-sock PATH and --to tcp:HOST:PORT are required "
		        "(see --help)\n");
		return 2;
	}
	json_object *req = json_object_new_object();
	json_object_object_add(req, "destination", json_object_new_string(to));
	struct err e = {0};
	int status = 0;
	char *resp = NULL;
	int rc = vm_api_call(sock, "PUT", "/migrate",
	                     json_object_to_json_string_ext(
	                         req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	                     &status, &resp, &e);
	json_object_put(req);
	if (rc) {
		fprintf(stderr, "capsa vm migrate: %s\n", e.msg);
		return err_exit_status(&e);
	}
	if (status != 204) {
		json_object *o = json_tokener_parse(resp);
		json_object *m = o ? member(o, "fault_message") : NULL;
		fprintf(stderr, "capsa vm migrate: %s (HTTP %d)\n",
		        m ? json_object_get_string(m) : resp, status);
		json_object_put(o);
		free(resp);
		return status == 400 ? 2 : 1;
	}
	free(resp);
	return follow(sock, json);
}
