/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/x86/timers.h"

#include "devices/x86/clock.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int dev_timers_init(struct dev_timers *t, struct err *e)
{
	memset(t, 0, sizeof(*t));
	pthread_condattr_t ca;
	int r = pthread_condattr_init(&ca);
	if (!r)
		r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!r)
		r = pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (r)
		return err_errno(e, r, "creating the timer thread's condition variable");
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

static void unlink_timer(struct dev_timer *tm)
{
	struct dev_timer **p = &tm->set->head;
	while (*p && *p != tm)
		p = &(*p)->next;
	if (*p)
		*p = tm->next;
	tm->next = NULL;
	tm->armed = 0;
}

static void *timer_thread(void *arg)
{
	struct dev_timers *t = arg;
	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct dev_timer *tm = t->head;
		if (!tm) {
			pthread_cond_wait(&t->cond, &t->lock);
			continue;
		}
		int64_t now = x86_clock_host_ns();
		if (now < tm->deadline) {
			struct timespec ts = {tm->deadline / 1000000000, tm->deadline % 1000000000};
			pthread_cond_timedwait(&t->cond, &t->lock, &ts);
			continue;
		}
		unlink_timer(tm);
		t->fired++;
		/* The callback takes device locks, which are held around
		 * dev_timer_arm: call it with ours released. */
		pthread_mutex_unlock(&t->lock);
		tm->fire(tm->ctx, now);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int dev_timers_start(struct dev_timers *t, struct err *e)
{
	pthread_mutex_lock(&t->lock);
	t->stop = 0;
	pthread_mutex_unlock(&t->lock);
	int r = pthread_create(&t->thread, NULL, timer_thread, t);
	if (r)
		return err_errno(e, r, "starting the device timer thread");
	t->started = 1;
	return 0;
}

void dev_timers_stop(struct dev_timers *t)
{
	if (!t->started)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = 1;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	t->started = 0;
}

void dev_timers_destroy(struct dev_timers *t)
{
	dev_timers_stop(t);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
}

void dev_timer_init(struct dev_timer *tm, struct dev_timers *set,
                    void (*fire)(void *ctx, int64_t now_ns), void *ctx)
{
	memset(tm, 0, sizeof(*tm));
	tm->set = set;
	tm->fire = fire;
	tm->ctx = ctx;
}

void dev_timer_arm(struct dev_timer *tm, int64_t deadline_ns)
{
	struct dev_timers *t = tm->set;
	pthread_mutex_lock(&t->lock);
	if (tm->armed)
		unlink_timer(tm);
	tm->deadline = deadline_ns;
	tm->armed = 1;
	struct dev_timer **p = &t->head;
	while (*p && (*p)->deadline <= deadline_ns)
		p = &(*p)->next;
	tm->next = *p;
	*p = tm;
	if (t->head == tm) /* earlier than what the thread sleeps for */
		pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

void dev_timer_cancel(struct dev_timer *tm)
{
	struct dev_timers *t = tm->set;
	pthread_mutex_lock(&t->lock);
	if (tm->armed)
		unlink_timer(tm);
	pthread_mutex_unlock(&t->lock);
}

int dev_timer_armed(struct dev_timer *tm)
{
	pthread_mutex_lock(&tm->set->lock);
	int a = tm->armed;
	pthread_mutex_unlock(&tm->set->lock);
	return a;
}
