/* SPDX-License-Identifier: Apache-2.0 */
/* capsa disk create | info: qcow2 images for capsa vm run --disk. */
#include "cli/commands.h"

#include "disk/disk.h"
#include "disk/qcow2.h"
#include "lib/size.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char disk_usage[] =
    "Usage: capsa disk create [--size SIZE] [--backing FILE] [--cluster-size SIZE] OUT.qcow2\n"
    "       capsa disk info [--json] FILE\n"
    "\n"
    "create  writes a new qcow2 (version 3) image. With --backing the image is a\n"
    "        copy-on-write overlay: reads of clusters it has not written come from\n"
    "        FILE (raw or qcow2, recorded in the image; a relative name is relative\n"
    "        to the image's directory) and its size defaults to FILE's size.\n"
    "        --cluster-size is a power of two from 512 to 2M (default 64K).\n"
    "info    prints the image's format, sizes, backing file and allocation;\n"
    "        --json prints one JSON object.\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 bad input (including malformed images).\n";

static int fail(const char *cmd, const struct err *e)
{
	fprintf(stderr, "capsa disk %s: %s\n", cmd, e->msg);
	return err_exit_status(e);
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "capsa disk: %s%s%s (see capsa disk --help)\n", msg, arg ? " " : "",
	        arg ? arg : "");
	return 2;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"size", required_argument, 0, 's'},
	    {"backing", required_argument, 0, 'b'},
	    {"cluster-size", required_argument, 0, 'c'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	struct qcow2_create_opts o = {0, NULL, 0};
	struct err e = {0};
	uint64_t cs;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, "--size", &o.size, &e))
				return fail("create", &e);
			if (!o.size)
				return usage_error("--size must be more than 0:", optarg);
			break;
		case 'b':
			o.backing = optarg;
			break;
		case 'c':
			if (parse_size(optarg, "--cluster-size", &cs, &e))
				return fail("create", &e);
			if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1)))
				return usage_error(
				    "--cluster-size must be a power of two in 512..2M:", optarg);
			o.cluster_bits = (unsigned)__builtin_ctzll(cs);
			break;
		case 'h':
			fputs(disk_usage, stdout);
			return 0;
		case ':':
			return usage_error("option needs a value:", argv[optind - 1]);
		default:
			return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error("create needs exactly one output file", NULL);
	if (!o.size && !o.backing)
		return usage_error("--size is required without --backing", NULL);
	if (qcow2_create(argv[optind], &o, &e))
		return fail("create", &e);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	int json = 0;
	const char *file = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(disk_usage, stdout);
			return 0;
		} else if (argv[i][0] == '-')
			return usage_error("unknown option", argv[i]);
		else if (file)
			return usage_error("info takes one file; extra:", argv[i]);
		else
			file = argv[i];
	}
	if (!file)
		return usage_error("info needs a file", NULL);
	struct qcow2_info in;
	struct err e = {0};
	if (qcow2_info(file, &in, &e))
		return fail("info", &e);
	uint64_t cs = 1ULL << in.cluster_bits;
	const char *comp = in.compression ? "zstd" : "zlib";
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "file", json_object_new_string(file));
		json_object_object_add(o, "format", json_object_new_string("qcow2"));
		json_object_object_add(o, "version", json_object_new_int((int)in.version));
		json_object_object_add(o, "virtual_size", json_object_new_int64((int64_t)in.size));
		json_object_object_add(o, "file_size",
		                       json_object_new_int64((int64_t)in.file_size));
		json_object_object_add(o, "cluster_size", json_object_new_int64((int64_t)cs));
		json_object_object_add(o, "refcount_bits",
		                       json_object_new_int((int)in.refcount_bits));
		json_object_object_add(o, "compression", json_object_new_string(comp));
		json_object_object_add(o, "allocated_clusters",
		                       json_object_new_int64((int64_t)in.allocated_clusters));
		json_object_object_add(o, "snapshots", json_object_new_int((int)in.snapshots));
		json_object_object_add(o, "dirty", json_object_new_boolean(in.incompatible & 1));
		json_object_object_add(o, "corrupt", json_object_new_boolean(in.incompatible & 2));
		if (in.backing[0]) {
			json_object_object_add(o, "backing_file",
			                       json_object_new_string(in.backing));
			json_object_object_add(o, "backing_format",
			                       json_object_new_string(in.backing_format));
		}
		printf("%s\n", json_object_to_json_string_ext(
		                   o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return 0;
	}
	printf("file:               %s\n", file);
	printf("format:             qcow2 (version %u)\n", in.version);
	printf("virtual size:       %llu bytes\n", (unsigned long long)in.size);
	printf("file size:          %llu bytes\n", (unsigned long long)in.file_size);
	printf("cluster size:       %llu\n", (unsigned long long)cs);
	printf("refcount bits:      %u\n", in.refcount_bits);
	printf("compression:        %s\n", comp);
	printf("allocated clusters: %llu (%llu bytes)\n", (unsigned long long)in.allocated_clusters,
	       (unsigned long long)(in.allocated_clusters * cs));
	printf("snapshots:          %u\n", in.snapshots);
	if (in.incompatible & 3)
		printf("flags:              %s%s\n", in.incompatible & 1 ? "dirty " : "",
		       in.incompatible & 2 ? "corrupt" : "");
	if (in.backing[0])
		printf("backing file:       %s (%s)\n", in.backing,
		       in.backing_format[0] ? in.backing_format : "format not recorded");
	return 0;
}

int cli_disk_main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(disk_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "create"))
		return cmd_create(argc - 1, argv + 1);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	return usage_error("unknown disk command", argv[1]);
}
