/* SPDX-License-Identifier: Apache-2.0 */
/* test=count: counts in memory and on the serial line, for snapshot and
 * restore tests. Each of `lines` steps updates `work` words of a 1 MiB
 * buffer (at CPL3) and folds them into a running checksum, then prints
 * "count: I sum=0xS"; the last line before the exit is "count: done
 * sum=0xS". The host recomputes the same sum (tests/vm/test_snapshot.c), so
 * a VM that was saved and restored mid-run must print the same values, and
 * "count: 0" only once (no restart). */
#include "guest.h"

#define COUNT_WORDS (1u << 18) /* 1 MiB of uint32_t */

static uint32_t count_buf[COUNT_WORDS];
static uint64_t count_lines, count_work;

/* At CPL3: paravirtual KVM runs CPL0 code far slower than user code. */
static void count_user(uint64_t unused)
{
	(void)unused;
	uint64_t lines = count_lines, work = count_work;
	uint32_t sum = 0;
	for (uint64_t i = 0; i < lines; i++) {
		for (uint64_t j = 0; j < work; j++) {
			uint32_t k = (uint32_t)((j * 7919u + i * 104729u) % COUNT_WORDS);
			count_buf[k] += (uint32_t)(j ^ i);
			sum = sum * 31u + count_buf[k];
		}
		gprintf("count: %lu sum=0x%08x\n", i, sum);
	}
	gprintf("count: done sum=0x%08x\n", sum);
	guest_exit(0);
}

void test_count(uint64_t lines, uint64_t work)
{
	count_lines = lines;
	count_work = work;
	run_user(count_user, 0);
}
