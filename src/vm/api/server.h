/* SPDX-License-Identifier: Apache-2.0 */
/* The control API: HTTP/1.1 + JSON on a Unix socket (mode 0600), a subset
 * of Firecracker's API (docs/vm.md, CONTROL API). It runs on its own thread
 * and changes the VM only through vm.h's functions. */
#ifndef CAPSA_VM_API_SERVER_H
#define CAPSA_VM_API_SERVER_H

#include "lib/err.h"
#include "vm/api/instance.h"

struct vm_api;

/* Listen on `path` (an existing socket file there is replaced) and serve
 * requests for `in` until vm_api_stop. */
int vm_api_start(struct vm_api **out, struct vm_api_instance *in, const char *path, struct err *e);
/* The instance `a` serves (NULL for NULL). */
struct vm_api_instance *vm_api_instance_of(struct vm_api *a);
/* Stop serving, remove the socket file and free. */
void vm_api_stop(struct vm_api *a);

#endif
