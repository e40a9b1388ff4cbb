/* SPDX-License-Identifier: Apache-2.0 */
/* The control API as the only way to configure a VM: `capsa vm run
 * --api-sock PATH` alone waits "Not started", takes its machine from PUT
 * /boot-source, /machine-config, /drives/{id}, /vsock, starts on PUT /actions
 * InstanceStart, and GET /vm/config returns what was put. Every endpoint's
 * refusals: wrong method, bad JSON, unknown fields, wrong types, values out
 * of range, oversized bodies, requests in the wrong state; each a 4xx with a
 * fault message, and the process still serving afterwards. */
#include "lib/version.h"
#include "vm/snaptest.h"

#include <json-c/json.h>
#include <sys/stat.h>

static int setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	return vm_tmp_setup(state);
}

/* `capsa vm run --api-sock sock` and nothing else; returns once it answers. */
static pid_t start_bare(const char *sock, const char *out, const char *err)
{
	const char *argv[] = {"capsa", "vm", "run", "--api-sock", sock, NULL};
	return spawn_capsa_api(out, err, argv, sock);
}

static void stop(pid_t pid)
{
	kill(pid, SIGTERM);
	int st;
	double took;
	assert_int_equal(wait_with_deadline(pid, 30, &st, &took), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 128 + SIGTERM);
}

/* The request gets `status` and a fault message containing `needle`. */
static void expect_fault(const char *sock, const char *method, const char *path, const char *json,
                         int status, const char *needle)
{
	char *body = NULL;
	int st = api(sock, method, path, json, &body);
	if (st != status || !body || !strstr(body, "\"fault_message\"") || !strstr(body, needle))
		printf("# note: %s %s %s: want %d \"%s\", got %d %s\n", method, path,
		       json ? json : "", status, needle, st, body ? body : "");
	assert_int_equal(st, status);
	assert_non_null(strstr(body, "\"fault_message\""));
	assert_non_null(strstr(body, needle));
	free(body);
}

static void expect_body(const char *sock, const char *path, const char *needle)
{
	char *body = NULL;
	assert_int_equal(api(sock, "GET", path, NULL, &body), 200);
	if (!strstr(body, needle))
		printf("# note: GET %s: %s\n", path, body);
	assert_non_null(strstr(body, needle));
	free(body);
}

static void expect_state(const char *sock, const char *state)
{
	char want[64];
	snprintf(want, sizeof(want), "\"state\":\"%s\"", state);
	expect_body(sock, "/", want);
}

/* A request answered 204. */
static void expect_204(const char *sock, const char *method, const char *path, const char *json)
{
	char *body = NULL;
	int st = api(sock, method, path, json, &body);
	if (st != 204)
		printf("# note: %s %s %s: %d %s\n", method, path, json, st, body ? body : "");
	assert_int_equal(st, 204);
	free(body);
}

static void put_ok(const char *sock, const char *path, const char *json)
{
	expect_204(sock, "PUT", path, json);
}

/* PUT /boot-source: the test guest with these boot arguments. */
static void put_guest(const char *sock, const char *boot_args)
{
	char req[4400];
	snprintf(req, sizeof(req), "{\"kernel_image_path\":\"%s\",\"boot_args\":\"%s\"}",
	         guest_path("testguest.elf"), boot_args);
	put_ok(sock, "/boot-source", req);
}

