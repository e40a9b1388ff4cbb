/* SPDX-License-Identifier: Apache-2.0 */
/* Token-bucket rate limiting for device requests: one bucket for bytes and
 * one for operations, each with a rate per second and a burst size. A request
 * larger than the burst is admitted when the bucket is full and leaves it in
 * debt, so no size of request can stall forever. Times are in nanoseconds of
 * CLOCK_MONOTONIC, passed in (the math is testable without a clock). */
#ifndef CAPSA_DEVICES_VIRTIO_RATELIMIT_H
#define CAPSA_DEVICES_VIRTIO_RATELIMIT_H

#include <stdint.h>

struct token_bucket {
	uint64_t rate;  /* tokens per second; 0 = unlimited */
	uint64_t burst; /* bucket size */
	int64_t tokens; /* may be negative (debt) */
	uint64_t last_ns;
};

struct rate_limiter {
	struct token_bucket bytes, ops;
};

/* burst 0 means one second's worth of rate. The bucket starts full. */
void tb_init(struct token_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* Take n tokens if the bucket allows it: 1 taken, 0 not (nothing changed). */
int tb_take(struct token_bucket *b, uint64_t n, uint64_t now_ns);
/* Nanoseconds until tb_take(b, n) would succeed (0 if it would now). */
uint64_t tb_wait_ns(struct token_bucket *b, uint64_t n, uint64_t now_ns);

/* Both buckets at once: 1 admitted (tokens taken from both), 0 with *wait_ns set. */
int rl_admit(struct rate_limiter *r, uint64_t bytes, uint64_t now_ns, uint64_t *wait_ns);
int rl_enabled(const struct rate_limiter *r);
uint64_t rl_now_ns(void);

#endif
