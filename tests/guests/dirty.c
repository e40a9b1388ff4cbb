/* SPDX-License-Identifier: Apache-2.0 */
/* test=dirty: writes known pages, for the dirty-page logging test
 * (tests/vm/test_migrate.c). At CPL3: one byte in each even page of
 * DIRTY_A's 128 pages, then "dirty: a"; once the host stores 1 at
 * DIRTY_MAILBOX, one byte in each odd page of DIRTY_B's 128 pages and
 * again in each even page of DIRTY_A, then "dirty: b" and exit 0. Nothing
 * else in either range is written. */
#include "guest.h"
#include "io.h"

#define DIRTY_A       0x2000000ULL /* 32 MiB */
#define DIRTY_B       0x2200000ULL /* 34 MiB */
#define DIRTY_MAILBOX 0x1f00000ULL /* 31 MiB */
#define DIRTY_PAGES   128

static void dirty_user(uint64_t unused)
{
	(void)unused;
	for (uint64_t i = 0; i < DIRTY_PAGES; i += 2)
		*(volatile uint8_t *)(DIRTY_A + i * 4096 + 8) = (uint8_t)(i + 1);
	gputs("dirty: a\n");
	while (*(volatile uint32_t *)DIRTY_MAILBOX != 1)
		cpu_relax();
	for (uint64_t i = 1; i < DIRTY_PAGES; i += 2)
		*(volatile uint8_t *)(DIRTY_B + i * 4096 + 16) = (uint8_t)(i + 1);
	for (uint64_t i = 0; i < DIRTY_PAGES; i += 2)
		*(volatile uint8_t *)(DIRTY_A + i * 4096 + 24) = (uint8_t)(i + 2);
	gputs("dirty: b\n");
	guest_exit(0);
}

void test_dirty(void)
{
	run_user(dirty_user, 0);
}
