/* SPDX-License-Identifier: Apache-2.0 */
/* The split-virtqueue walker against well-formed and hostile chains. */
#include "vqtest.h"

static struct vq_chain chain;

static int pop(struct fake *f)
{
	return vq_pop(&f->q, &chain);
}

static void good_chain(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 16);
	set_desc(&f, DESC_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 5);
	set_desc(&f, DESC_GPA, 5, BUF_GPA + 512, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 9);
	set_desc(&f, DESC_GPA, 9, BUF_GPA + 2048, 1, VRING_DESC_F_WRITE, 0);
	memcpy(f.ram + BUF_GPA, "0123456789abcdef", 16);
	offer(&f, 0);
	assert_int_equal(pop(&f), 1);
	assert_int_equal(chain.head, 0);
	assert_int_equal(chain.nout, 1);
	assert_int_equal(chain.nin, 2);
	assert_int_equal(chain.out_len, 16);
	assert_int_equal(chain.in_len, 513);
	assert_ptr_equal(chain.iov[1].iov_base, f.ram + BUF_GPA + 512);
	char hdr[5] = {0};
	assert_int_equal(vq_copy_from(&chain, 10, hdr, 4), 4);
	assert_string_equal(hdr, "abcd");
	/* a copy past the readable part stops at its end */
	assert_int_equal(vq_copy_from(&chain, 14, hdr, 4), 2);
	uint8_t st = 7;
	assert_int_equal(vq_copy_to(&chain, 512, &st, 1), 1);
	assert_int_equal(f.ram[BUF_GPA + 2048], 7);
	/* nothing more to pop; the used ring gets the element */
	assert_int_equal(pop(&f), 0);
	vq_push(&f.q, chain.head, 513);
	assert_int_equal(used_idx(&f), 1);
	uint32_t id, len;
	memcpy(&id, f.ram + USED_GPA + 4, 4);
	memcpy(&len, f.ram + USED_GPA + 8, 4);
	assert_int_equal(id, 0);
	assert_int_equal(len, 513);
	fake_free(&f);
}

static void expect_error(struct fake *f, enum vq_error want)
{
	uint16_t before = f->q.s.last_avail;
	assert_int_equal(pop(f), -1);
	assert_int_equal(f->q.last_error, want);
	assert_int_equal(f->q.s.last_avail, before); /* nothing consumed */
}

static void loop(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	set_desc(&f, DESC_GPA, 0, BUF_GPA, 64, VRING_DESC_F_NEXT, 1);
	set_desc(&f, DESC_GPA, 1, BUF_GPA, 64, VRING_DESC_F_NEXT, 0);
	offer(&f, 0);
	expect_error(&f, VQ_E_TOO_LONG);
	fake_free(&f);
}

static void self_loop(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	set_desc(&f, DESC_GPA, 3, BUF_GPA, 64, VRING_DESC_F_NEXT, 3);
	offer(&f, 3);
	expect_error(&f, VQ_E_TOO_LONG);
	fake_free(&f);
}

static void out_of_range(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	/* entirely outside RAM */
	set_desc(&f, DESC_GPA, 0, 0x7f0000000ULL, 64, 0, 0);
	offer(&f, 0);
	expect_error(&f, VQ_E_RANGE);
	/* starts inside, ends outside */
	set_desc(&f, DESC_GPA, 0, MEM_SIZE - 16, 64, 0, 0);
	expect_error(&f, VQ_E_RANGE);
	/* wraps around the address space */
	set_desc(&f, DESC_GPA, 0, UINT64_MAX - 8, 64, 0, 0);
	expect_error(&f, VQ_E_RANGE);
	/* spans two regions that are not contiguous */
	set_desc(&f, DESC_GPA, 0, HUGE_GPA - 8, 64, 0, 0);
	expect_error(&f, VQ_E_RANGE);
	fake_free(&f);
}

static void bad_indexes(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	set_desc(&f, DESC_GPA, 0, BUF_GPA, 64, VRING_DESC_F_NEXT, 8); /* next == size */
	offer(&f, 0);
	expect_error(&f, VQ_E_NEXT);
	fake_free(&f);

	fake_init(&f, 8);
	offer(&f, 8); /* head == size */
	expect_error(&f, VQ_E_HEAD);
	fake_free(&f);

	fake_init(&f, 8);
	uint16_t idx = 9; /* more than a queue ahead of what we consumed */
	memcpy(f.ram + AVAIL_GPA + 2, &idx, 2);
	expect_error(&f, VQ_E_AVAIL_IDX);
	fake_free(&f);
}

