/* SPDX-License-Identifier: Apache-2.0 */
/* Entry points of the capsa command groups. Each gets argv starting at its
 * own command word (argv[0] = "vm", "wasm", or the OCI command name) and
 * returns the process exit status. Only code under src/cli prints or exits. */
#ifndef CAPSA_CLI_COMMANDS_H
#define CAPSA_CLI_COMMANDS_H

int cli_vm_main(int argc, char **argv);
int cli_wasm_main(int argc, char **argv);
int cli_disk_main(int argc, char **argv);
int cli_image_main(int argc, char **argv);
/* OCI runtime (crun/runc compatible): argv[0] is the program name and the
 * global options (--root, --log, ...) come before the command. */
int cli_oci_main(int argc, char **argv);
/* Is `word` a command of the OCI runtime interface? */
int cli_oci_is_command(const char *word);

#endif
