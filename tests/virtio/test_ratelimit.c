/* SPDX-License-Identifier: Apache-2.0 */
/* Token-bucket math with an explicit clock. */
#include "common/testutil.h"

#include "devices/virtio/ratelimit.h"

#define MS 1000000ULL
#define S  1000000000ULL

static void bucket_basics(void **state)
{
	(void)state;
	struct token_bucket b;
	tb_init(&b, 1000, 100, 0); /* 1000/s, burst 100, starts full */
	for (int i = 0; i < 100; i++)
		assert_int_equal(tb_take(&b, 1, 0), 1);
	assert_int_equal(tb_take(&b, 1, 0), 0);
	/* 1 token per ms */
	assert_int_equal(tb_wait_ns(&b, 1, 0), 1 * MS);
	assert_int_equal(tb_wait_ns(&b, 10, 0), 10 * MS);
	assert_int_equal(tb_take(&b, 1, MS / 2), 0);
	assert_int_equal(tb_wait_ns(&b, 1, MS / 2), MS / 2);
	assert_int_equal(tb_take(&b, 1, MS), 1);
	/* after a long idle time the bucket holds no more than the burst */
	assert_int_equal(tb_take(&b, 100, 10 * S), 1);
	assert_int_equal(tb_take(&b, 1, 10 * S), 0);
}

static void rate_over_time(void **state)
{
	(void)state;
	struct token_bucket b;
	tb_init(&b, 250, 10, 0);
	/* take one token whenever allowed for 4 simulated seconds, in 100 us steps */
	uint64_t taken = 0;
	for (uint64_t t = 0; t <= 4 * S; t += 100000)
		while (tb_take(&b, 1, t))
			taken++;
	/* burst + rate * time, give or take one */
	assert_true(taken >= 10 + 1000 - 1 && taken <= 10 + 1000 + 1);
	/* fractional accrual is not lost: 3 tokens at 1/s over 3 s in odd steps */
	tb_init(&b, 1, 1, 0);
	assert_int_equal(tb_take(&b, 1, 0), 1);
	uint64_t got = 0;
	for (uint64_t t = 0; t <= 3 * S; t += 333333333)
		got += (uint64_t)tb_take(&b, 1, t);
	assert_int_equal(got, 2); /* at 1 s and 2 s (3 s is 3*333333333+1 ns away) */
}

static void big_requests(void **state)
{
	(void)state;
	struct token_bucket b;
	tb_init(&b, 1000, 100, 0);
	/* larger than the bucket: admitted when full, leaving debt */
	assert_int_equal(tb_take(&b, 1000, 0), 1);
	assert_int_equal(tb_take(&b, 1, 0), 0);
	/* debt of 900 plus 1: 901 ms */
	assert_int_equal(tb_wait_ns(&b, 1, 0), 901 * MS);
	assert_int_equal(tb_take(&b, 1, 900 * MS), 0);
	assert_int_equal(tb_take(&b, 1, 901 * MS), 1);
	/* absurd sizes do not overflow */
	tb_init(&b, UINT64_MAX, 0, 0);
	assert_int_equal(tb_take(&b, UINT64_MAX, 0), 1);
	assert_true(tb_wait_ns(&b, UINT64_MAX, 0) < 10 * S);
}

static void limiter(void **state)
{
	(void)state;
	struct rate_limiter r;
	tb_init(&r.bytes, 0, 0, 0); /* bytes unlimited */
	tb_init(&r.ops, 0, 0, 0);
	assert_false(rl_enabled(&r));
	uint64_t w;
	assert_int_equal(rl_admit(&r, 1 << 30, 0, &w), 1);
	tb_init(&r.bytes, 1 << 20, 1 << 20, 0); /* 1 MiB/s */
	tb_init(&r.ops, 100, 5, 0);             /* 100 ops/s, burst 5 */
	assert_true(rl_enabled(&r));
	for (int i = 0; i < 5; i++)
		assert_int_equal(rl_admit(&r, 4096, 0, &w), 1);
	/* ops bucket empty: 10 ms; the bytes bucket must not have been charged */
	assert_int_equal(rl_admit(&r, 4096, 0, &w), 0);
	assert_int_equal(w, 10 * MS);
	assert_int_equal(r.bytes.tokens, (1 << 20) - 5 * 4096);
	/* bytes now the limit: a 1 MiB request waits until the bucket is full again:
	 * 20480 bytes were taken, 10 ms gave back 10485, 9995 more take ~9.5 ms */
	assert_int_equal(rl_admit(&r, 1 << 20, 10 * MS, &w), 0);
	assert_true(w > 9 * MS && w < 10 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bucket_basics),
	    cmocka_unit_test(rate_over_time),
	    cmocka_unit_test(big_requests),
	    cmocka_unit_test(limiter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
