/* SPDX-License-Identifier: Apache-2.0 */
/* test=count: counts in memory and on the serial line, for snapshot and
 * restore tests. Each of `lines` steps updates `work` words of a 1 MiB
 * buffer (at CPL3) and folds them into a running checksum, then prints
 * "count: I sum=0xS"; the last line before the exit is "count: done
 * sum=0xS". The host recomputes the same sum (tests/vm/test_snapshot.c), so
 * a VM that was saved and restored mid-run must print the same values, and
 * "count: 0" only once (no restart).
 *
 * With disk=1, line I is also written to sector I of the first virtio-blk
 * disk (a 512-byte record: I, the sum, then the text of the line), sector
 * I-1 is read back and checked first, and at the end every sector is read
 * back and checked: "count: disk ok" or "count: disk bad at I". A restored
 * VM that does not see the data it had fails this. */
#include "guest.h"

#define COUNT_WORDS (1u << 18) /* 1 MiB of uint32_t */

static uint32_t count_buf[COUNT_WORDS];
static uint64_t count_lines, count_work, count_disk;
static const char *count_cmdline;
static uint8_t count_sector[512] __attribute__((aligned(512)));
static uint32_t count_sums[4096];

static void disk_record(uint64_t i, uint32_t sum)
{
	memset(count_sector, 0, sizeof(count_sector));
	memcpy(count_sector, &i, 8);
	memcpy(count_sector + 8, &sum, 4);
	if (guest_blk_io(1, i, count_sector, sizeof(count_sector)) != 0) {
		gprintf("count: disk write %lu failed\n", i);
		guest_exit(1);
	}
}

/* Is sector i the record of line i with its sum? */
static int disk_check(uint64_t i)
{
	if (guest_blk_io(0, i, count_sector, sizeof(count_sector)) != 0)
		return 0;
	uint64_t got;
	uint32_t sum;
	memcpy(&got, count_sector, 8);
	memcpy(&sum, count_sector + 8, 4);
	return got == i && sum == count_sums[i];
}

/* At CPL3: paravirtual KVM runs CPL0 code far slower than user code. */
static void count_user(uint64_t unused)
{
	(void)unused;
	uint64_t lines = count_lines, work = count_work;
	uint32_t sum = 0;
	if (count_disk && (lines > 4096 || guest_blk_open(count_cmdline))) {
		gprintf("count: no virtio-blk disk\n");
		guest_exit(1);
	}
	for (uint64_t i = 0; i < lines; i++) {
		for (uint64_t j = 0; j < work; j++) {
			uint32_t k = (uint32_t)((j * 7919u + i * 104729u) % COUNT_WORDS);
			count_buf[k] += (uint32_t)(j ^ i);
			sum = sum * 31u + count_buf[k];
		}
		if (count_disk) {
			if (i > 0 && !disk_check(i - 1)) {
				gprintf("count: disk bad at %lu\n", i - 1);
				guest_exit(1);
			}
			count_sums[i] = sum;
			disk_record(i, sum);
		}
		gprintf("count: %lu sum=0x%08x\n", i, sum);
	}
	for (uint64_t i = 0; count_disk && i < lines; i++)
		if (!disk_check(i)) {
			gprintf("count: disk bad at %lu\n", i);
			guest_exit(1);
		}
	if (count_disk)
		gprintf("count: disk ok\n");
	gprintf("count: done sum=0x%08x\n", sum);
	guest_exit(0);
}

void test_count(uint64_t lines, uint64_t work, const char *cmdline)
{
	count_lines = lines;
	count_work = work;
	count_cmdline = cmdline;
	count_disk = cmdline_num(cmdline, "disk", 0);
	run_user(count_user, 0);
}
