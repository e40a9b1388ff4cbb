/* SPDX-License-Identifier: Apache-2.0 */
/* capsa vm run --incoming tcp:ADDR:PORT: the target of a live migration. */
#include "cli/vm_cmds.h"

#include "vm/migrate/migrate.h"

#include <stdio.h>
#include <unistd.h>

int cli_vm_incoming(const struct cli_incoming *in)
{
	const char *cmd = "capsa vm run";
	struct err e = {0};
	struct vm_config cons = {0};
	if (cli_vm_console(in->console, &cons, &e))
		return cli_vm_fail(in->json, cmd, &e);
	struct vm_device_names names;
	struct vm_restore_opts ro = {
	    .names = &names,
	    .accel = in->accel,
	    .kvm_path = in->kvm_path,
	    .console_out = cons.console_out,
	    .console_in = cons.console_in,
	    .console_escape = cons.console_escape,
	};
	int lfd;
	char where[128], peer[128];
	if (vm_migrate_listen(in->spec, &lfd, where, sizeof(where), &e))
		return cli_vm_fail(in->json, cmd, &e);
	json_object *ev = cli_vm_event("incoming");
	json_object_object_add(ev, "address", json_object_new_string(where));
	char line[200];
	snprintf(line, sizeof(line), "capsa: waiting for a migration on tcp:%s", where);
	cli_vm_emit(in->json, ev, line);
	struct vm *vm;
	int rc = vm_migrate_receive(lfd, &ro, &vm, peer, sizeof(peer), &e);
	close(lfd);
	if (rc)
		return cli_vm_fail(in->json, cmd, &e);
	ev = cli_vm_event("migrated-in");
	json_object_object_add(ev, "from", json_object_new_string(peer));
	json_object_object_add(ev, "accel",
	                       json_object_new_string(accel_kind_name(vm_accel(vm, NULL))));
	cli_vm_emit(in->json, ev, NULL);
	struct cli_serve sv = {
	    .cmd = cmd,
	    .json = in->json,
	    .api_sock = in->api_sock,
	    .console_escape = cons.console_escape,
	    .console_out = cons.console_out,
	    .names = &names,
	};
	return cli_vm_serve(vm, &sv);
}
