/* SPDX-License-Identifier: Apache-2.0 */
/* Which pages of this process's memory have ever held data, without
 * touching them (a snapshot skips the rest of guest memory). */
#ifndef CAPSA_MEM_TOUCHED_H
#define CAPSA_MEM_TOUCHED_H

#include "lib/err.h"

#include <stdint.h>

/* Which pages of [base, base+size) (page aligned, this process's memory)
 * have ever held data: present or swapped out (from /proc/self/pagemap),
 * one byte per page into map (1: may hold data). A page never touched
 * reads as zero in anonymous memory without being looked at. */
int mem_pages_touched(const uint8_t *base, uint64_t size, uint8_t *map, struct err *e);

#endif