static void refusals_of_bodies(const char *sock, const char *kernel)
{
	expect_fault(sock, "PUT", "/machine-config", "{\"vcpu_count\":", 400, "not a JSON object");
	expect_fault(sock, "PUT", "/machine-config", "[1]", 400, "not a JSON object");
	expect_fault(sock, "PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64} x",
	             400, "not a JSON object");
	expect_fault(sock, "PUT", "/machine-config",
	             "{\"vcpu_count\":1,\"mem_size_mib\":64,\"cpus\":2}", 400,
	             "unknown field \\\"cpus\\\"");
	expect_fault(sock, "PUT", "/machine-config", "{\"vcpu_count\":\"2\",\"mem_size_mib\":64}",
	             400, "\\\"vcpu_count\\\" must be a non-negative integer");
	expect_fault(sock, "PUT", "/machine-config", "{\"vcpu_count\":1.5,\"mem_size_mib\":64}",
	             400, "must be a non-negative integer");
	expect_fault(sock, "PUT", "/machine-config", "{\"vcpu_count\":1}", 400,
	             "\\\"mem_size_mib\\\" is required");
	expect_fault(sock, "PUT", "/machine-config", "{\"vcpu_count\":0,\"mem_size_mib\":64}", 400,
	             "\\\"vcpu_count\\\" 0 is out of range (1 to 254)");
	expect_fault(sock, "PATCH", "/machine-config", "{\"mem_size_mib\":8}", 400,
	             "\\\"mem_size_mib\\\" 8 is out of range");
	expect_fault(sock, "PATCH", "/machine-config", "{\"mem_size_mib\":-1}", 400,
	             "must be a non-negative integer");
	expect_fault(sock, "PATCH", "/machine-config", "{\"smt\":true}", 400, "\\\"smt\\\"");
	expect_fault(sock, "PUT", "/boot-source", "{\"boot_args\":\"x\"}", 400,
	             "\\\"kernel_image_path\\\" is required");
	expect_fault(sock, "PUT", "/boot-source", "{\"kernel_image_path\":\"/no/such/kernel\"}",
	             400, "cannot read /no/such/kernel");
	char req[4400];
	snprintf(req, sizeof(req), "{\"kernel_image_path\":\"%s\",\"initrd_path\":7}", kernel);
	expect_fault(sock, "PUT", "/boot-source", req, 400, "\\\"initrd_path\\\" must be a string");
	snprintf(req, sizeof(req),
	         "{\"drive_id\":\"other\",\"path_on_host\":\"%s\",\"is_root_device\":false}",
	         kernel);
	expect_fault(sock, "PUT", "/drives/disk1", req, 400, "differs from the path");
	snprintf(req, sizeof(req),
	         "{\"drive_id\":\"d\",\"path_on_host\":\"%s\",\"is_root_device\":false,"
	         "\"rate_limiter\":{\"bandwidth\":{\"size\":1}}}",
	         kernel);
	expect_fault(sock, "PUT", "/drives/d", req, 400, "\\\"refill_time\\\" is required");
	snprintf(req, sizeof(req),
	         "{\"drive_id\":\"d\",\"path_on_host\":\"%s\",\"is_root_device\":false,"
	         "\"cache_type\":\"Fast\"}",
	         kernel);
	expect_fault(sock, "PUT", "/drives/d", req, 400, "\\\"cache_type\\\"");
	expect_fault(sock, "PUT", "/network-interfaces/eth0",
	             "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\",\"guest_mac\":\"zz\"}", 400,
	             "\\\"guest_mac\\\"");
	expect_fault(sock, "PUT", "/network-interfaces/eth0",
	             "{\"iface_id\":\"eth0\",\"host_dev_name\":\"a-name-far-too-long-for-a-tap\"}",
	             400, "\\\"host_dev_name\\\"");
	expect_fault(sock, "PUT", "/vsock", "{\"guest_cid\":2,\"uds_path\":\"/tmp/v\"}", 400,
	             "\\\"guest_cid\\\"");
	expect_fault(sock, "PUT", "/actions", "{\"action_type\":\"Reboot\"}", 400,
	             "\\\"action_type\\\" must be");
	expect_fault(sock, "PUT", "/actions", "{}", 400, "\\\"action_type\\\" is required");
	expect_fault(sock, "PUT", "/snapshot/load",
	             "{\"snapshot_path\":\"/tmp/x\",\"mem_backend\":{\"backend_type\":\"File\"}}",
	             400, "\\\"backend_path\\\" is required");
	expect_fault(sock, "PUT", "/snapshot/load",
	             "{\"snapshot_path\":\"/tmp/x\",\"mem_backend\":{\"backend_type\":\"Uffd\","
	             "\"backend_path\":\"/tmp/u\"}}",
	             400, "\\\"File\\\" is supported");
	expect_fault(sock, "PUT", "/snapshot/load",
	             "{\"snapshot_path\":\"/tmp/x\",\"mem_file_path\":\"/tmp/m\",\"mem_backend\":"
	             "{\"backend_type\":\"File\",\"backend_path\":\"/tmp/m\"}}",
	             400, "not both");
	/* network_overrides: checked before any file is read */
	static const char *const bad_overrides[][2] = {
	    {"{}", "\\\"network_overrides\\\" must be an array"},
	    {"[7]", "must hold objects"},
	    {"[{\"iface_id\":\"eth0\"}]", "\\\"host_dev_name\\\" is required"},
	    {"[{\"iface_id\":\"eth0\",\"host_dev_name\":\"a-name-far-too-long-for-a-tap\"}]",
	     "\\\"host_dev_name\\\" must be 1 to 15 bytes"},
	};
	for (size_t i = 0; i < sizeof(bad_overrides) / sizeof(bad_overrides[0]); i++) {
		char req[512];
		snprintf(req, sizeof(req),
		         "{\"snapshot_path\":\"/tmp/x\",\"network_overrides\":%s}",
		         bad_overrides[i][0]);
		expect_fault(sock, "PUT", "/snapshot/load", req, 400, bad_overrides[i][1]);
	}
	char many[1024] = "{\"snapshot_path\":\"/tmp/x\",\"network_overrides\":[";
	for (int i = 0; i < 9; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		         "%s{\"iface_id\":\"e%d\",\"host_dev_name\":\"t%d\"}", i ? "," : "", i, i);
	strcat(many, "]}");
	expect_fault(sock, "PUT", "/snapshot/load", many, 400, "at most 8 entries");
}

static void refusals_of_state_and_method(const char *sock)
{
	/* a VM that has not started cannot be paused, saved or sent keys */
	expect_fault(sock, "PATCH", "/vm", "{\"state\":\"Paused\"}", 400, "has not started");
	expect_fault(sock, "PUT", "/snapshot/create", "{\"snapshot_path\":\"/tmp/x\"}", 400,
	             "has not started");
	expect_fault(sock, "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", 400,
	             "has not started");
	expect_fault(sock, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", 400,
	             "no kernel");
	expect_fault(sock, "PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", 400,
	             "metrics are not configured");
	expect_fault(sock, "GET", "/boot-source", NULL, 405, "GET is not allowed on /boot-source");
	expect_fault(sock, "DELETE", "/drives/x", NULL, 405, "not allowed");
	expect_fault(sock, "PATCH", "/vm/config", "{}", 405, "not allowed");
	expect_fault(sock, "PUT", "/drives/", "{}", 404, "unknown path");
	expect_fault(sock, "PUT", "/drives/a/b", "{}", 404, "unknown path");
	expect_fault(sock, "PUT", "/no-such-thing", "{}", 404, "unknown path");
	expect_fault(sock, "DELETE", "/balloon", NULL, 405, "not allowed");
	expect_fault(sock, "PUT", "/balloon/statistics", "{}", 405, "not allowed");
	expect_fault(sock, "PATCH", "/balloon/hinting/start", "{}", 400,
	             "does not support free page hinting");
	expect_fault(sock, "GET", "/mmds", NULL, 400, "does not support a microVM metadata");
	expect_fault(sock, "PUT", "/cpu-config", "{}", 400, "does not support custom CPU");
	expect_fault(sock, "PUT", "/serial", "{}", 400, "\\\"serial_out_path\\\" is required");
	expect_fault(sock, "PUT", "/serial", "{\"serial_out_path\":\"/nonexistent/dir/f\"}", 400,
	             "cannot open /nonexistent/dir/f");
	expect_fault(sock, "PUT", "/hotplug/memory", "{}", 400, "does not support hot-plugging");
	/* a body over 16 KiB, refused from its Content-Length */
	size_t n = 20000;
	char *big = malloc(n + 256);
	int h = snprintf(big, 256,
	                 "PUT /boot-source HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", n);
	memset(big + h, ' ', n);
	char resp[1024];
	assert_int_equal(api_raw(sock, big, (size_t)h + n, resp, sizeof(resp)), 413);
	assert_non_null(strstr(resp, "fault_message"));
	free(big);
	static const char junk[] = "NONSENSE\r\n\r\n";
	assert_int_equal(api_raw(sock, junk, sizeof(junk) - 1, resp, sizeof(resp)), 400);
}

