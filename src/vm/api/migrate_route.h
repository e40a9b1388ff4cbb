/* SPDX-License-Identifier: Apache-2.0 */
/* The control API's capsa extension for live migration (docs/vm.md,
 * MIGRATION): PUT /migrate {"destination":"tcp:HOST:PORT"} starts it
 * (204), GET /migrate reports its progress and result. */
#ifndef CAPSA_VM_API_MIGRATE_ROUTE_H
#define CAPSA_VM_API_MIGRATE_ROUTE_H

#include "vm/snapshot/snapshot.h"
#include "vm/vm.h"

#include <stddef.h>

/* As vm_api_route, for the path /migrate; the devices' names go with the
 * VM (NULL: none). */
int vm_api_migrate(struct vm *vm, const struct vm_device_names *names, const char *method,
                   const char *body, size_t body_len, char **out);

#endif
