/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/virtio/ratelimit.h"

#include "lib/clock.h"

#define NS 1000000000ULL

static void refill(struct token_bucket *b, uint64_t now)
{
	if (now <= b->last_ns)
		return;
	uint64_t dt = now - b->last_ns;
	/* whole tokens earned; the remainder of time is kept for later */
	unsigned __int128 earned = (unsigned __int128)dt * b->rate / NS;
	if (earned == 0)
		return;
	uint64_t used_ns = (uint64_t)(earned * NS / b->rate);
	b->last_ns += used_ns;
	int64_t room = (int64_t)b->burst - b->tokens;
	b->tokens =
	    earned >= (unsigned __int128)room ? (int64_t)b->burst : b->tokens + (int64_t)earned;
	if (b->tokens == (int64_t)b->burst)
		b->last_ns = now;
}

void tb_init(struct token_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	if (burst == 0)
		burst = rate;
	if (burst > (uint64_t)INT64_MAX / 2)
		burst = (uint64_t)INT64_MAX / 2;
	b->rate = rate;
	b->burst = burst ? burst : 1;
	b->tokens = (int64_t)b->burst;
	b->last_ns = now_ns;
}

static int64_t need(const struct token_bucket *b, uint64_t n)
{
	/* a request bigger than the bucket only needs a full bucket */
	return n > b->burst ? (int64_t)b->burst : (int64_t)n;
}

int tb_take(struct token_bucket *b, uint64_t n, uint64_t now_ns)
{
	if (!b->rate)
		return 1;
	refill(b, now_ns);
	if (b->tokens < need(b, n))
		return 0;
	if (n > (uint64_t)INT64_MAX / 2)
		n = (uint64_t)INT64_MAX / 2;
	b->tokens -= (int64_t)n;
	return 1;
}

uint64_t tb_wait_ns(struct token_bucket *b, uint64_t n, uint64_t now_ns)
{
	if (!b->rate)
		return 0;
	refill(b, now_ns);
	int64_t missing = need(b, n) - b->tokens;
	if (missing <= 0)
		return 0;
	/* time for `missing` tokens, rounded up, minus time already accrued */
	unsigned __int128 t = ((unsigned __int128)missing * NS + b->rate - 1) / b->rate;
	uint64_t accrued = now_ns > b->last_ns ? now_ns - b->last_ns : 0;
	return t > accrued ? (uint64_t)(t - accrued) : 1;
}

int rl_enabled(const struct rate_limiter *r)
{
	return r->bytes.rate || r->ops.rate;
}

int rl_admit(struct rate_limiter *r, uint64_t bytes, uint64_t now_ns, uint64_t *wait_ns)
{
	uint64_t wb = tb_wait_ns(&r->bytes, bytes, now_ns);
	uint64_t wo = tb_wait_ns(&r->ops, 1, now_ns);
	if (wb || wo) {
		*wait_ns = wb > wo ? wb : wo;
		return 0;
	}
	tb_take(&r->bytes, bytes, now_ns);
	tb_take(&r->ops, 1, now_ns);
	*wait_ns = 0;
	return 1;
}

uint64_t rl_now_ns(void)
{
	return clock_mono_ns();
}