/* Every refusal in a process that is still to be configured; nothing of it
 * changes the configuration, and the process goes on serving. */
static void test_refusals_before_start(void **state)
{
	(void)state;
	const char *sock = tmp("r.sock"), *out = tmp("r.out"), *err = tmp("r.err");
	pid_t pid = start_bare(sock, out, err);
	expect_state(sock, "Not started");
	refusals_of_bodies(sock, guest_path("testguest.elf"));
	refusals_of_state_and_method(sock);
	char *body = NULL;
	assert_int_equal(api(sock, "GET", "/vm/config", NULL, &body), 200);
	assert_non_null(strstr(body, "\"boot-source\":null"));
	assert_non_null(strstr(body, "\"drives\":[]"));
	assert_non_null(strstr(body, "\"vcpu_count\":1,\"mem_size_mib\":256"));
	assert_non_null(strstr(body, "\"network-interfaces\":[]"));
	assert_non_null(strstr(body, "\"vsock\":null"));
	free(body);
	/* a network interface is kept as put (and replaced by its id) */
	put_ok(sock, "/network-interfaces/eth0",
	       "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap9\"}");
	put_ok(sock, "/network-interfaces/eth0",
	       "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap7\",\"guest_mac\":"
	       "\"02:11:22:33:44:55\",\"tx_rate_limiter\":{\"ops\":{\"size\":50,"
	       "\"refill_time\":500}}}");
	assert_int_equal(api(sock, "GET", "/vm/config", NULL, &body), 200);
	assert_non_null(strstr(body,
	                       "\"network-interfaces\":[{\"iface_id\":\"eth0\",\"host_dev_name\":"
	                       "\"tap7\",\"guest_mac\":\"02:11:22:33:44:55\",\"rx_rate_limiter\":"
	                       "null,\"tx_rate_limiter\":{\"bandwidth\":null,\"ops\":{\"size\":50,"
	                       "\"refill_time\":500}}}]"));
	free(body);
	/* PATCH changes the limiters given, nothing else */
	assert_int_equal(api(sock, "PATCH", "/network-interfaces/eth0",
	                     "{\"iface_id\":\"eth0\",\"rx_rate_limiter\":{\"bandwidth\":"
	                     "{\"size\":1000,\"refill_time\":100}}}",
	                     NULL),
	                 204);
	expect_fault(sock, "PATCH", "/network-interfaces/eth9", "{\"iface_id\":\"eth9\"}", 400,
	             "no network interface");
	expect_fault(sock, "PATCH", "/network-interfaces/eth0", "{\"iface_id\":\"eth1\"}", 400,
	             "differs");
	expect_fault(sock, "PATCH", "/network-interfaces/eth0",
	             "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap1\"}", 400, "unknown field");
	assert_int_equal(api(sock, "GET", "/vm/config", NULL, &body), 200);
	assert_non_null(strstr(body,
	                       "\"tap7\",\"guest_mac\":\"02:11:22:33:44:55\",\"rx_rate_limiter\":"
	                       "{\"bandwidth\":{\"size\":1000,\"refill_time\":100},\"ops\":null},"
	                       "\"tx_rate_limiter\":{\"bandwidth\":null,\"ops\":{\"size\":50,"));
	free(body);
	/* the CLI's clients: config prints GET /vm/config; --json prints a
	 * refusal's fault as JSON on stdout, with status 1 */
	struct run_result r;
	capsa_run(&r, 30, "vm", "config", "--api-sock", sock, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"host_dev_name\":\"tap7\""));
	run_result_free(&r);
	capsa_run(&r, 30, "vm", "pause", "--api-sock", sock, "--json", NULL);
	assert_int_equal(r.status, 1);
	assert_true(!strncmp(r.out, "{\"fault_message\":\"the VM has not started", 40));
	run_result_free(&r);
	/* once configured, a snapshot can no longer be loaded instead */
	put_ok(sock, "/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":64}");
	expect_fault(sock, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/tmp/x\"}", 400,
	             "only into a process started with just --api-sock");
	expect_state(sock, "Not started");
	stop(pid);
}

/* The last line of a metrics file as JSON; *lines counts them. */
static json_object *last_metrics(const char *path, int *lines)
{
	char *text = read_file(path, NULL);
	assert_non_null(text);
	*lines = 0;
	char *last = text;
	for (char *p = text; *p; p++)
		if (*p == '\n') {
			++*lines;
			if (p[1])
				last = p + 1;
		}
	json_object *o = json_tokener_parse(last);
	if (!o)
		printf("# note: metrics: %s\n", text);
	assert_non_null(o);
	free(text);
	return o;
}

/* A counter of the metrics line (group.key), -1 when absent. */
static int64_t metric(json_object *o, const char *group, const char *key)
{
	json_object *g = NULL, *v = NULL;
	assert_true(json_object_object_get_ex(o, group, &g));
	return json_object_object_get_ex(g, key, &v) ? json_object_get_int64(v) : -1;
}

/* GET /version, PUT /entropy, /logger, /metrics, FlushMetrics and PATCH
 * /drives/{id} before start: good requests and each refusal. */
