/* SPDX-License-Identifier: Apache-2.0 */
/* The device timer thread: order, re-arming, cancelling, stopping. */
#include "common/testutil.h"
#include "devices/x86/clock.h"
#include "devices/x86/timers.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 64

struct probe {
	struct dev_timer tm;
	int64_t deadline;
	int64_t fired_at;
	int fired;
	int order;
};

static int next_order;

static void on_fire(void *ctx, int64_t now)
{
	struct probe *p = ctx;
	p->fired_at = x86_clock_host_ns();
	assert_true(now >= p->deadline);
	p->order = __atomic_fetch_add(&next_order, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&p->fired, 1, __ATOMIC_SEQ_CST);
}

static void wait_fired(struct probe *p, int n, int64_t limit_ns)
{
	int64_t t0 = x86_clock_host_ns();
	while (__atomic_load_n(&p->fired, __ATOMIC_SEQ_CST) < n &&
	       x86_clock_host_ns() - t0 < limit_ns)
		usleep(500);
}

static void test_many_in_order(void **state)
{
	(void)state;
	struct dev_timers t;
	struct err e;
	assert_int_equal(dev_timers_init(&t, &e), 0);
	static struct probe p[N];
	memset(p, 0, sizeof(p));
	next_order = 0;
	int64_t now = x86_clock_host_ns();
	srand(1);
	/* distinct deadlines 1..64 ms ahead in a shuffled order */
	int perm[N];
	for (int i = 0; i < N; i++)
		perm[i] = i;
	for (int i = N - 1; i > 0; i--) {
		int j = rand() % (i + 1), x = perm[i];
		perm[i] = perm[j];
		perm[j] = x;
	}
	/* armed before the thread starts, then it picks them all up */
	for (int i = 0; i < N; i++) {
		dev_timer_init(&p[i].tm, &t, on_fire, &p[i]);
		p[i].deadline = now + 1000000 * (int64_t)(perm[i] + 1);
		dev_timer_arm(&p[i].tm, p[i].deadline);
	}
	assert_int_equal(dev_timers_start(&t, &e), 0);
	for (int i = 0; i < N; i++)
		wait_fired(&p[i], 1, 2000000000);
	for (int i = 0; i < N; i++) {
		assert_int_equal(p[i].fired, 1);
		assert_int_equal(p[i].order, perm[i]); /* earliest first */
		assert_true(p[i].fired_at >= p[i].deadline);
		assert_false(dev_timer_armed(&p[i].tm));
	}
	assert_int_equal(t.fired, N);
	dev_timers_destroy(&t);
}

static void test_rearm_and_cancel(void **state)
{
	(void)state;
	struct dev_timers t;
	struct err e;
	assert_int_equal(dev_timers_init(&t, &e), 0);
	assert_int_equal(dev_timers_start(&t, &e), 0);
	struct probe a = {0}, b = {0};
	dev_timer_init(&a.tm, &t, on_fire, &a);
	dev_timer_init(&b.tm, &t, on_fire, &b);
	int64_t now = x86_clock_host_ns();
	/* the thread sleeps for 10 s; re-arming earlier must wake it */
	a.deadline = now + 10000000000;
	dev_timer_arm(&a.tm, a.deadline);
	usleep(2000);
	a.deadline = x86_clock_host_ns() + 5000000;
	dev_timer_arm(&a.tm, a.deadline);
	wait_fired(&a, 1, 2000000000);
	assert_int_equal(a.fired, 1);
	assert_true(a.fired_at - a.deadline < 500000000);
	/* cancelled timers never fire */
	b.deadline = x86_clock_host_ns() + 3000000;
	dev_timer_arm(&b.tm, b.deadline);
	assert_true(dev_timer_armed(&b.tm));
	dev_timer_cancel(&b.tm);
	assert_false(dev_timer_armed(&b.tm));
	usleep(10000);
	assert_int_equal(b.fired, 0);
	/* a deadline in the past fires at once */
	b.deadline = 0;
	dev_timer_arm(&b.tm, 0);
	wait_fired(&b, 1, 1000000000);
	assert_int_equal(b.fired, 1);
	dev_timers_destroy(&t);
}

static void test_stop_cleanly(void **state)
{
	(void)state;
	struct dev_timers t;
	struct err e;
	assert_int_equal(dev_timers_init(&t, &e), 0);
	assert_int_equal(dev_timers_start(&t, &e), 0);
	struct probe a = {0};
	dev_timer_init(&a.tm, &t, on_fire, &a);
	a.deadline = x86_clock_host_ns() + 30000000;
	dev_timer_arm(&a.tm, a.deadline);
	int64_t t0 = x86_clock_host_ns();
	dev_timers_stop(&t); /* returns at once, not after the deadline */
	assert_true(x86_clock_host_ns() - t0 < 25000000);
	dev_timers_stop(&t); /* idempotent */
	usleep(40000);
	assert_int_equal(a.fired, 0);
	assert_true(dev_timer_armed(&a.tm));
	/* started again, the pending timer fires */
	assert_int_equal(dev_timers_start(&t, &e), 0);
	wait_fired(&a, 1, 1000000000);
	assert_int_equal(a.fired, 1);
	dev_timers_destroy(&t);
	/* destroy without ever starting */
	assert_int_equal(dev_timers_init(&t, &e), 0);
	dev_timers_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_many_in_order),
	    cmocka_unit_test(test_rearm_and_cancel),
	    cmocka_unit_test(test_stop_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
