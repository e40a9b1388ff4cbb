/* Placeholder until the OCI runtime lands. */
#include "cli/commands.h"

#include <stdio.h>

int cli_oci_is_command(const char *word)
{
	(void)word;
	return 0;
}

int cli_oci_main(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "capsa: the OCI runtime is not part of this build yet (%s)\n", argv[1]);
	return 2;
}