static void test_extra_endpoints(void **state)
{
	(void)state;
	const char *sock = tmp("x.sock"), *out = tmp("x.out"), *err = tmp("x.err");
	const char *log = tmp("x.log"), *met = tmp("x.metrics"), *fifo = tmp("x.fifo");
	const char *disk = tmp("x.disk"), *disk2 = tmp("x.disk2");
	char req[4400], *body = NULL;
	assert_int_equal(write_file(disk, "a", 1), 0);
	assert_int_equal(write_file(disk2, "b", 1), 0);
	pid_t pid = start_bare(sock, out, err);

	assert_int_equal(api(sock, "GET", "/version", NULL, &body), 200);
	assert_string_equal(body, "{\"firecracker_version\":\"" CAPSA_VERSION "\"}");
	free(body);
	expect_fault(sock, "PUT", "/version", "{}", 405, "PUT is not allowed on /version");

	/* the logger: refusals change nothing, then once */
	expect_fault(sock, "PUT", "/logger", "{\"log_path\":", 400, "not a JSON object");
	expect_fault(sock, "PUT", "/logger", "{}", 400, "\\\"log_path\\\" is required");
	snprintf(req, sizeof(req), "{\"log_path\":\"%s\",\"level\":\"Loud\"}", log);
	expect_fault(sock, "PUT", "/logger", req, 400, "\\\"level\\\" must be");
	snprintf(req, sizeof(req), "{\"log_path\":\"%s\",\"module\":\"api\"}", log);
	expect_fault(sock, "PUT", "/logger", req, 400, "by module is not supported");
	expect_fault(sock, "PUT", "/logger", "{\"log_path\":\"/nonexistent/dir/log\"}", 400,
	             "cannot open /nonexistent/dir/log");
	expect_fault(sock, "GET", "/logger", NULL, 405, "not allowed");
	snprintf(req, sizeof(req),
	         "{\"log_path\":\"%s\",\"level\":\"info\",\"show_level\":true,"
	         "\"show_log_origin\":true}",
	         log);
	put_ok(sock, "/logger", req);
	expect_fault(sock, "PUT", "/logger", req, 400, "already configured");

	/* the metrics: a FIFO without its reader is refused, not waited on */
	expect_fault(sock, "PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", 400,
	             "PUT /metrics first");
	expect_fault(sock, "PUT", "/metrics", "{\"metrics_path\":1}", 400, "must be a string");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(req, sizeof(req), "{\"metrics_path\":\"%s\"}", fifo);
	expect_fault(sock, "PUT", "/metrics", req, 400, "has no reader");
	snprintf(req, sizeof(req), "{\"metrics_path\":\"%s\"}", met);
	put_ok(sock, "/metrics", req);
	expect_fault(sock, "PUT", "/metrics", req, 400, "already configured");

	/* the entropy device: only without a rate limiter */
	expect_fault(sock, "PUT", "/entropy", "[]", 400, "not a JSON object");
	expect_fault(sock, "PUT", "/entropy", "{\"rng\":1}", 400, "unknown field");
	expect_fault(sock, "PUT", "/entropy",
	             "{\"rate_limiter\":{\"bandwidth\":{\"size\":100,\"refill_time\":10}}}", 400,
	             "rate limiting the entropy device is not supported");
	expect_fault(sock, "GET", "/entropy", NULL, 405, "not allowed");
	assert_int_equal(api(sock, "GET", "/vm/config", NULL, &body), 200);
	assert_non_null(strstr(body, "\"entropy\":null"));
	free(body);
	put_ok(sock, "/entropy", "{\"rate_limiter\":{\"bandwidth\":null}}");
	assert_int_equal(api(sock, "GET", "/vm/config", NULL, &body), 200);
	assert_non_null(strstr(body, "\"entropy\":{}"));
	free(body);

	/* PATCH /drives/{id}: only a drive put, with its own id */
	expect_fault(sock, "PATCH", "/drives/d1", "{\"drive_id\":\"d1\"}", 400, "no drive");
	snprintf(req, sizeof(req),
	         "{\"drive_id\":\"d1\",\"path_on_host\":\"%s\",\"is_root_device\":false}", disk);
	put_ok(sock, "/drives/d1", req);
	expect_fault(sock, "PATCH", "/drives/d1", "{\"drive_id\":\"d2\"}", 400, "differs");
	expect_fault(sock, "PATCH", "/drives/d1", "{\"drive_id\":\"d1\",\"is_read_only\":true}",
	             400, "unknown field");
	expect_fault(sock, "PATCH", "/drives/d1",
	             "{\"drive_id\":\"d1\",\"path_on_host\":\"/nonexistent\"}", 400, "cannot read");
	snprintf(req, sizeof(req),
	         "{\"drive_id\":\"d1\",\"path_on_host\":\"%s\",\"rate_limiter\":{\"ops\":"
	         "{\"size\":10,\"refill_time\":1000}}}",
	         disk2);
	assert_int_equal(api(sock, "PATCH", "/drives/d1", req, NULL), 204);
	assert_int_equal(api(sock, "GET", "/vm/config", NULL, &body), 200);
	snprintf(req, sizeof(req), "\"path_on_host\":\"%s\"", disk2);
	assert_non_null(strstr(body, req));
	assert_non_null(strstr(body, "\"ops\":{\"size\":10,\"refill_time\":1000}"));
	free(body);

	/* FlushMetrics: one line of counters, the requests above among them */
	put_ok(sock, "/actions", "{\"action_type\":\"FlushMetrics\"}");
	int lines;
	json_object *m = last_metrics(met, &lines);
	assert_int_equal(lines, 1);
	assert_int_equal(metric(m, "get_api_requests", "version_count"), 1);
	assert_int_equal(metric(m, "put_api_requests", "logger_count"), 7);
	assert_int_equal(metric(m, "put_api_requests", "logger_fails"), 6);
	assert_int_equal(metric(m, "put_api_requests", "metrics_fails"), 3);
	assert_int_equal(metric(m, "put_api_requests", "entropy_count"), 4);
	assert_int_equal(metric(m, "patch_api_requests", "drives_count"), 5);
	assert_int_equal(metric(m, "patch_api_requests", "drives_fails"), 4);
	assert_int_equal(metric(m, "vm", "started"), 0);
	assert_true(metric(m, "api_server", "requests") >= 30);
	assert_true(metric(m, "logger", "lines") >= 20);
	json_object *up = NULL;
	assert_true(json_object_object_get_ex(m, "uptime_ms", &up));
	assert_true(json_object_get_int64(up) > 0);
	json_object_put(m);
	put_ok(sock, "/actions", "{\"action_type\":\"FlushMetrics\"}");
	m = last_metrics(met, &lines);
	assert_int_equal(lines, 2);
	/* a request is counted once answered: this flush is not in its line */
	assert_int_equal(metric(m, "put_api_requests", "actions_count"), 2);
	json_object_put(m);

	/* the log: each request after PUT /logger, refusals as warnings */
	assert_int_equal(file_count(log, "[capsa] [Info] [api] API request PUT /logger: 204\n"), 1);
	assert_int_equal(file_count(log, "[Warning] [api] API request PUT /logger: 400\n"), 1);
	assert_int_equal(file_count(log, "[Info] [api] API request PATCH /drives/d1: 204\n"), 1);
	assert_int_equal(file_count(log, "API request GET /version"), 0); /* before the logger */
	expect_state(sock, "Not started");
	stop(pid);
}

