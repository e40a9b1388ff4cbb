/* SPDX-License-Identifier: Apache-2.0 */
/* The control API's logger and metrics (telemetry.h) alone: the periodic
 * metrics line comes when due and not before, the level filters log lines,
 * an unknown path is counted as "other", a FIFO nobody reads loses lines
 * without blocking, and each file can be set once. */
#include "common/testutil.h"
#include "vm/api/telemetry.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = test_tmpdir();
	return dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return test_tmpdir_remove(dir);
}

static const char *path(const char *name)
{
	static char buf[4][4096];
	static int i;
	char *p = buf[i++ % 4];
	snprintf(p, 4096, "%s/%s", dir, name);
	return p;
}

static int lines_of(const char *file)
{
	char *s = read_file(file, NULL);
	assert_non_null(s);
	int n = 0;
	for (char *p = s; *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void test_periodic_metrics(void **state)
{
	(void)state;
	struct vm_api_tel t;
	vm_api_tel_init(&t);
	struct err e = {0};
	assert_int_equal(vm_api_tel_due_ms(&t), -1); /* nothing due before PUT /metrics */
	t.period_ms = 1000;
	const char *m = path("metrics");
	assert_int_equal(vm_api_tel_set_metrics(&t, m, &e), 0);
	int due = vm_api_tel_due_ms(&t);
	assert_true(due > 0 && due <= 1000);
	vm_api_tel_tick(&t); /* not due yet: no line */
	assert_int_equal(lines_of(m), 0);
	sleep_ms(1100);
	assert_int_equal(vm_api_tel_due_ms(&t), 0);
	uint64_t next = t.next_flush_ms;
	vm_api_tel_tick(&t);
	assert_int_equal(lines_of(m), 1);
	/* the next one a period after this one */
	assert_true(t.next_flush_ms >= next + 1000);
	vm_api_tel_tick(&t);
	assert_int_equal(lines_of(m), 1);
	/* FlushMetrics does not wait for the period */
	assert_int_equal(vm_api_tel_flush(&t, &e), 0);
	assert_int_equal(lines_of(m), 2);
	/* once only */
	assert_int_equal(vm_api_tel_set_metrics(&t, m, &e), -1);
	assert_int_equal(e.kind, ERR_INPUT);
	assert_non_null(strstr(e.msg, "already configured"));
	vm_api_tel_destroy(&t);
}

static void test_levels_and_routes(void **state)
{
	(void)state;
	struct vm_api_tel t;
	vm_api_tel_init(&t);
	struct err e = {0};
	const char *l = path("log"), *m = path("metrics2");
	assert_int_equal(vm_api_tel_set_logger(&t, l, "Loud", 0, 0, &e), -1);
	assert_non_null(strstr(e.msg, "\"level\" must be"));
	assert_int_equal(vm_api_tel_set_logger(&t, l, "wArNiNg", 1, 0, &e), 0);
	assert_int_equal(vm_api_tel_set_logger(&t, l, NULL, 0, 0, &e), -1);
	assert_int_equal(vm_api_tel_set_metrics(&t, m, &e), 0);
	vm_api_tel_log(&t, VM_API_LOG_INFO, "test", "an info line");
	vm_api_tel_log(&t, VM_API_LOG_WARNING, "test", "a warning line %d", 7);
	vm_api_tel_request(&t, "PUT", "/drives/", "/drives/a\x01b", 11, 204);
	vm_api_tel_request(&t, "BREW", "/other", "/pot\nx", 6, 404);
	vm_api_tel_event(&t, VM_API_EV_PAUSED, NULL);
	char *s = read_file(l, NULL);
	assert_non_null(s);
	assert_null(strstr(s, "an info line"));
	assert_non_null(strstr(s, "[capsa] [Warning] a warning line 7\n"));
	assert_null(strstr(s, "PUT /drives")); /* 204 is Info */
	assert_non_null(strstr(s, "[capsa] [Warning] API request other /pot?x: 404\n"));
	assert_null(strstr(s, "VM paused"));
	free(s);
	assert_int_equal(vm_api_tel_flush(&t, &e), 0);
	char *text = read_file(m, NULL);
	json_object *o = json_tokener_parse(text);
	assert_non_null(o);
	json_object *g, *v;
	assert_true(json_object_object_get_ex(o, "put_api_requests", &g));
	assert_true(json_object_object_get_ex(g, "drives_count", &v));
	assert_int_equal(json_object_get_int64(v), 1);
	assert_true(json_object_object_get_ex(o, "other_api_requests", &g));
	assert_true(json_object_object_get_ex(g, "other_fails", &v));
	assert_int_equal(json_object_get_int64(v), 1);
	assert_true(json_object_object_get_ex(o, "vm", &g));
	assert_true(json_object_object_get_ex(g, "paused", &v));
	assert_int_equal(json_object_get_int64(v), 1);
	json_object_put(o);
	free(text);
	vm_api_tel_destroy(&t);
}

/* A FIFO whose reader never reads: lines are dropped once the pipe is full,
 * and logging never blocks. */
static void test_full_fifo(void **state)
{
	(void)state;
	struct vm_api_tel t;
	vm_api_tel_init(&t);
	struct err e = {0};
	const char *f = path("fifo");
	assert_int_equal(mkfifo(f, 0600), 0);
	assert_int_equal(vm_api_tel_set_logger(&t, f, "Info", 0, 0, &e), -1);
	assert_non_null(strstr(e.msg, "has no reader"));
	int rd = open(f, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(rd >= 0);
	assert_int_equal(vm_api_tel_set_logger(&t, f, "Info", 0, 0, &e), 0);
	for (int i = 0; i < 5000; i++) /* about 400 KiB, beyond any pipe's buffer */
		vm_api_tel_log(&t, VM_API_LOG_INFO, "test", "line %d of a log nobody reads", i);
	assert_true(t.lines > 0);
	assert_true(t.lines_dropped > 0);
	assert_int_equal(t.lines + t.lines_dropped, 5000);
	close(rd);
	vm_api_tel_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_periodic_metrics),
	    cmocka_unit_test(test_levels_and_routes),
	    cmocka_unit_test(test_full_fifo),
	};
	return cmocka_run_group_tests_name("control API logger and metrics", tests, setup,
	                                   teardown);
}
