/* SPDX-License-Identifier: Apache-2.0 */
/* Fake guest memory and ring builders for the virtio unit tests. */
#ifndef CAPSA_TESTS_VQTEST_H
#define CAPSA_TESTS_VQTEST_H

#include "common/testutil.h"
#include "devices/virtio/queue.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MEM_SIZE  (1u << 20)
#define DESC_GPA  0x1000
#define AVAIL_GPA 0x3000
#define USED_GPA  0x4000
#define ITAB_GPA  0x8000
#define BUF_GPA   0x10000
#define HUGE_GPA  0x100000000ULL
#define HUGE_SIZE 0xc0000000ULL

struct fake {
	struct guest_mem gm;
	uint8_t *ram;
	void *huge;
	struct vq q;
};

static inline void fake_init(struct fake *f, uint16_t size)
{
	memset(f, 0, sizeof(*f));
	f->ram = calloc(1, MEM_SIZE);
	/* a 3 GiB region, never touched, for length-overflow chains */
	f->huge =
	    mmap(NULL, HUGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(f->ram && f->huge != MAP_FAILED);
	f->gm.r[0] = (struct guest_mem_region){0, MEM_SIZE, f->ram};
	f->gm.r[1] = (struct guest_mem_region){HUGE_GPA, HUGE_SIZE, f->huge};
	f->gm.n = 2;
	f->gm.total = MEM_SIZE + HUGE_SIZE;
	vq_init(&f->q, &f->gm);
	f->q.s.size = size;
	f->q.s.desc = DESC_GPA;
	f->q.s.avail = AVAIL_GPA;
	f->q.s.used = USED_GPA;
	f->q.s.indirect = 1;
	assert_int_equal(vq_activate(&f->q), 0);
}

static inline void fake_free(struct fake *f)
{
	free(f->ram);
	munmap(f->huge, HUGE_SIZE);
}

static inline void set_desc(struct fake *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                            uint16_t flags, uint16_t next)
{
	uint8_t *d = f->ram + table + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Make `head` available as the next entry. */
static inline void offer(struct fake *f, uint16_t head)
{
	uint16_t idx;
	memcpy(&idx, f->ram + AVAIL_GPA + 2, 2);
	memcpy(f->ram + AVAIL_GPA + 4 + 2 * (idx % f->q.s.size), &head, 2);
	idx++;
	memcpy(f->ram + AVAIL_GPA + 2, &idx, 2);
}

static inline uint16_t used_idx(struct fake *f)
{
	uint16_t v;
	memcpy(&v, f->ram + USED_GPA + 2, 2);
	return v;
}

#endif