/* Configure the bootinfo guest through the API, check GET /vm/config, start. */
static void configure_bootinfo(const char *sock, const char *disk, const char *initrd,
                               const char *uds, const char *tap)
{
	char req[4400];
	snprintf(req, sizeof(req),
	         "{\"kernel_image_path\":\"%s\",\"initrd_path\":\"%s\","
	         "\"boot_args\":\"test=bootinfo marker=api\"}",
	         guest_path("testguest.elf"), initrd);
	put_ok(sock, "/boot-source", req);
	put_ok(sock, "/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":64}");
	put_ok(sock, "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":false}");
	assert_int_equal(
	    api(sock, "PATCH", "/machine-config", "{\"track_dirty_pages\":true}", NULL), 204);
	snprintf(req, sizeof(req),
	         "{\"drive_id\":\"rootfs\",\"path_on_host\":\"%s\",\"is_root_device\":true,"
	         "\"is_read_only\":true,\"cache_type\":\"Writeback\",\"io_engine\":\"Sync\","
	         "\"rate_limiter\":{\"bandwidth\":{\"size\":1048576,\"refill_time\":100}}}",
	         disk);
	put_ok(sock, "/drives/rootfs", req);
	snprintf(req, sizeof(req), "{\"guest_cid\":7,\"uds_path\":\"%s\"}", uds);
	put_ok(sock, "/vsock", req);
	if (tap) {
		snprintf(req, sizeof(req), "{\"iface_id\":\"eth0\",\"host_dev_name\":\"%s\"}", tap);
		put_ok(sock, "/network-interfaces/eth0", req);
	}
	/* a second root device is refused */
	snprintf(req, sizeof(req),
	         "{\"drive_id\":\"other\",\"path_on_host\":\"%s\",\"is_root_device\":true}", disk);
	expect_fault(sock, "PUT", "/drives/other", req, 400, "already the root device");

	char *body = NULL;
	assert_int_equal(api(sock, "GET", "/vm/config", NULL, &body), 200);
	char want[4400];
	snprintf(want, sizeof(want),
	         "\"boot-source\":{\"kernel_image_path\":\"%s\",\"initrd_path\":\"%s\","
	         "\"boot_args\":\"test=bootinfo marker=api\"}",
	         guest_path("testguest.elf"), initrd);
	assert_non_null(strstr(body, want));
	snprintf(want, sizeof(want),
	         "\"drives\":[{\"drive_id\":\"rootfs\",\"path_on_host\":\"%s\",\"is_root_device\":"
	         "true,\"partuuid\":null,\"is_read_only\":true,\"cache_type\":\"Writeback\","
	         "\"io_engine\":\"Sync\",\"rate_limiter\":{\"bandwidth\":{\"size\":1048576,"
	         "\"refill_time\":100},\"ops\":null}}]",
	         disk);
	if (!strstr(body, want))
		printf("# note: GET /vm/config: %s\n", body);
	assert_non_null(strstr(body, want));
	assert_non_null(strstr(body, "\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":128,"
	                             "\"smt\":false,\"track_dirty_pages\":true}"));
	snprintf(want, sizeof(want), "\"vsock\":{\"guest_cid\":7,\"uds_path\":\"%s\"}", uds);
	assert_non_null(strstr(body, want));
	free(body);
}

/* Only --api-sock on the command line: the whole machine comes through the
 * API; the guest sees it (kernel command line with root= and both virtio
 * devices, 128 MiB of RAM, the initrd) and runs to its end. */
