/* SPDX-License-Identifier: Apache-2.0 */
/* The control API's endpoints: method + path + JSON body in, status and
 * JSON body out. No I/O here, so it can be tested and fuzzed alone. */
#ifndef CAPSA_VM_API_ROUTES_H
#define CAPSA_VM_API_ROUTES_H

#include "vm/api/instance.h"

#include <stddef.h>

/* Answer one request for `in`: *out_body is malloc'd JSON or NULL (no
 * body). Returns the HTTP status. */
int vm_api_route(struct vm_api_instance *in, const char *method, const char *path, const char *body,
                 size_t body_len, char **out_body);

/* Firecracker's error body {"fault_message": msg}, malloc'd. */
char *vm_api_fault(const char *msg);

#endif
