/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CAPSA_CLI_VM_CMDS_H
#define CAPSA_CLI_VM_CMDS_H

#include "lib/err.h"
#include "vm/snapshot/snapshot.h"
#include "vm/vm.h"

#include <json-c/json.h>
#include <signal.h>

/* argv[0] = "run" */
int cli_vm_run(int argc, char **argv);
/* capsa vm restore FILE */
int cli_vm_restore(int argc, char **argv);
/* capsa vm snapshot verify FILE (argv[0] = "verify") */
int cli_vm_snapshot_verify(int argc, char **argv);
/* pause, resume, status, snapshot: argv[0] is the verb */
int cli_vm_ctl(int argc, char **argv);
/* capsa vm migrate --api-sock PATH --to tcp:HOST:PORT (vm_migrate.c) */
int cli_vm_migrate(int argc, char **argv);
/* capsa vm run --incoming SPEC: wait for a VM from a migration and run it
 * (vm_incoming.c). */
struct cli_incoming {
	const char *spec; /* tcp:ADDR:PORT */
	const char *console;
	enum accel_kind accel; /* ACCEL_AUTO: the source's */
	const char *kvm_path;
	const char *api_sock;
	int json;
};
int cli_vm_incoming(const struct cli_incoming *in);

/* Running a created VM (vm_serve.c): never returns once the VM ran; on
 * an error before, prints it and returns the exit status. */
struct vm_api;
struct vm_api_machine;
struct cli_serve {
	const char *cmd; /* "capsa vm run", for messages */
	int json;        /* --json-events */
	const char *api_sock;
	struct vm_api *api;                  /* already serving, or NULL to start on api_sock */
	struct vm_api_machine *machine;      /* the VM's configuration, NULL if unknown */
	const struct vm_device_names *names; /* a restored VM's device names, or NULL */
	int paused;                          /* start with every vCPU paused */
	int console_escape;
	int console_out;       /* closed at the end if not stdio */
	const char *vsock_uds; /* removed at the end, or NULL */
};
int cli_vm_serve(struct vm *vm, const struct cli_serve *s);
/* Install the handlers of SIGINT, SIGTERM and SIGHUP: they end the running
 * VM, or before there is one set the returned flag to the signal number. */
volatile sig_atomic_t *cli_vm_signals(void);
/* Events on stderr: JSON with --json-events, else `plain` (if not NULL). */
void cli_vm_emit(int json, json_object *ev, const char *plain);
json_object *cli_vm_event(const char *name);
/* Print "CMD: message" (or the error event); returns the exit status. */
int cli_vm_fail(int json, const char *cmd, const struct err *e);
/* Serial console from --console (stdio, none, file:PATH). */
int cli_vm_console(const char *spec, struct vm_config *cfg, struct err *e);

/* Terminal handling for an interactive console (vm_tty.c). */
int tty_raw_begin(int fd);
void tty_raw_end(void);

/* Exit with `status`; KVM frees the VM in a helper task afterwards, unless
 * CAPSA_SYNC_TEARDOWN is set (vm_exit.c). Closes stdio first. */
void exit_leaving_teardown(int status) __attribute__((noreturn));

#endif
