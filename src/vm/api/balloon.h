/* SPDX-License-Identifier: Apache-2.0 */
/* Firecracker's balloon endpoints: PUT /balloon (before start), GET and
 * PATCH /balloon (target), GET /balloon/statistics and PATCH
 * /balloon/statistics (polling interval). Before start they read and change
 * the machine's configuration; after, the running device. */
#ifndef CAPSA_VM_API_BALLOON_H
#define CAPSA_VM_API_BALLOON_H

#include "lib/err.h"
#include "vm/api/body.h"
#include "vm/api/instance.h"

#include <json-c/json.h>

extern const struct api_field vm_api_balloon_put_fields[], vm_api_balloon_patch_fields[],
    vm_api_balloon_stats_fields[];

/* {"amount_mib", "deflate_on_oom", "stats_polling_interval_s"}, or NULL
 * for a configuration without a balloon (GET /vm/config shows null). */
json_object *vm_api_balloon_config_json(const struct vm_virtio_config *v);

int vm_api_put_balloon(struct vm_api_machine *m, json_object *o, struct err *e);
int vm_api_patch_balloon(struct vm_api_instance *in, json_object *o, struct err *e);
int vm_api_patch_balloon_stats(struct vm_api_instance *in, json_object *o, struct err *e);
/* GET /balloon and GET /balloon/statistics; NULL with e set. */
json_object *vm_api_get_balloon(struct vm_api_instance *in, struct err *e);
json_object *vm_api_balloon_stats_json(struct vm_api_instance *in, struct err *e);

#endif
