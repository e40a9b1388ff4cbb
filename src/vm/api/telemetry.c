/* SPDX-License-Identifier: Apache-2.0 */
/* See telemetry.h. The files are opened non-blocking: a FIFO whose reader
 * stops reading loses lines (counted) rather than stalling the API thread.
 * Counters are cumulative since the process started. */
#include "vm/api/telemetry.h"

#include "vm/api/body.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *const level_names[] = {"Off", "Error", "Warning", "Info", "Debug", "Trace"};

/* Names in the metrics, and in the log. */
static const char *const event_names[VM_API_EV_COUNT] = {
    "started", "restored", "paused", "resumed", "snapshot_created", "exited",
};
static const char *const event_lines[VM_API_EV_COUNT] = {
    "started", "restored", "paused", "resumed", "snapshot created", "exited",
};

static uint64_t now_ms(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t uptime_ms(const struct vm_api_tel *t)
{
	uint64_t start = (uint64_t)t->start.tv_sec * 1000 + (uint64_t)t->start.tv_nsec / 1000000;
	return now_ms(CLOCK_MONOTONIC) - start;
}

void vm_api_tel_init(struct vm_api_tel *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->log_fd = t->metrics_fd = -1;
	t->level = VM_API_LOG_INFO;
	t->period_ms = VM_API_METRICS_PERIOD_MS;
	clock_gettime(CLOCK_MONOTONIC, &t->start);
}

void vm_api_tel_destroy(struct vm_api_tel *t)
{
	if (t->log_fd >= 0)
		close(t->log_fd);
	if (t->metrics_fd >= 0)
		close(t->metrics_fd);
	t->log_fd = t->metrics_fd = -1;
	pthread_mutex_destroy(&t->lock);
}

/* Open `path` for append into *fd, once: ERR_INPUT naming `what` when it
 * is open already or cannot be opened. Locked. */
static int open_once(int *fd, const char *what, const char *field, const char *path, struct err *e)
{
	if (*fd >= 0)
		return err_set(e, ERR_INPUT, "%s already configured", what);
	if (!*path || strlen(path) >= 4096)
		return err_set(e, ERR_INPUT, "\"%s\" must be a path of 1 to 4095 bytes", field);
	*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
	if (*fd >= 0)
		return 0;
	if (errno == ENXIO)
		err_set(e, ERR_INPUT, "\"%s\": the FIFO %s has no reader", field, path);
	else
		err_sys(e, "\"%s\": cannot open %s", field, path);
	e->kind = ERR_INPUT;
	return -1;
}

int vm_api_tel_set_logger(struct vm_api_tel *t, const char *path, const char *level, int show_level,
                          int show_origin, struct err *e)
{
	int lv = VM_API_LOG_INFO;
	if (level) {
		for (lv = 0; lv <= VM_API_LOG_TRACE && strcasecmp(level, level_names[lv]); lv++)
			;
		if (lv > VM_API_LOG_TRACE)
			return err_set(e, ERR_INPUT,
			               "\"level\" must be \"Error\", \"Warning\", \"Info\", "
			               "\"Debug\", \"Trace\" or \"Off\"");
	}
	pthread_mutex_lock(&t->lock);
	int rc = open_once(&t->log_fd, "the logger is", "log_path", path, e);
	if (!rc) {
		t->level = (enum vm_api_level)lv;
		t->show_level = show_level;
		t->show_origin = show_origin;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int vm_api_tel_set_metrics(struct vm_api_tel *t, const char *path, struct err *e)
{
	pthread_mutex_lock(&t->lock);
	int rc = open_once(&t->metrics_fd, "the metrics are", "metrics_path", path, e);
	if (!rc)
		t->next_flush_ms = uptime_ms(t) + t->period_ms;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int vm_api_tel_metrics_on(struct vm_api_tel *t)
{
	pthread_mutex_lock(&t->lock);
	int on = t->metrics_fd >= 0;
	pthread_mutex_unlock(&t->lock);
	return on;
}

/* One whole line: 0, or -1 when it could not go (a full FIFO). */
static int put_line(int fd, const char *s, size_t n)
{
	ssize_t w;
	do
		w = write(fd, s, n);
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)n ? 0 : -1;
}

static void log_locked(struct vm_api_tel *t, enum vm_api_level level, const char *origin,
                       const char *msg)
{
	if (t->log_fd < 0 || level > t->level || level == VM_API_LOG_OFF)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char line[1024];
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ [capsa]",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, ts.tv_nsec / 1000000);
	if (t->show_level)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " [%s]", level_names[level]);
	if (t->show_origin)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " [%s]", origin);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", msg);
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (put_line(t->log_fd, line, (size_t)n))
		t->lines_dropped++;
	else
		t->lines++;
}

void vm_api_tel_log(struct vm_api_tel *t, enum vm_api_level level, const char *origin,
                    const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&t->lock);
	log_locked(t, level, origin, msg);
	pthread_mutex_unlock(&t->lock);
}

/* "/drives/" -> "drives", "/snapshot/create" -> "snapshot_create", "/" -> "root". */
static void route_key(const char *path, char *dst, size_t cap)
{
	size_t n = 0;
	for (const char *p = path + (*path == '/'); *p && n + 1 < cap; p++)
		dst[n++] = *p == '-' || *p == '/' ? '_' : *p;
	while (n && dst[n - 1] == '_')
		n--;
	dst[n] = '\0';
	if (!n)
		snprintf(dst, cap, "root");
}

