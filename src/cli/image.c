/* SPDX-License-Identifier: Apache-2.0 */
/* capsa image create: root filesystem images for capsa vm run --disk. */
#include "cli/commands.h"

#include "disk/image.h"
#include "lib/size.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char image_usage[] =
    "Usage: capsa image create --from DIR|TAR --size SIZE OUT.ext4\n"
    "\n"
    "Builds an ext4 file system image of SIZE bytes holding the tree DIR or the\n"
    "contents of the tar archive TAR (mkfs.ext4 -d, from e2fsprogs). OUT must not\n"
    "exist. Boot it with: capsa vm run --disk path=OUT.ext4 --cmdline \"... root=/dev/vda\"\n"
    "or put a copy-on-write overlay on it first: capsa disk create --backing OUT.ext4 ...\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 bad input.\n";

int cli_image_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "create")) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(image_usage, stdout);
			return 0;
		}
		fputs(image_usage, stderr);
		return 2;
	}
	static const struct option lo[] = {
	    {"from", required_argument, 0, 'f'},
	    {"size", required_argument, 0, 's'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	const char *from = NULL;
	uint64_t size = 0;
	struct err e = {0};
	int c;
	opterr = 0;
	optind = 1;
	argc--, argv++;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			from = optarg;
			break;
		case 's':
			if (parse_size(optarg, "--size", &size, &e)) {
				fprintf(stderr, "capsa image create: %s\n", e.msg);
				return 2;
			}
			break;
		case 'h':
			fputs(image_usage, stdout);
			return 0;
		default:
			fprintf(stderr, "capsa image create: bad option '%s' (see --help)\n",
			        argv[optind - 1]);
			return 2;
		}
	}
	if (!from || !size || optind != argc - 1) {
		fprintf(stderr,
		        "capsa image create: --from, --size and one OUT file are required\n");
		return 2;
	}
	if (image_create_ext4(from, size, argv[optind], &e)) {
		fprintf(stderr, "capsa image create: %s\n", e.msg);
		return err_exit_status(&e);
	}
	return 0;
}
