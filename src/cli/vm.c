/* SPDX-License-Identifier: Apache-2.0 */
/* capsa vm: command group for system VMs. */
#include "cli/commands.h"
#include "cli/vm_cmds.h"

#include <stdio.h>
#include <string.h>

static const char vm_usage[] =
    "Usage: capsa vm COMMAND [OPTIONS]\n"
    "\n"
    "System virtual machines on KVM.\n"
    "\n"
    "Commands:\n"
    "  run     boot a kernel (Linux vmlinux/bzImage, or a PVH test guest) and\n"
    "          run it until it resets, powers off or exits; with only --api-sock,\n"
    "          wait to be configured through the control API\n"
    "  restore FILE  run a VM saved by `capsa vm snapshot`\n"
    "  pause, resume, status, config, snapshot --api-sock PATH\n"
    "          clients of a VM's control API\n"
    "\n"
    "Run 'capsa vm COMMAND --help' for a command's options.\n";

int cli_vm_main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(vm_usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(vm_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cli_vm_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "restore"))
		return cli_vm_restore(argc - 1, argv + 1);
	if (!strcmp(argv[1], "migrate"))
		return cli_vm_migrate(argc - 1, argv + 1);
	static const char *const ctl[] = {"pause", "resume", "status", "config", "snapshot"};
	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++)
		if (!strcmp(argv[1], ctl[i]))
			return cli_vm_ctl(argc - 1, argv + 1);
	fprintf(stderr, "capsa vm: unknown command '%s' (see capsa vm --help)\n", argv[1]);
	return 2;
}
