#include "cli/commands.h"

#include <stdio.h>

int cli_vm_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "capsa vm: not yet\n");
	return 2;
}
