/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CAPSA_CLI_VM_CMDS_H
#define CAPSA_CLI_VM_CMDS_H

/* argv[0] = "run" */
int cli_vm_run(int argc, char **argv);

/* Terminal handling for an interactive console (vm_tty.c). */
int tty_raw_begin(int fd);
void tty_raw_end(void);

/* Exit with `status`; KVM frees the VM in a helper task afterwards, unless
 * CAPSA_SYNC_TEARDOWN is set (vm_exit.c). Closes stdio first. */
void exit_leaving_teardown(int status) __attribute__((noreturn));

#endif
