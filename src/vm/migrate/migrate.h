/* SPDX-License-Identifier: Apache-2.0 */
/* Live migration of a running VM to another capsa over TCP (docs/vm.md,
 * MIGRATION; stream.h describes the protocol).
 *
 * Source: vm_migrate_start runs the migration on a thread of its own while
 * the guest goes on: pre-copy rounds (all non-zero pages, then the pages
 * written meanwhile, from the accelerator's dirty log), then a pause, the
 * last pages and the state. Once the target says it runs, the source VM
 * ends (VM_END_MIGRATED, exit status 0). Any failure before that resumes
 * the VM, which keeps running here.
 *
 * Target: vm_migrate_listen, then vm_migrate_receive accepts one source and
 * returns its VM ready for vm_run. */
#ifndef CAPSA_VM_MIGRATE_MIGRATE_H
#define CAPSA_VM_MIGRATE_MIGRATE_H

#include "lib/err.h"
#include "vm/snapshot/snapshot.h"
#include "vm/vm.h"

enum vm_migrate_state {
	VM_MIGRATE_NONE,      /* never started */
	VM_MIGRATE_ACTIVE,    /* pre-copy or stop-and-copy */
	VM_MIGRATE_COMPLETED, /* the target runs; the source VM ends */
	VM_MIGRATE_FAILED,    /* the source VM runs on; `error` says why */
};

struct vm_migrate_status {
	enum vm_migrate_state state;
	char destination[256];
	unsigned round;      /* current or last round, 1.. */
	uint64_t pages;      /* pages sent (zero pages included) */
	uint64_t zero_pages; /* of them sent as a flag only */
	uint64_t bytes;      /* stream bytes sent */
	uint64_t dirty;      /* pages the last round found written */
	double total_ms;     /* start to the target running (or failure) */
	double downtime_ms;  /* pause to the target's answer that the VM runs */
	/* pause to the last byte of the state handed to the network (the end
	 * of the downtime as QEMU reports it: the target's load and start not
	 * included) */
	double downtime_sent_ms;
	char error[ERR_MSG_MAX];
};

/* Start migrating to "tcp:HOST:PORT", the devices' names (NULL: none) going
 * with the machine. ERR_INPUT for a bad destination, a VM that is not
 * running, or a migration already under way. */
int vm_migrate_start(struct vm *vm, const char *destination, const struct vm_device_names *names,
                     struct err *e);
/* The migration's progress. Reading a completed migration's status lets
 * the source VM end at once (else it waits a few seconds for a reader). */
void vm_migrate_status(struct vm *vm, struct vm_migrate_status *st);
/* Stop a migration thread and free it; tell the source of a received VM
 * that never ran that it failed (vm_destroy). */
void vm_migrate_free(struct vm *vm);

/* Listen on "tcp:ADDR:PORT" (port 0: any free port); *where gets the
 * address bound, e.g. "127.0.0.1:40213". */
int vm_migrate_listen(const char *spec, int *lfd, char *where, size_t cap, struct err *e);
/* Accept one source on lfd and receive its VM: created for the machine the
 * source describes (o: accelerator, console), memory and state filled in,
 * ready for vm_run. The source is told the VM runs once vm_run has started
 * its vCPUs (vm_migrate_started); vm_destroy before that tells it the VM
 * failed. *peer names the source. A bad stream is ERR_INPUT naming what is
 * wrong (and the source is told). */
int vm_migrate_receive(int lfd, const struct vm_restore_opts *o, struct vm **out, char *peer,
                       size_t peer_cap, struct err *e);

/* vm_run, once it started the vCPU threads of a VM from vm_migrate_receive
 * (held parked until this returns; `failed` 0) or could not (e says why):
 * tells the source, which then ends its VM or resumes it. Returns -1 with e
 * set when `failed` or when the source could not be told that the VM runs
 * (the source then resumes its VM, so this one must end). Nothing (0) for
 * any other VM. */
int vm_migrate_started(struct vm *vm, int failed, struct err *e);

#endif
