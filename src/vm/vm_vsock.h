/* SPDX-License-Identifier: Apache-2.0 */
/* The --vsock option of a VM: "cid=N,uds=PATH" parsed into a config, and the
 * device created from it (src/devices/virtio/vsock.h). */
#ifndef CAPSA_VM_VM_VSOCK_H
#define CAPSA_VM_VM_VSOCK_H

#include "devices/virtio/vsock.h"
#include "lib/err.h"

#include <stdint.h>

struct vm_vsock_config {
	int enabled;
	uint32_t cid;
	char uds[VSOCK_UDS_MAX + 1];
};

/* Parse "cid=N,uds=PATH" (in any order, both required). */
int vm_vsock_parse(struct vm_vsock_config *c, const char *spec, struct err *e);
/* Create the device and its listening socket. */
struct virtio_vsock *vm_vsock_create(const struct vm_vsock_config *c, struct err *e);

#endif
