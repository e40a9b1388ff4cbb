/* SPDX-License-Identifier: Apache-2.0 */
/* Validation of a module's function bodies at load: one after the other,
 * or, for a large code section while a CPU is idle, on this thread and a
 * helper taking runs of bodies in turn. A body's validation depends on
 * nothing but the module and that body, so the outcome is the same either
 * way: the error reported is the first invalid body's (the lowest index),
 * whichever thread found it. */
#include "wasm/internal.h"

#include "lib/cpu.h"

#include <pthread.h>
#include <stdlib.h>

/* Code bytes from which a helper clearly pays off: starting it and sharing
 * the work costs some 40 us; validating, about 5 us per kilobyte. */
#define VALID_PARALLEL_BYTES (64u << 10)
/* Bodies are taken in runs of about so many bytes. */
#define VALID_RUN_BYTES 2048u

struct vshare {
	struct capsa_wasm_module *m;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	uint32_t next, n; /* next body to take, and the count */
	uint32_t bad;     /* lowest invalid body found, or UINT32_MAX */
	struct err e;     /* its error */
	int busy;         /* the helper is validating a run */
	int refs;         /* the threads using this (the last frees it) */
};

/* Takes the next run of bodies, [*from, *to); 0 when none is left (all
 * taken, or all that may matter: a body after an invalid one). */
static int take(struct vshare *s, uint32_t *from, uint32_t *to)
{
	if (s->next >= s->n || s->next > s->bad)
		return 0;
	uint32_t bytes = 0;
	*from = s->next;
	while (s->next < s->n && bytes < VALID_RUN_BYTES)
		bytes += s->m->code[s->next++].body_len;
	*to = s->next;
	return 1;
}

/* Validates bodies [from, to) up to the first invalid one, which it
 * records if it is the lowest so far. */
static void validate_run(struct vshare *s, uint32_t from, uint32_t to, struct wvalid_keep *keep)
{
	for (uint32_t i = from; i < to; i++) {
		struct err e = {0};
		if (!wasm_validate_func(s->m, i, keep, &e))
			continue;
		pthread_mutex_lock(&s->lock);
		if (i < s->bad) {
			s->bad = i;
			s->e = e;
		}
		pthread_mutex_unlock(&s->lock);
		return;
	}
}

static void release(struct vshare *s)
{
	pthread_mutex_lock(&s->lock);
	int last = --s->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (last) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->idle);
		free(s);
	}
}

/* The helper: takes runs until none is left. Detached; once it is idle
 * with nothing left to take it never touches the module again, so the
 * loading thread returns without waiting for it to end. */
static void *helper(void *arg)
{
	struct vshare *s = arg;
	struct wvalid_keep keep = {0};
	uint32_t from, to;
	pthread_mutex_lock(&s->lock);
	while (take(s, &from, &to)) {
		s->busy = 1;
		pthread_mutex_unlock(&s->lock);
		validate_run(s, from, to, &keep);
		pthread_mutex_lock(&s->lock);
		s->busy = 0;
		pthread_cond_signal(&s->idle);
	}
	pthread_mutex_unlock(&s->lock);
	wasm_validate_done(&keep);
	release(s);
	return NULL;
}

/* A helper pays off: a large code section, and a CPU idle. */
static int want_helper(const struct capsa_wasm_module *m, uint32_t n)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < n && total < VALID_PARALLEL_BYTES; i++)
		total += m->code[i].body_len;
	return n >= 2 && total >= VALID_PARALLEL_BYTES && cpu_idle_now();
}

static struct vshare *start_helper(struct capsa_wasm_module *m, uint32_t n)
{
	struct vshare *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->m = m;
	s->n = n;
	s->bad = UINT32_MAX;
	s->refs = 2;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	pthread_t th;
	pthread_attr_t attr;
	int ok = 0;
	if (!pthread_attr_init(&attr)) {
		ok = !pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) &&
		     !pthread_create(&th, &attr, helper, s);
		pthread_attr_destroy(&attr);
	}
	if (!ok) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->idle);
		free(s);
		return NULL;
	}
	return s;
}

static int validate_serial(struct capsa_wasm_module *m, uint32_t n, struct err *e)
{
	struct wvalid_keep keep = {0};
	int rc = 0;
	for (uint32_t i = 0; i < n && !rc; i++)
		rc = wasm_validate_func(m, i, &keep, e);
	wasm_validate_done(&keep);
	return rc;
}

int wasm_validate_code(struct capsa_wasm_module *m, int threads, struct err *e)
{
	uint32_t n = m->nfuncs - m->nimp_funcs;
	struct vshare *s = NULL;
	if (threads == 2 || (threads == 0 && want_helper(m, n)))
		s = start_helper(m, n);
	if (!s) /* serial, or no thread to be had */
		return validate_serial(m, n, e);
	struct wvalid_keep keep = {0};
	uint32_t from, to;
	pthread_mutex_lock(&s->lock);
	while (take(s, &from, &to)) {
		pthread_mutex_unlock(&s->lock);
		validate_run(s, from, to, &keep);
		pthread_mutex_lock(&s->lock);
	}
	while (s->busy)
		pthread_cond_wait(&s->idle, &s->lock);
	int rc = s->bad == UINT32_MAX ? 0 : -1;
	if (rc)
		*e = s->e;
	pthread_mutex_unlock(&s->lock);
	wasm_validate_done(&keep);
	release(s);
	return rc;
}