static void test_configured_by_api(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("c.sock"), *out = tmp("c.out"), *err = tmp("c.err");
	const char *disk = tmp("c.disk"), *initrd = tmp("c.initrd"), *uds = tmp("c.vsock");
	char *zeros = calloc(1, 1 << 20);
	assert_int_equal(write_file(disk, zeros, 1 << 20), 0);
	assert_int_equal(write_file(initrd, zeros, 12345), 0);
	free(zeros);
	/* a tap device capsa creates, where the host has /dev/net/tun */
	char tap[16];
	snprintf(tap, sizeof(tap), "capsaapi%u", (unsigned)getpid() % 100000);
	int with_tap = access("/dev/net/tun", R_OK | W_OK) == 0;
	if (!with_tap)
		printf("# note: no network interface: host has no /dev/net/tun\n");
	pid_t pid = start_bare(sock, out, err);
	configure_bootinfo(sock, disk, initrd, uds, with_tap ? tap : NULL);
	put_ok(sock, "/actions", "{\"action_type\":\"InstanceStart\"}");
	int st;
	double took;
	assert_int_equal(wait_with_deadline(pid, 60, &st, &took), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	char *o = read_file(out, NULL);
	assert_non_null(o);
	if (!strstr(o, "cmdline: test=bootinfo marker=api root=/dev/vda ro virtio_mmio.device="))
		printf("# note: guest output: %s\n", o);
	assert_non_null(
	    strstr(o, "cmdline: test=bootinfo marker=api root=/dev/vda ro virtio_mmio.device="));
	/* disk, vsock and the network interface */
	if (file_count(out, "virtio_mmio.device=") != 2 + with_tap)
		printf("# note: stderr: %s\n", read_file(err, NULL));
	assert_int_equal(file_count(out, "virtio_mmio.device="), 2 + with_tap);
	assert_non_null(strstr(o, "e820: 0x0000000000100000-0x0000000007ffffff 1\n"));
	assert_non_null(strstr(o, "size=12345\n"));
	free(o);
}

/* After InstanceStart: the configuration is fixed, the VM can be paused,
 * sent Ctrl-Alt-Del, and its machine-config is the VM's own. */
static void test_started_state(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("s.sock"), *out = tmp("s.out"), *err = tmp("s.err");
	const char *log = tmp("s.log"), *met = tmp("s.metrics");
	pid_t pid = start_bare(sock, out, err);
	char req[4400];
	snprintf(req, sizeof(req), "{\"log_path\":\"%s\"}", log);
	put_ok(sock, "/logger", req);
	snprintf(req, sizeof(req), "{\"metrics_path\":\"%s\"}", met);
	put_ok(sock, "/metrics", req);
	snprintf(req, sizeof(req), "{\"kernel_image_path\":\"%s\",\"boot_args\":\"%s\"}",
	         guest_path("testguest.elf"), count_cmdline());
	put_ok(sock, "/boot-source", req);
	put_ok(sock, "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":96}");
	put_ok(sock, "/actions", "{\"action_type\":\"InstanceStart\"}");
	expect_state(sock, "Running");
	expect_fault(sock, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", 400,
	             "already started");
	expect_fault(sock, "PUT", "/boot-source", req, 400, "after the VM started");
	expect_fault(sock, "PATCH", "/machine-config", "{\"vcpu_count\":2}", 400,
	             "after the VM started");
	expect_fault(sock, "PUT", "/vsock", "{\"guest_cid\":3,\"uds_path\":\"/tmp/v\"}", 400,
	             "after the VM started");
	expect_fault(sock, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/tmp/x\"}", 400,
	             "already running");
	expect_fault(sock, "PUT", "/entropy", "{}", 400, "after the VM started");
	expect_fault(sock, "PUT", "/logger", "{\"log_path\":\"/tmp/l\"}", 400,
	             "only before the VM starts");
	expect_fault(sock, "PUT", "/metrics", "{\"metrics_path\":\"/tmp/m\"}", 400,
	             "only before the VM starts");
	expect_fault(sock, "PATCH", "/drives/rootfs",
	             "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/tmp/x\"}", 400,
	             "the VM has no drive \\\"rootfs\\\"");
	char *body = NULL;
	assert_int_equal(api(sock, "GET", "/machine-config", NULL, &body), 200);
	assert_non_null(strstr(body, "\"vcpu_count\":1,\"mem_size_mib\":96"));
	free(body);
	/* the test guest ignores its keyboard: the keys wait in the controller */
	put_ok(sock, "/actions", "{\"action_type\":\"SendCtrlAltDel\"}");
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Paused\"}", NULL), 204);
	expect_state(sock, "Paused");
	snprintf(req, sizeof(req), "{\"snapshot_path\":\"%s\"}", tmp("s.snap"));
	put_ok(sock, "/snapshot/create", req);
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Resumed\"}", NULL), 204);
	put_ok(sock, "/actions", "{\"action_type\":\"FlushMetrics\"}");
	expect_finished(pid, out);
	/* the lifecycle in the log, and a last metrics line at the exit */
	assert_int_equal(file_count(log, "] VM started\n"), 1);
	assert_int_equal(file_count(log, "] VM paused\n"), 1);
	assert_int_equal(file_count(log, "] VM resumed\n"), 1);
	assert_int_equal(file_count(log, "] VM snapshot created\n"), 1);
	assert_int_equal(file_count(log, "] VM exited: "), 1);
	assert_int_equal(file_count(log, ", status 0, after "), 1);
	assert_int_equal(file_count(log, "] API request PATCH /drives/rootfs: 400\n"), 1);
	int lines;
	json_object *m = last_metrics(met, &lines);
	assert_int_equal(lines, 2);
	assert_int_equal(metric(m, "vm", "started"), 1);
	assert_int_equal(metric(m, "vm", "paused"), 1);
	assert_int_equal(metric(m, "vm", "resumed"), 1);
	assert_int_equal(metric(m, "vm", "exited"), 1);
	assert_int_equal(metric(m, "vm", "snapshot_created"), 1);
	assert_int_equal(metric(m, "patch_api_requests", "vm_count"), 2);
	json_object_put(m);
}

