/* SPDX-License-Identifier: Apache-2.0 */
/* The control API's logger and metrics (PUT /logger, PUT /metrics): text
 * log lines and one JSON object of counters a line, each written to a file
 * or FIFO opened for append. Before they are configured nothing is written
 * but the counters still run. Thread-safe. */
#ifndef CAPSA_VM_API_TELEMETRY_H
#define CAPSA_VM_API_TELEMETRY_H

#include "lib/err.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

struct json_object;

enum vm_api_level {
	VM_API_LOG_OFF,
	VM_API_LOG_ERROR,
	VM_API_LOG_WARNING,
	VM_API_LOG_INFO,
	VM_API_LOG_DEBUG,
	VM_API_LOG_TRACE,
};

/* The VM lifecycle events that are logged and counted. */
enum vm_api_event {
	VM_API_EV_STARTED,
	VM_API_EV_RESTORED,
	VM_API_EV_PAUSED,
	VM_API_EV_RESUMED,
	VM_API_EV_SNAPSHOT,
	VM_API_EV_EXITED,
	VM_API_EV_COUNT
};

#define VM_API_TEL_ROUTES        128
#define VM_API_METRICS_PERIOD_MS 60000

struct vm_api_tel_route {
	char method[8];
	char name[32];
	uint64_t count, fails;
};

struct vm_api_tel {
	pthread_mutex_t lock;
	int log_fd, metrics_fd; /* -1 until configured */
	enum vm_api_level level;
	int show_level, show_origin;
	struct timespec start; /* CLOCK_MONOTONIC */
	uint64_t period_ms;    /* between metrics lines: VM_API_METRICS_PERIOD_MS */
	uint64_t next_flush_ms;
	uint64_t requests, fails, lines, lines_dropped, flushes;
	uint64_t events[VM_API_EV_COUNT];
	unsigned nroutes;
	struct vm_api_tel_route routes[VM_API_TEL_ROUTES];
	/* adds counters kept elsewhere to a metrics line (lock held), or NULL */
	void (*more)(void *ctx, struct json_object *o);
	void *more_ctx;
};

void vm_api_tel_init(struct vm_api_tel *t);
/* Write nothing more and close the files. */
void vm_api_tel_destroy(struct vm_api_tel *t);

/* PUT /logger: `level` a Firecracker level name (any case) or NULL for
 * Info. ERR_INPUT when configured already, for a bad level or a path that
 * cannot be opened (a FIFO needs its reader first). */
int vm_api_tel_set_logger(struct vm_api_tel *t, const char *path, const char *level, int show_level,
                          int show_origin, struct err *e);
/* PUT /metrics: from now on a line every period_ms. */
int vm_api_tel_set_metrics(struct vm_api_tel *t, const char *path, struct err *e);
int vm_api_tel_metrics_on(struct vm_api_tel *t);

/* One log line at `level`; `origin` names the part of capsa it comes from. */
void vm_api_tel_log(struct vm_api_tel *t, enum vm_api_level level, const char *origin,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* One answered request: counted under method and `route` (the route's
 * path, e.g. "/drives/"), logged with the client's path (plen bytes). */
void vm_api_tel_request(struct vm_api_tel *t, const char *method, const char *route,
                        const char *path, size_t plen, int status);
/* A lifecycle event: counted and logged with `detail` (may be NULL). */
void vm_api_tel_event(struct vm_api_tel *t, enum vm_api_event ev, const char *detail);

/* Write the metrics line now (FlushMetrics). ERR_INPUT if not configured. */
int vm_api_tel_flush(struct vm_api_tel *t, struct err *e);
/* Milliseconds until the next periodic line (-1: none due), and writing
 * it when its time has come. */
int vm_api_tel_due_ms(struct vm_api_tel *t);
void vm_api_tel_tick(struct vm_api_tel *t);

#endif
