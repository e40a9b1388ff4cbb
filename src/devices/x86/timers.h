/* SPDX-License-Identifier: Apache-2.0 */
/* One thread per VM that fires device timers at host CLOCK_MONOTONIC
 * deadlines: the local APICs' timers and the PIT's channel 0 under the
 * software CPU. The timers fire asynchronously because a vCPU may be halted
 * (waiting for exactly this interrupt) or run guest code for a long time
 * without any exit in which it could poll deadlines.
 *
 * Ownership: a device embeds a `struct dev_timer` and initialises it with
 * dev_timer_init against the VM's `struct dev_timers`. The set of armed
 * timers is a list sorted by deadline (a VM has a handful: one per vCPU
 * plus the PIT), guarded by the set's mutex; the thread sleeps on a
 * condition variable (CLOCK_MONOTONIC) until the earliest deadline or until
 * an arm moves that deadline earlier.
 *
 * Locking: dev_timer_arm/dev_timer_cancel may be called with the device's
 * own lock held (the set's mutex is a leaf lock). `fire` is called on the
 * timer thread with no lock of this module held; it typically takes the
 * device's lock, so it must check the device's own state to see whether
 * the expiry is still wanted: a guest may have re-programmed the timer
 * between the expiry and the callback. A timer is unarmed when `fire` runs;
 * the callback re-arms it for periodic modes.
 *
 * Teardown: dev_timers_stop joins the thread (it waits for a running
 * callback); destroy devices only after it. */
#ifndef CAPSA_DEVICES_X86_TIMERS_H
#define CAPSA_DEVICES_X86_TIMERS_H

#include "lib/err.h"

#include <pthread.h>
#include <stdint.h>

struct dev_timers;

struct dev_timer {
	struct dev_timers *set;
	void (*fire)(void *ctx, int64_t now_ns);
	void *ctx;
	int64_t deadline; /* host CLOCK_MONOTONIC ns while armed */
	int armed;        /* guarded by set->lock */
	struct dev_timer *next;
};

struct dev_timers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	struct dev_timer *head; /* armed timers, earliest first */
	int started, stop;
	uint64_t fired; /* callbacks run so far (statistics, tests) */
};

/* Prepares the set; no thread yet, so timers may be armed before start. */
int dev_timers_init(struct dev_timers *t, struct err *e);
int dev_timers_start(struct dev_timers *t, struct err *e);
/* Stops and joins the thread (idempotent); armed timers stay armed. */
void dev_timers_stop(struct dev_timers *t);
/* Stops the thread if running and frees the set's resources. */
void dev_timers_destroy(struct dev_timers *t);

void dev_timer_init(struct dev_timer *tm, struct dev_timers *set,
                    void (*fire)(void *ctx, int64_t now_ns), void *ctx);
/* Arms (or re-arms) the timer for `deadline_ns`; a deadline in the past
 * fires as soon as the thread runs. */
void dev_timer_arm(struct dev_timer *tm, int64_t deadline_ns);
void dev_timer_cancel(struct dev_timer *tm);
int dev_timer_armed(struct dev_timer *tm);

#endif