static void zero_length(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	set_desc(&f, DESC_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&f, DESC_GPA, 1, BUF_GPA, 0, VRING_DESC_F_WRITE, 0);
	offer(&f, 0);
	expect_error(&f, VQ_E_ZERO_LEN);
	fake_free(&f);
}

static void wrong_direction(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	set_desc(&f, DESC_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(&f, DESC_GPA, 1, BUF_GPA, 16, 0, 0); /* readable after writable */
	offer(&f, 0);
	expect_error(&f, VQ_E_ORDER);
	fake_free(&f);
}

static void too_long_indirect(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	/* 9 linear descriptors in an indirect table of a queue of 8 */
	for (unsigned i = 0; i < 9; i++)
		set_desc(&f, ITAB_GPA, i, BUF_GPA, 8, i < 8 ? VRING_DESC_F_NEXT : 0,
		         (uint16_t)(i + 1));
	set_desc(&f, DESC_GPA, 0, ITAB_GPA, 9 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(&f, 0);
	expect_error(&f, VQ_E_TOO_LONG);
	/* exactly 8 is fine */
	set_desc(&f, ITAB_GPA, 7, BUF_GPA, 8, 0, 0);
	assert_int_equal(pop(&f), 1);
	assert_int_equal(chain.nout, 8);
	assert_int_equal(chain.out_len, 64);
	fake_free(&f);
}

static void indirect_rules(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	set_desc(&f, ITAB_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&f, ITAB_GPA, 1, BUF_GPA + 64, 32, VRING_DESC_F_WRITE, 0);
	/* well formed */
	set_desc(&f, DESC_GPA, 0, ITAB_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	offer(&f, 0);
	assert_int_equal(pop(&f), 1);
	assert_int_equal(chain.nout, 1);
	assert_int_equal(chain.nin, 1);
	assert_int_equal(chain.in_len, 32);
	/* INDIRECT together with NEXT */
	set_desc(&f, DESC_GPA, 1, ITAB_GPA, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 2);
	offer(&f, 1);
	expect_error(&f, VQ_E_INDIRECT);
	/* table length not a multiple of 16 */
	set_desc(&f, DESC_GPA, 1, ITAB_GPA, 24, VRING_DESC_F_INDIRECT, 0);
	expect_error(&f, VQ_E_INDIRECT);
	/* zero-length table */
	set_desc(&f, DESC_GPA, 1, ITAB_GPA, 0, VRING_DESC_F_INDIRECT, 0);
	expect_error(&f, VQ_E_INDIRECT);
	/* nested indirect */
	set_desc(&f, ITAB_GPA, 0, ITAB_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	set_desc(&f, DESC_GPA, 1, ITAB_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	expect_error(&f, VQ_E_INDIRECT);
	/* table outside RAM */
	set_desc(&f, DESC_GPA, 1, MEM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	expect_error(&f, VQ_E_RANGE);
	/* indirect next index beyond the table */
	set_desc(&f, ITAB_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 2);
	set_desc(&f, DESC_GPA, 1, ITAB_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	expect_error(&f, VQ_E_NEXT);
	/* not negotiated */
	f.q.s.indirect = 0;
	set_desc(&f, ITAB_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	expect_error(&f, VQ_E_INDIRECT);
	fake_free(&f);
}

static void length_overflow(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	/* two 3 GiB buffers: each valid, together more than 32 bits */
	set_desc(&f, DESC_GPA, 0, HUGE_GPA, 0xc0000000u, VRING_DESC_F_NEXT, 1);
	set_desc(&f, DESC_GPA, 1, HUGE_GPA, 0xc0000000u, 0, 0);
	offer(&f, 0);
	expect_error(&f, VQ_E_TOTAL);
	fake_free(&f);
}

static void bad_rings(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	f.q.s.desc = DESC_GPA + 8; /* misaligned */
	assert_int_equal(vq_activate(&f.q), -1);
	assert_int_equal(f.q.last_error, VQ_E_RING);
	assert_int_equal(f.q.s.ready, 0);
	assert_int_equal(pop(&f), 0); /* a queue that is not ready yields nothing */
	f.q.s.desc = MEM_SIZE - 64;   /* ring runs off the end of RAM */
	assert_int_equal(vq_activate(&f.q), -1);
	f.q.s.desc = DESC_GPA;
	f.q.s.size = 12; /* not a power of two */
	assert_int_equal(vq_activate(&f.q), -1);
	f.q.s.size = 8;
	assert_int_equal(vq_activate(&f.q), 0);
	fake_free(&f);
}

static void event_idx(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 8);
	f.q.s.event_idx = 1;
	for (unsigned i = 0; i < 4; i++) {
		set_desc(&f, DESC_GPA, i, BUF_GPA, 8, VRING_DESC_F_WRITE, 0);
		offer(&f, (uint16_t)i);
	}
	/* used_event = 2: the driver wants an interrupt once used idx passes 2 */
	uint16_t ue = 2;
	memcpy(f.ram + AVAIL_GPA + 4 + 2 * 8, &ue, 2);
	assert_int_equal(pop(&f), 1);
	vq_push(&f.q, chain.head, 8);
	assert_int_equal(vq_should_notify(&f.q), 1); /* first time always */
	assert_int_equal(pop(&f), 1);
	vq_push(&f.q, chain.head, 8);
	assert_int_equal(vq_should_notify(&f.q), 0); /* used idx 2: not past 2 yet */
	assert_int_equal(pop(&f), 1);
	vq_push(&f.q, chain.head, 8);
	assert_int_equal(vq_should_notify(&f.q), 1); /* used idx 3 passed 2 */
	/* avail_event is what we consumed so far */
	assert_int_equal(pop(&f), 1);
	assert_int_equal(vq_enable_kick(&f.q), 0);
	uint16_t ae;
	memcpy(&ae, f.ram + USED_GPA + 4 + 8 * 8, 2);
	assert_int_equal(ae, 4);
	offer(&f, 0);
	assert_int_equal(vq_enable_kick(&f.q), 1); /* a buffer arrived meanwhile */
	/* without EVENT_IDX the NO_INTERRUPT flag decides */
	f.q.s.event_idx = 0;
	uint16_t flags = 1;
	memcpy(f.ram + AVAIL_GPA, &flags, 2);
	assert_int_equal(vq_should_notify(&f.q), 0);
	flags = 0;
	memcpy(f.ram + AVAIL_GPA, &flags, 2);
	assert_int_equal(vq_should_notify(&f.q), 1);
	fake_free(&f);
}

static void wraparound(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 4);
	set_desc(&f, DESC_GPA, 0, BUF_GPA, 8, 0, 0);
	/* 70000 chains through a 4-entry queue: 16-bit indexes wrap */
	for (unsigned i = 0; i < 70000; i++) {
		offer(&f, 0);
		assert_int_equal(pop(&f), 1);
		vq_push(&f.q, 0, 0);
	}
	assert_int_equal(used_idx(&f), (uint16_t)70000);
	assert_int_equal(pop(&f), 0);
	fake_free(&f);
}

/* Random descriptor tables, rings and indirect tables: every pop either
 * yields a chain whose buffers all lie in guest RAM, in order, or fails. */
static void random_garbage(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 16);
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	int chains = 0, errors = 0;
	for (int round = 0; round < 20000; round++) {
		/* rewrite descriptors with a mix of plausible and absurd values */
		for (unsigned i = 0; i < 16; i++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			uint64_t r = s;
			uint64_t addr = (r & 3) == 0   ? r
			                : (r & 3) == 1 ? HUGE_GPA + (r >> 40)
			                               : (r >> 44) % MEM_SIZE;
			uint32_t len = (r >> 8) & 1 ? (uint32_t)(r >> 16) : (uint32_t)(r >> 52);
			uint16_t flags = (uint16_t)((r >> 24) & 7);
			uint16_t next = (uint16_t)((r >> 32) % 20);
			set_desc(&f, DESC_GPA, i, addr, len, flags, next);
			set_desc(&f, ITAB_GPA, i, (r >> 40) % MEM_SIZE, (uint32_t)(r >> 50),
			         (uint16_t)((r >> 28) & 3), (uint16_t)((r >> 36) % 18));
		}
		uint16_t head = (uint16_t)((s >> 48) % 18);
		offer(&f, head);
		int r = pop(&f);
		if (r == 1) {
			chains++;
			assert_true(chain.nout + chain.nin >= 1 && chain.nout + chain.nin <= 16);
			for (unsigned i = 0; i < chain.nout + chain.nin; i++) {
				uint8_t *p = chain.iov[i].iov_base;
				int in_ram =
				    p >= f.ram && p + chain.iov[i].iov_len <= f.ram + MEM_SIZE;
				int in_huge =
				    p >= (uint8_t *)f.huge &&
				    p + chain.iov[i].iov_len <= (uint8_t *)f.huge + HUGE_SIZE;
				assert_true(in_ram || in_huge);
				assert_true(chain.iov[i].iov_len > 0);
			}
			vq_push(&f.q, chain.head, 0);
		} else {
			assert_int_equal(r, -1);
			errors++;
			/* withdraw the bad entry so the next round starts clean */
			memcpy(f.ram + AVAIL_GPA + 2, &f.q.s.last_avail, 2);
		}
	}
	test_measured("random rings: %d chains accepted, %d rejected", chains, errors);
	assert_true(chains > 0 && errors > 0);
	fake_free(&f);
}

/* Pages the device reported written (the dirty-page log's view). */
static uint8_t noted[MEM_SIZE / 4096];

static void note(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	for (uint64_t p = gpa / 4096; len && p <= (gpa + len - 1) / 4096 && p < MEM_SIZE / 4096;
	     p++)
		noted[p] = 1;
}

static int noted_at(uint64_t gpa)
{
	return noted[gpa / 4096];
}

/* A live migration may collect the dirty-page log while a request is in
 * flight (after the pop, before the data lands): returning the chain
 * reports its device-writable buffers and the used ring written again, so
 * the next round sends them; the readable parts and the driver's rings are
 * not reported. */
static void writes_noted_on_push(void **state)
{
	(void)state;
	struct fake f;
	fake_init(&f, 16);
	f.gm.on_write = note;
	f.q.s.event_idx = 1;
	/* header, 4 KiB data (through an indirect table), status byte */
	set_desc(&f, DESC_GPA, 3, BUF_GPA, 16, VRING_DESC_F_NEXT, 4);
	set_desc(&f, DESC_GPA, 4, ITAB_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	set_desc(&f, ITAB_GPA, 0, BUF_GPA + 0x2000, 4096, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
	         1);
	set_desc(&f, ITAB_GPA, 1, BUF_GPA + 0x5000, 1, VRING_DESC_F_WRITE, 0);
	offer(&f, 3);
	assert_int_equal(pop(&f), 1);
	/* the log is collected here, with the request in flight */
	memset(noted, 0, sizeof(noted));
	memset(f.ram + BUF_GPA + 0x2000, 0x5a, 4096);
	f.ram[BUF_GPA + 0x5000] = 0;
	vq_push(&f.q, chain.head, 4097);
	assert_int_equal(used_idx(&f), 1);
	assert_true(noted_at(BUF_GPA + 0x2000));
	assert_true(noted_at(BUF_GPA + 0x5000));
	assert_true(noted_at(USED_GPA));
	assert_false(noted_at(BUF_GPA));
	assert_false(noted_at(DESC_GPA));
	assert_false(noted_at(AVAIL_GPA));
	assert_false(noted_at(ITAB_GPA));
	/* the device's request for a kick is in the used ring too */
	memset(noted, 0, sizeof(noted));
	assert_int_equal(vq_enable_kick(&f.q), 0);
	assert_true(noted_at(USED_GPA + 4 + 8 * 16));
	/* a chain the driver broke after handing it over: the element is still
	 * returned and the queue keeps no error from the second look */
	offer(&f, 3);
	assert_int_equal(pop(&f), 1);
	set_desc(&f, DESC_GPA, 4, 0x7f000000ULL, 32, VRING_DESC_F_INDIRECT, 0);
	memset(noted, 0, sizeof(noted));
	vq_push(&f.q, chain.head, 1);
	assert_int_equal(used_idx(&f), 2);
	assert_int_equal(f.q.last_error, VQ_OK);
	assert_true(noted_at(USED_GPA));
	fake_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(good_chain),
	    cmocka_unit_test(loop),
	    cmocka_unit_test(self_loop),
	    cmocka_unit_test(out_of_range),
	    cmocka_unit_test(bad_indexes),
	    cmocka_unit_test(zero_length),
	    cmocka_unit_test(wrong_direction),
	    cmocka_unit_test(too_long_indirect),
	    cmocka_unit_test(indirect_rules),
	    cmocka_unit_test(length_overflow),
	    cmocka_unit_test(bad_rings),
	    cmocka_unit_test(event_idx),
	    cmocka_unit_test(wraparound),
	    cmocka_unit_test(random_garbage),
	    cmocka_unit_test(writes_noted_on_push),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
