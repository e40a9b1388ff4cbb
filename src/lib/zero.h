/* SPDX-License-Identifier: Apache-2.0 */
/* Whether a buffer holds only zero bytes (pages and chunks that a
 * snapshot, a migration or a disk image leaves out). */
#ifndef CAPSA_LIB_ZERO_H
#define CAPSA_LIB_ZERO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Each byte equals the next and the first is zero: memcmp does the work
 * at the speed of the C library's vector code, for any length. */
static inline int buf_is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

#endif
