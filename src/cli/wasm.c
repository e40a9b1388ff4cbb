/* Placeholder until the WebAssembly runtime lands. */
#include "cli/commands.h"

#include <stdio.h>

int cli_wasm_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "capsa: the WebAssembly runtime is not part of this build yet\n");
	return 2;
}
