/* SPDX-License-Identifier: Apache-2.0 */
/* The control API's client side, for `capsa vm pause|resume|status|snapshot`. */
#ifndef CAPSA_VM_API_CLIENT_H
#define CAPSA_VM_API_CLIENT_H

#include "lib/err.h"

/* Send one request (json may be NULL) to the API socket at `sock`; on
 * success *status is the HTTP status and *body the response body
 * (malloc'd, "" when empty). */
int vm_api_call(const char *sock, const char *method, const char *path, const char *json,
                int *status, char **body, struct err *e);

#endif