static struct vm_api_tel_route *route_slot(struct vm_api_tel *t, const char *method,
                                           const char *key)
{
	for (unsigned i = 0; i < t->nroutes; i++)
		if (!strcmp(t->routes[i].method, method) && !strcmp(t->routes[i].name, key))
			return &t->routes[i];
	if (t->nroutes == VM_API_TEL_ROUTES)
		return NULL;
	struct vm_api_tel_route *r = &t->routes[t->nroutes++];
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->name, sizeof(r->name), "%s", key);
	return r;
}

void vm_api_tel_request(struct vm_api_tel *t, const char *method, const char *route,
                        const char *path, size_t plen, int status)
{
	static const char *const known[] = {"GET", "PUT", "PATCH"};
	const char *m = "other";
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(method, known[i]))
			m = known[i];
	char key[32], shown[128];
	route_key(route, key, sizeof(key));
	/* the client's path as it came, printable characters only */
	size_t n = 0;
	for (size_t i = 0; i < plen && n + 1 < sizeof(shown); i++)
		shown[n++] = path[i] > ' ' && path[i] < 127 ? path[i] : '?';
	shown[n] = '\0';
	pthread_mutex_lock(&t->lock);
	t->requests++;
	t->fails += status >= 400;
	struct vm_api_tel_route *r = route_slot(t, m, key);
	if (r) {
		r->count++;
		r->fails += status >= 400;
	}
	char msg[256];
	snprintf(msg, sizeof(msg), "API request %s %s: %d", m, shown, status);
	log_locked(t, status >= 400 ? VM_API_LOG_WARNING : VM_API_LOG_INFO, "api", msg);
	pthread_mutex_unlock(&t->lock);
}

void vm_api_tel_event(struct vm_api_tel *t, enum vm_api_event ev, const char *detail)
{
	if ((unsigned)ev >= VM_API_EV_COUNT)
		return;
	char msg[640];
	snprintf(msg, sizeof(msg), "VM %s%s%s", event_lines[ev], detail ? ": " : "",
	         detail ? detail : "");
	pthread_mutex_lock(&t->lock);
	t->events[ev]++;
	log_locked(t, VM_API_LOG_INFO, "vm", msg);
	pthread_mutex_unlock(&t->lock);
}

/* The metrics line; locked. */
static json_object *metrics_json(struct vm_api_tel *t)
{
	json_object *o = json_object_new_object();
	api_add_u64(o, "utc_timestamp_ms", now_ms(CLOCK_REALTIME));
	api_add_u64(o, "uptime_ms", uptime_ms(t));
	json_object *api = json_object_new_object();
	api_add_u64(api, "requests", t->requests);
	api_add_u64(api, "fails", t->fails);
	json_object_object_add(o, "api_server", api);
	static const char *const groups[][2] = {{"GET", "get_api_requests"},
	                                        {"PUT", "put_api_requests"},
	                                        {"PATCH", "patch_api_requests"},
	                                        {"other", "other_api_requests"}};
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		json_object *grp = json_object_new_object();
		for (unsigned i = 0; i < t->nroutes; i++) {
			const struct vm_api_tel_route *r = &t->routes[i];
			if (strcmp(r->method, groups[g][0]))
				continue;
			char k[48];
			snprintf(k, sizeof(k), "%s_count", r->name);
			api_add_u64(grp, k, r->count);
			snprintf(k, sizeof(k), "%s_fails", r->name);
			api_add_u64(grp, k, r->fails);
		}
		json_object_object_add(o, groups[g][1], grp);
	}
	json_object *vm = json_object_new_object();
	for (int i = 0; i < VM_API_EV_COUNT; i++)
		api_add_u64(vm, event_names[i], t->events[i]);
	json_object_object_add(o, "vm", vm);
	json_object *lg = json_object_new_object();
	api_add_u64(lg, "lines", t->lines);
	api_add_u64(lg, "lines_dropped", t->lines_dropped);
	api_add_u64(lg, "metrics_flushes", t->flushes + 1);
	json_object_object_add(o, "logger", lg);
	if (t->more)
		t->more(t->more_ctx, o);
	return o;
}

static void flush_locked(struct vm_api_tel *t)
{
	json_object *o = metrics_json(t);
	size_t n;
	const char *s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	char line[16384];
	if (s && n < sizeof(line)) {
		memcpy(line, s, n);
		line[n++] = '\n';
		if (!put_line(t->metrics_fd, line, n))
			t->flushes++;
	}
	json_object_put(o);
	t->next_flush_ms = uptime_ms(t) + t->period_ms;
}

int vm_api_tel_flush(struct vm_api_tel *t, struct err *e)
{
	pthread_mutex_lock(&t->lock);
	int rc = 0;
	if (t->metrics_fd < 0)
		rc = err_set(e, ERR_INPUT, "the metrics are not configured (PUT /metrics first)");
	else
		flush_locked(t);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int vm_api_tel_due_ms(struct vm_api_tel *t)
{
	pthread_mutex_lock(&t->lock);
	int ms = -1;
	if (t->metrics_fd >= 0) {
		uint64_t now = uptime_ms(t);
		ms = now >= t->next_flush_ms ? 0 : (int)(t->next_flush_ms - now);
	}
	pthread_mutex_unlock(&t->lock);
	return ms;
}

void vm_api_tel_tick(struct vm_api_tel *t)
{
	pthread_mutex_lock(&t->lock);
	if (t->metrics_fd >= 0 && uptime_ms(t) >= t->next_flush_ms)
		flush_locked(t);
	pthread_mutex_unlock(&t->lock);
}
