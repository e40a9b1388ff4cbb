/* SPDX-License-Identifier: Apache-2.0 */
/* Firecracker endpoints beyond the machine's configuration: GET /version,
 * PUT /entropy, PUT /serial, PUT /logger, PUT /metrics, the FlushMetrics
 * action and the PATCHes of running devices. The
 * bodies come checked against the field lists below (body.h). */
#ifndef CAPSA_VM_API_EXTRA_H
#define CAPSA_VM_API_EXTRA_H

#include "lib/err.h"
#include "vm/api/body.h"
#include "vm/api/instance.h"

#include <json-c/json.h>

extern const struct api_field vm_api_entropy_fields[], vm_api_logger_fields[],
    vm_api_metrics_fields[], vm_api_serial_fields[];

/* The running VM's device counters into a metrics line: "block" and "net",
 * each summed over the devices of its kind. `in` is the instance. */
void vm_api_device_metrics(void *in, struct json_object *o);

/* {"firecracker_version": capsa's version}. */
json_object *vm_api_version_json(void);
/* PUT /entropy: a virtio-rng device; a rate limiter only if empty. */
int vm_api_put_entropy(struct vm_api_machine *m, json_object *o, struct err *e);
/* PUT /serial: the serial console's output goes to serial_out_path
 * (created or truncated at start), instead of what --console says. */
int vm_api_put_serial(struct vm_api_machine *m, json_object *o, struct err *e);
/* PATCH /drives/{id} after start: path_on_host swaps the drive's backing
 * file (the VM is paused meanwhile unless it was; the guest is told of the
 * new capacity), rate_limiter replaces the drive's limits. */
int vm_api_patch_running_drive(struct vm_api_instance *in, const char *id, json_object *o,
                               struct err *e);
/* PATCH /network-interfaces/{id} after start: rx_rate_limiter and
 * tx_rate_limiter replace the running device's limits (the VM is paused
 * meanwhile unless it was). */
int vm_api_patch_running_iface(struct vm_api_instance *in, const char *id, json_object *o,
                               struct err *e);
/* PUT /logger and PUT /metrics: once each, before the VM starts. */
int vm_api_put_logger(struct vm_api_instance *in, json_object *o, struct err *e);
int vm_api_put_metrics(struct vm_api_instance *in, json_object *o, struct err *e);

#endif
