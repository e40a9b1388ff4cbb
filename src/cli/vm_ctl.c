/* SPDX-License-Identifier: Apache-2.0 */
/* capsa vm pause|resume|status|config|snapshot: clients of a running VM's control
 * API (`capsa vm run --api-sock PATH`). */
#include "cli/vm_cmds.h"

#include "vm/api/client.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char ctl_usage[] =
    "Usage: capsa vm pause|resume|status|config --api-sock PATH [--json]\n"
    "       capsa vm snapshot --api-sock PATH --file FILE [--with-disks]\n"
    "                         [--memory-format compressed|raw | --mem-file MEMFILE] [--json]\n"
    "       capsa vm snapshot verify FILE\n"
    "\n"
    "Talk to a VM started with `capsa vm run --api-sock PATH`:\n"
    "  pause     stop every vCPU\n"
    "  resume    let a paused VM go on\n"
    "  status    print the VM's state as JSON (GET /)\n"
    "  config    print the VM's configuration as JSON (GET /vm/config)\n"
    "  snapshot  save the paused VM to FILE (`capsa vm restore FILE` runs it again);\n"
    "            --with-disks puts each disk's data in FILE too, so FILE alone is the VM\n"
    "  snapshot verify  check every checksum of FILE, memory included\n"
    "\n"
    "Options:\n"
    "  --api-sock PATH  the VM's control socket\n"
    "  --file FILE      snapshot: the file to write\n"
    "  --with-disks     snapshot: also the disks' data\n"
    "  --memory-format compressed|raw\n"
    "                   snapshot: guest memory in compressed chunks (default, small)\n"
    "                   or as one raw sparse image (mapped directly on restore)\n"
    "  --mem-file MEMFILE  snapshot: guest memory as a raw sparse image in MEMFILE,\n"
    "                   not in FILE (restore with --mem-file MEMFILE)\n"
    "  --json           print the answer as JSON on stdout, errors included\n"
    "                   ({\"fault_message\": ...}; {} for a done action)\n"
    "  -h, --help       this text\n"
    "\n"
    "Exit status: 0 on success, 1 when the VM refused the request, 2 for bad\n"
    "options or an unreachable socket.\n";

/* The server's fault message, or the body itself when it has none. */
static void print_fault(const char *verb, int status, const char *body)
{
	json_object *o = json_tokener_parse(body);
	json_object *m = NULL;
	const char *msg = body;
	if (o && json_object_object_get_ex(o, "fault_message", &m))
		msg = json_object_get_string(m);
	fprintf(stderr, "capsa vm %s: %s (HTTP %d)\n", verb, msg, status);
	json_object_put(o);
}

/* A path the VM's process resolves as we would: absolute. */
static const char *absolute(const char *p, char *buf, size_t cap)
{
	char cwd[4096];
	if (p[0] != '/' && getcwd(cwd, sizeof(cwd)) &&
	    (size_t)snprintf(buf, cap, "%s/%s", cwd, p) < cap)
		return buf;
	return p;
}

/* The body of PUT /snapshot/create. */
static json_object *snapshot_req(const char *file, const char *mem, const char *form,
                                 int with_disks)
{
	char full[8192];
	json_object *req = json_object_new_object();
	json_object_object_add(req, "snapshot_path",
	                       json_object_new_string(absolute(file, full, sizeof(full))));
	if (mem)
		json_object_object_add(req, "mem_file_path",
		                       json_object_new_string(absolute(mem, full, sizeof(full))));
	if (form)
		json_object_object_add(req, "memory_format", json_object_new_string(form));
	if (with_disks)
		json_object_object_add(req, "with_disks", json_object_new_boolean(1));
	return req;
}

int cli_vm_ctl(int argc, char **argv)
{
	const char *verb = argv[0], *sock = NULL, *file = NULL, *mem = NULL, *form = NULL;
	int with_disks = 0, json = 0;
	if (!strcmp(verb, "snapshot") && argc >= 2 && !strcmp(argv[1], "verify"))
		return cli_vm_snapshot_verify(argc - 1, argv + 1);
	static const struct option lo[] = {
	    {"api-sock", required_argument, 0, 's'}, {"file", required_argument, 0, 'f'},
	    {"with-disks", no_argument, 0, 'd'},     {"json", no_argument, 0, 'j'},
	    {"mem-file", required_argument, 0, 'm'}, {"memory-format", required_argument, 0, 'F'},
	    {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
	};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 's') {
			sock = optarg;
		} else if (c == 'f') {
			file = optarg;
		} else if (c == 'd' && !strcmp(verb, "snapshot")) {
			with_disks = 1;
		} else if (c == 'm' && !strcmp(verb, "snapshot")) {
			mem = optarg;
		} else if (c == 'F' && !strcmp(verb, "snapshot")) {
			form = optarg;
		} else if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			fputs(ctl_usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "capsa vm %s: bad option '%s' (see --help)\n", verb,
			        argv[optind - 1]);
			return 2;
		}
	}
	int snap = !strcmp(verb, "snapshot");
	if (!sock || optind < argc || (snap && !file)) {
		fprintf(stderr, "capsa vm %s: --api-sock PATH%s is required (see --help)\n", verb,
		        snap ? " and --file FILE" : "");
		return 2;
	}
	const char *method = "PATCH", *path = "/vm", *body = NULL;
	json_object *req = NULL;
	if (!strcmp(verb, "status") || !strcmp(verb, "config")) {
		method = "GET";
		path = !strcmp(verb, "status") ? "/" : "/vm/config";
	} else if (snap) {
		method = "PUT";
		path = "/snapshot/create";
		req = snapshot_req(file, mem, form, with_disks);
		body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
		                                               JSON_C_TO_STRING_NOSLASHESCAPE);
	} else {
		body =
		    !strcmp(verb, "pause") ? "{\"state\":\"Paused\"}" : "{\"state\":\"Resumed\"}";
	}
	struct err e = {0};
	int status = 0;
	char *resp = NULL;
	int rc = vm_api_call(sock, method, path, body, &status, &resp, &e);
	json_object_put(req);
	if (rc) {
		fprintf(stderr, "capsa vm %s: %s\n", verb, e.msg);
		return err_exit_status(&e);
	}
	int ok = status >= 200 && status < 300;
	if (json)
		printf("%s\n", resp[0] ? resp : "{}");
	else if (!ok)
		print_fault(verb, status, resp);
	else if (resp[0])
		printf("%s\n", resp);
	free(resp);
	return ok ? 0 : 1;
}
