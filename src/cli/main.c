/* SPDX-License-Identifier: Apache-2.0 */
/* capsa: one binary, three isolation levels. This file only dispatches. */
#include "cli/commands.h"
#include "lib/version.h"

#include <stdio.h>
#include <string.h>

/* Set by the build (mk/version.mk) from `git describe`. */
#ifndef CAPSA_COMMIT
#define CAPSA_COMMIT "unknown"
#endif

static const char usage[] =
    "Usage: capsa COMMAND [OPTIONS]\n"
    "\n"
    "capsa runs other people's code in isolation, at three levels:\n"
    "\n"
    "System VMs (KVM):\n"
    "  vm run        boot a Linux kernel or test guest in a KVM virtual machine\n"
    "  disk create | info   qcow2 disk images (copy-on-write overlays)\n"
    "  image create  ext4 root filesystem image from a directory or tar\n"
    "\n"
    "Containers (OCI runtime, command line compatible with crun and runc):\n"
    "  spec, create, start, run, exec, state, kill, delete, list, ps,\n"
    "  pause, resume, update, features, events\n"
    "  global options: --root DIR --log FILE --log-format text|json --debug\n"
    "                  --systemd-cgroup (before the command)\n"
    "\n"
    "Process VMs (WebAssembly):\n"
    "  wasm run | validate | inspect\n"
    "\n"
    "Other:\n"
    "  help, --help  this text;  --version  the version\n"
    "\n"
    "Every command takes --help. Exit status: 0 success, 1 failure, 2 bad\n"
    "input or usage; `capsa vm run` and `capsa run` pass on their guest's status.\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-v") || !strcmp(cmd, "version")) {
		/* runc's layout: engines (dockerd) read "NAME version V" and "commit: C". */
		printf("capsa version %s\ncommit: %s\n", CAPSA_VERSION, CAPSA_COMMIT);
		return 0;
	}
	if (!strcmp(cmd, "vm"))
		return cli_vm_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "image"))
		return cli_image_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "disk"))
		return cli_disk_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "wasm"))
		return cli_wasm_main(argc - 1, argv + 1);
	if (cmd[0] == '-' || cli_oci_is_command(cmd))
		return cli_oci_main(argc, argv);
	fprintf(stderr, "capsa: unknown command '%s' (see capsa --help)\n", cmd);
	return 2;
}