/* Wait for the VM's process to exit 0 with `needle` in the file at path. */
static void expect_exit_with(pid_t pid, const char *path, const char *needle)
{
	int st;
	double took;
	assert_int_equal(wait_with_deadline(pid, 60, &st, &took), pid);
	char *o = read_file(path, NULL);
	assert_non_null(o);
	if (!strstr(o, needle))
		printf("# note: guest output: %s\n", o);
	assert_non_null(strstr(o, needle));
	free(o);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* PUT /entropy gives the guest a virtio-rng device that yields bytes; PUT
 * /serial sends the console to a file instead of stdout. */
static void test_entropy_device(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("e.sock"), *out = tmp("e.out"), *err = tmp("e.err");
	const char *serial = tmp("e.serial");
	pid_t pid = start_bare(sock, out, err);
	char req[4400];
	put_guest(sock, "test=virtio-rng");
	put_ok(sock, "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64}");
	put_ok(sock, "/entropy", "{}");
	snprintf(req, sizeof(req), "{\"serial_out_path\":\"%s\"}", serial);
	put_ok(sock, "/serial", req);
	put_ok(sock, "/actions", "{\"action_type\":\"InstanceStart\"}");
	expect_exit_with(pid, serial, "rng: got=64,64 nonzero=1 differ=1");
	char *o = read_file(out, NULL);
	assert_non_null(o);
	assert_null(strstr(o, "rng: got="));
	free(o);
}

/* The metrics line written at the exit counts the guest's disk I/O. */
static void test_block_metrics(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("b.sock"), *out = tmp("b.out"), *err = tmp("b.err");
	const char *disk = tmp("b.disk"), *met = tmp("b.metrics");
	char *zeros = calloc(1, 4 << 20);
	assert_int_equal(write_file(disk, zeros, 4 << 20), 0);
	free(zeros);
	pid_t pid = start_bare(sock, out, err);
	char req[4400];
	snprintf(req, sizeof(req), "{\"metrics_path\":\"%s\"}", met);
	put_ok(sock, "/metrics", req);
	put_guest(sock, "test=virtio-blk");
	put_ok(sock, "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64}");
	snprintf(req, sizeof(req),
	         "{\"drive_id\":\"data\",\"path_on_host\":\"%s\",\"is_root_device\":false}", disk);
	put_ok(sock, "/drives/data", req);
	put_ok(sock, "/actions", "{\"action_type\":\"InstanceStart\"}");
	int st;
	double took;
	assert_int_equal(wait_with_deadline(pid, 60, &st, &took), pid);
	assert_true(WIFEXITED(st));
	int lines;
	json_object *m = last_metrics(met, &lines);
	assert_int_equal(lines, 1);
	assert_int_equal(metric(m, "vm", "exited"), 1);
	assert_int_equal(metric(m, "block", "devices"), 1);
	assert_true(metric(m, "block", "read_count") > 0);
	assert_true(metric(m, "block", "write_count") > 0);
	assert_true(metric(m, "block", "read_bytes") >= 4096);
	assert_true(metric(m, "block", "write_bytes") >= 512);
	assert_int_equal(metric(m, "net", "devices"), 0);
	json_object_put(m);
}

/* PATCH /drives/{id} while the guest runs: the guest sees the new file's
 * capacity and data after a configuration-change interrupt. `engine` is the
 * drive's io_engine. */
static void drive_swap(const char *engine)
{
	REQUIRE_KVM();
	const char *sock = tmp("w.sock"), *out = tmp("w.out"), *err = tmp("w.err");
	const char *a = tmp("w.a"), *b = tmp("w.b");
	uint8_t *img = calloc(1, 8 << 20);
	assert_int_equal(write_file(a, img, 4 << 20), 0);
	uint32_t want_sum = 0;
	for (size_t i = 0; i < (8 << 20); i++)
		img[i] = (uint8_t)(i * 3 + 1);
	for (size_t i = 8 * 512; i < 16 * 512; i++)
		want_sum += img[i];
	assert_int_equal(write_file(b, img, 8 << 20), 0);
	free(img);
	pid_t pid = start_bare(sock, out, err);
	char req[4400];
	put_guest(sock, "test=virtio-blk-swap");
	put_ok(sock, "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64}");
	snprintf(req, sizeof(req),
	         "{\"drive_id\":\"data\",\"path_on_host\":\"%s\",\"is_root_device\":false,"
	         "\"io_engine\":\"%s\"}",
	         a, engine);
	put_ok(sock, "/drives/data", req);
	put_ok(sock, "/actions", "{\"action_type\":\"InstanceStart\"}");
	assert_true(wait_file_has(out, "swap: capacity=8192 waiting", 60));
	/* refusals leave the drive and the guest as they were */
	expect_fault(sock, "PATCH", "/drives/data", "{\"drive_id\":\"data\",\"path_on_host\":", 400,
	             "not a JSON object");
	expect_fault(sock, "PATCH", "/drives/other", "{\"drive_id\":\"other\"}", 400, "no drive");
	expect_fault(sock, "PATCH", "/drives/data", "{\"drive_id\":\"x\"}", 400, "differs");
	expect_fault(sock, "PATCH", "/drives/data",
	             "{\"drive_id\":\"data\",\"path_on_host\":\"/nonexistent/disk\"}", 400,
	             "cannot read");
	expect_fault(sock, "PATCH", "/drives/data",
	             "{\"drive_id\":\"data\",\"rate_limiter\":{\"ops\":{\"size\":1,"
	             "\"one_time_burst\":5,\"refill_time\":1}}}",
	             400, "\\\"one_time_burst\\\" is not supported");
	expect_state(sock, "Running");
	/* a new rate limit while it runs */
	assert_int_equal(api(sock, "PATCH", "/drives/data",
	                     "{\"drive_id\":\"data\",\"rate_limiter\":{\"bandwidth\":{\"size\":"
	                     "1048576,\"refill_time\":100}}}",
	                     NULL),
	                 204);
	expect_state(sock, "Running");
	/* swapped while paused (it stays paused), then resumed */
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Paused\"}", NULL), 204);
	snprintf(req, sizeof(req), "{\"drive_id\":\"data\",\"path_on_host\":\"%s\"}", b);
	assert_int_equal(api(sock, "PATCH", "/drives/data", req, NULL), 204);
	expect_state(sock, "Paused");
	char *body = NULL;
	assert_int_equal(api(sock, "GET", "/vm/config", NULL, &body), 200);
	snprintf(req, sizeof(req), "\"path_on_host\":\"%s\"", b);
	assert_non_null(strstr(body, req));
	assert_non_null(strstr(body, "\"rate_limiter\":{\"bandwidth\":{\"size\":1048576,"
	                             "\"refill_time\":100},\"ops\":null}"));
	free(body);
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Resumed\"}", NULL), 204);
	int st;
	double took;
	assert_int_equal(wait_with_deadline(pid, 60, &st, &took), pid);
	char *o = read_file(out, NULL);
	assert_non_null(o);
	unsigned cap = 0, isr = 0, sum = 0;
	int rs = -1;
	const char *line = strstr(o, "swap: capacity=16384 ");
	if (!line)
		printf("# note: guest output: %s\n", o);
	assert_non_null(line);
	assert_int_equal(
	    sscanf(line, "swap: capacity=%u isr=%u read status=%d sum=0x%x", &cap, &isr, &rs, &sum),
	    4);
	assert_true(isr & 2); /* VIRTIO_MMIO_INT_CONFIG */
	assert_int_equal(rs, 0);
	assert_int_equal(sum, want_sum);
	free(o);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_drive_swap(void **state)
{
	(void)state;
	drive_swap("Async"); /* io_uring where the host has it */
}

