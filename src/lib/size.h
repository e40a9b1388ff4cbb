/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing sizes such as "256M", "1G", "4096", "512MiB", "2GB" (binary units). */
#ifndef CAPSA_LIB_SIZE_H
#define CAPSA_LIB_SIZE_H

#include "lib/err.h"

#include <stdint.h>

/* `what` names the option in the error ("--memory"). Suffixes: none or B
 * (bytes), K, M, G, T with optional "i" and/or "B", case-insensitive. */
int parse_size(const char *s, const char *what, uint64_t *out, struct err *e);
/* Parse a decimal unsigned integer in [min, max]. */
int parse_uint(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out,
               struct err *e);

#endif
