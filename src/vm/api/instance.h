/* SPDX-License-Identifier: Apache-2.0 */
/* What the control API serves: the machine being configured and, once it
 * runs, the VM. Before that, InstanceStart and PUT /snapshot/load are
 * handed to the thread that will run the VM (the "starter", `capsa vm run`'s
 * main thread) and the API thread waits for its answer. */
#ifndef CAPSA_VM_API_INSTANCE_H
#define CAPSA_VM_API_INSTANCE_H

#include "lib/err.h"
#include "vm/api/machine.h"
#include "vm/api/telemetry.h"
#include "vm/vm.h"

#include <pthread.h>
#include <signal.h>

enum vm_api_req_kind { VM_API_REQ_START = 1, VM_API_REQ_LOAD };

struct vm_api_req {
	enum vm_api_req_kind kind;
	char path[4096];     /* VM_API_REQ_LOAD: the snapshot file */
	char mem_path[4096]; /* VM_API_REQ_LOAD: its memory file, or "" */
	int resume;          /* VM_API_REQ_LOAD: run it at once */
	struct {             /* VM_API_REQ_LOAD: network_overrides */
		char iface_id[VM_API_ID_MAX];
		char tap[16];
	} net[VM_NET_MAX];
	unsigned nnet;
};

struct vm_api_instance {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vm_api_machine *m; /* never NULL */
	struct vm *vm;            /* NULL until started */
	int starter;              /* a thread waits in vm_api_wait_request */
	int pending, done, rc;    /* the request in flight */
	struct vm_api_req req;
	struct err err;
	struct vm_api_tel tel; /* PUT /logger, /metrics */
};

/* `vm` is NULL for a VM still to be configured. */
void vm_api_instance_init(struct vm_api_instance *in, struct vm_api_machine *m, struct vm *vm);
void vm_api_instance_destroy(struct vm_api_instance *in);
/* The VM, or NULL before it started. */
struct vm *vm_api_instance_vm(struct vm_api_instance *in);

/* API thread: hand `r` to the starter and wait for its answer; ERR_INPUT
 * when no thread can start a VM in this process. */
int vm_api_submit(struct vm_api_instance *in, const struct vm_api_req *r, struct err *e);

/* Starter: wait for a request. 1 with *r filled; 0 once *stop is non-zero
 * (checked every 100 ms), after which requests are refused. */
int vm_api_wait_request(struct vm_api_instance *in, struct vm_api_req *r,
                        volatile sig_atomic_t *stop);
/* Starter: answer the request; on success (rc 0) `vm` is the started VM
 * and the API serves it from now on, and the starter stops waiting. */
void vm_api_request_done(struct vm_api_instance *in, struct vm *vm, int rc, const struct err *e);

#endif