static void test_drive_swap_sync(void **state)
{
	(void)state;
	drive_swap("Sync");
}

static void patch_ok(const char *sock, const char *path, const char *json)
{
	expect_204(sock, "PATCH", path, json);
}

/* PUT, GET and PATCH /balloon before start: the test guest inflates the
 * pages the configured target asks for (at most 256), and the device does
 * not offer deflate-on-OOM when told not to. */
static void test_balloon_configured(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("b.sock"), *out = tmp("b.out"), *err = tmp("b.err");
	pid_t pid = start_bare(sock, out, err);
	expect_fault(sock, "GET", "/balloon", NULL, 400, "no balloon device is configured");
	expect_fault(sock, "PATCH", "/balloon", "{\"amount_mib\":1}", 400, "no balloon device");
	expect_fault(sock, "PUT", "/balloon", "{\"amount_mib\":1}", 400,
	             "deflate_on_oom\\\" is required");
	put_ok(sock, "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64}");
	expect_fault(sock, "PUT", "/balloon", "{\"amount_mib\":65,\"deflate_on_oom\":true}", 400,
	             "65 is more than the guest's memory (64 MiB)");
	expect_fault(sock, "PUT", "/balloon",
	             "{\"amount_mib\":1,\"deflate_on_oom\":true,\"stats_polling_interval_s\":"
	             "65536}",
	             400, "out of range");
	put_ok(sock, "/balloon", "{\"amount_mib\":1,\"deflate_on_oom\":false}");
	expect_body(sock, "/balloon",
	            "{\"amount_mib\":1,\"deflate_on_oom\":false,\"stats_polling_interval_s\":0}");
	patch_ok(sock, "/balloon", "{\"amount_mib\":2}");
	expect_body(sock, "/vm/config", "\"balloon\":{\"amount_mib\":2,\"deflate_on_oom\":false");
	expect_fault(sock, "GET", "/balloon/statistics", NULL, 400, "statistics are not enabled");
	put_guest(sock, "test=virtio-balloon");
	put_ok(sock, "/actions", "{\"action_type\":\"InstanceStart\"}");
	expect_exit_with(pid, out, "balloon: deflate_on_oom=0 target=512 inflated=256 zeroed=256");
}

/* The balloon of a running VM: a new target reaches the device (its
 * statistics show it), the statistics interval changes but cannot be
 * turned off, and the device cannot be put again. A network interface's
 * rate limiters change on the running device. */
static void test_balloon_running(void **state)
{
	(void)state;
	REQUIRE_KVM();
	const char *sock = tmp("br.sock"), *out = tmp("br.out"), *err = tmp("br.err");
	pid_t pid = start_bare(sock, out, err);
	put_guest(sock, count_cmdline());
	put_ok(sock, "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":96}");
	put_ok(sock, "/balloon",
	       "{\"amount_mib\":0,\"deflate_on_oom\":true,\"stats_polling_interval_s\":1}");
	char tap[16];
	snprintf(tap, sizeof(tap), "capsabr%u", (unsigned)getpid() % 100000);
	int with_tap = access("/dev/net/tun", R_OK | W_OK) == 0;
	if (!with_tap)
		printf("# note: no network interface: host has no /dev/net/tun\n");
	if (with_tap) {
		char req[128];
		snprintf(req, sizeof(req), "{\"iface_id\":\"eth0\",\"host_dev_name\":\"%s\"}", tap);
		put_ok(sock, "/network-interfaces/eth0", req);
	}
	put_ok(sock, "/actions", "{\"action_type\":\"InstanceStart\"}");
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Paused\"}", NULL), 204);
	patch_ok(sock, "/balloon", "{\"amount_mib\":3}");
	expect_body(sock, "/balloon/statistics",
	            "{\"target_pages\":768,\"actual_pages\":0,\"target_mib\":3,\"actual_mib\":0");
	expect_body(sock, "/balloon", "{\"amount_mib\":3,\"deflate_on_oom\":true");
	expect_fault(sock, "PATCH", "/balloon", "{\"amount_mib\":97}", 400, "more than the guest");
	expect_fault(sock, "PATCH", "/balloon/statistics", "{\"stats_polling_interval_s\":0}", 400,
	             "cannot be turned off after the VM started");
	patch_ok(sock, "/balloon/statistics", "{\"stats_polling_interval_s\":5}");
	expect_body(sock, "/balloon", "\"stats_polling_interval_s\":5}");
	expect_fault(sock, "PUT", "/balloon", "{\"amount_mib\":1,\"deflate_on_oom\":true}", 400,
	             "after the VM started");
	if (with_tap) {
		patch_ok(sock, "/network-interfaces/eth0",
		         "{\"iface_id\":\"eth0\",\"tx_rate_limiter\":{\"ops\":{\"size\":10,"
		         "\"refill_time\":1000}}}");
		expect_body(sock, "/vm/config",
		            "\"tx_rate_limiter\":{\"bandwidth\":null,\"ops\":{\"size\":10");
		expect_fault(sock, "PATCH", "/network-interfaces/eth1", "{\"iface_id\":\"eth1\"}",
		             400, "no network interface");
	}
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Resumed\"}", NULL), 204);
	expect_finished(pid, out);
}

int main(void)
{
	const struct CMUnitTest plain[] = {
	    cmocka_unit_test(test_refusals_before_start),
	    cmocka_unit_test(test_extra_endpoints),
	};
	const struct CMUnitTest vm[] = {
	    cmocka_unit_test(test_configured_by_api),  cmocka_unit_test(test_started_state),
	    cmocka_unit_test(test_entropy_device),     cmocka_unit_test(test_block_metrics),
	    cmocka_unit_test(test_drive_swap),         cmocka_unit_test(test_drive_swap_sync),
	    cmocka_unit_test(test_balloon_configured), cmocka_unit_test(test_balloon_running),
	};
	int rc =
	    cmocka_run_group_tests_name("control API before start", plain, setup, vm_tmp_teardown);
	return rc | RUN_VM_GROUPS("control API configuration", vm, setup, vm_tmp_teardown);
}
