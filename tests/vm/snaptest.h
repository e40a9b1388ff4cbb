/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the control API and snapshot tests: the counting test guest
 * (tests/guests/count.c) run under `capsa vm run --api-sock`, its expected
 * checksum, and raw HTTP requests on the API socket. */
#ifndef CAPSA_TESTS_SNAPTEST_H
#define CAPSA_TESTS_SNAPTEST_H

#include "vm/vmtest.h"

#include "vm/api/client.h"

#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define COUNT_LINES 150

/* Work per line so that a run lasts a few seconds on either accelerator. */
static inline const char *count_cmdline(void)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "test=count lines=%d work=%d", COUNT_LINES,
	         accel_is_kvm() ? 3000000 : 100000);
	return buf;
}

/* The guest's final checksum, computed here the same way. */
static inline uint32_t count_expected(uint64_t lines, uint64_t work)
{
	enum { WORDS = 1u << 18 };
	uint32_t *buf = calloc(WORDS, sizeof(uint32_t));
	assert_non_null(buf);
	uint32_t sum = 0;
	for (uint64_t i = 0; i < lines; i++)
		for (uint64_t j = 0; j < work; j++) {
			uint32_t k = (uint32_t)((j * 7919u + i * 104729u) % WORDS);
			buf[k] += (uint32_t)(j ^ i);
			sum = sum * 31u + buf[k];
		}
	free(buf);
	return sum;
}

static inline uint32_t count_expected_default(void)
{
	return count_expected(COUNT_LINES, accel_is_kvm() ? 3000000 : 100000);
}

/* Number of occurrences of `needle` in the file at `path`. */
static inline int file_count(const char *path, const char *needle)
{
	char *s = read_file(path, NULL);
	int n = 0;
	for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(s);
	return n;
}

/* A fresh 4 MiB disk image at path (all zero). */
static inline void make_disk(const char *path)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 << 20), 0);
	close(fd);
}

static inline size_t file_size_of(const char *path)
{
	struct stat st;
	return stat(path, &st) ? 0 : (size_t)st.st_size;
}

/* Wait until `path` contains `needle` (up to timeout s); 1 if it does. */
static inline int wait_file_has(const char *path, const char *needle, double timeout)
{
	double t0 = now_secs();
	while (now_secs() - t0 < timeout) {
		if (file_count(path, needle) > 0)
			return 1;
		usleep(20000);
	}
	return 0;
}

/* Spawn capsa with argv (NULL-terminated), stdout into out_path, stderr
 * into err_path. */
static inline pid_t spawn_capsa(const char *out_path, const char *err_path, const char *const *argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDONLY);
		dup2(out, 1);
		dup2(err, 2);
		dup2(null, 0);
		execv(test_capsa_bin(), (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Wait for the API socket to accept connections (up to 20 s). */
static inline int wait_api(const char *sock)
{
	double t0 = now_secs();
	while (now_secs() - t0 < 20) {
		int st = 0;
		char *body = NULL;
		struct err e = {0};
		if (vm_api_call(sock, "GET", "/", NULL, &st, &body, &e) == 0) {
			free(body);
			return st == 200;
		}
		usleep(20000);
	}
	return 0;
}

/* spawn_capsa for a VM serving the API at `sock`; returns the pid once the
 * API answers (the test fails if it never does). */
static inline pid_t spawn_capsa_api(const char *out_path, const char *err_path,
                                    const char *const *argv, const char *sock)
{
	pid_t pid = spawn_capsa(out_path, err_path, argv);
	assert_true(pid > 0);
	if (!wait_api(sock)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("the API socket %s never answered", sock);
	}
	return pid;
}

/* The guest ran to the end with the right checksum, counted from 0
 * `starts` times (1 for a fresh VM, 0 for a restored one), and capsa
 * exited 0. */
static inline void expect_finished_from(pid_t pid, const char *out, int starts)
{
	int st;
	double took;
	assert_int_equal(wait_with_deadline(pid, 120, &st, &took), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[64];
	snprintf(want, sizeof(want), "count: done sum=0x%08x\n", count_expected_default());
	assert_int_equal(file_count(out, want), 1);
	assert_int_equal(file_count(out, "count: 0 sum="), starts);
}

static inline void expect_finished(pid_t pid, const char *out)
{
	expect_finished_from(pid, out, 1);
}

/* One API call; returns the status, body into *body (malloc'd). */
static inline int api(const char *sock, const char *method, const char *path, const char *json,
                      char **body)
{
	int st = 0;
	char *b = NULL;
	struct err e = {0};
	if (vm_api_call(sock, method, path, json, &st, &b, &e)) {
		printf("# note: API call failed: %s\n", e.msg);
		return -1;
	}
	if (body)
		*body = b;
	else
		free(b);
	return st;
}

/* Pause the VM of process `pid` through its API socket, save it to `snap`
 * and kill the process: only the file is left. */
static inline void pause_save_kill(const char *sock, const char *snap, pid_t pid)
{
	assert_int_equal(api(sock, "PATCH", "/vm", "{\"state\":\"Paused\"}", NULL), 204);
	char req[4400];
	snprintf(req, sizeof(req), "{\"snapshot_path\":\"%s\"}", snap);
	assert_int_equal(api(sock, "PUT", "/snapshot/create", req, NULL), 204);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* `capsa vm restore snap` of a Linux guest saved after its boot began: it
 * exits 0 without booting again, its console has `want` and the reset. */
static inline void restore_linux(struct run_result *r, const char *snap, double timeout,
                                 const char *want)
{
	capsa_run(r, timeout, "vm", "restore", snap, NULL);
	if (r->status || !strstr(r->out, want))
		printf("# note: restore status %d: %s\n# console: %s\n", r->status, r->err, r->out);
	assert_int_equal(r->status, 0);
	assert_null(strstr(r->out, "Linux version"));
	assert_non_null(strstr(r->out, want));
	assert_non_null(strstr(r->out, "reboot: Restarting system"));
}

/* status 2 and one line "capsa vm restore: ..." containing `needle` */
static inline void expect_refused(const char *file, const char *needle)
{
	struct run_result r;
	capsa_run(&r, 30, "vm", "restore", file, "--console", "none", NULL);
	if (r.status != 2 || !strstr(r.err, needle))
		printf("# note: %s: want \"%s\", status %d: %s\n", file, needle, r.status, r.err);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, needle));
	assert_true(!strncmp(r.err, "capsa vm restore: ", 18));
	assert_int_equal(strchr(r.err, '\n') - r.err + 1, (long)strlen(r.err));
	run_result_free(&r);
}

/* Send raw bytes on the API socket and return the response's status line
 * code (or -1), the response text into resp. */
static inline int api_raw(const char *sock, const char *req, size_t len, char *resp, size_t cap)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, req + off, len - off);
		if (w <= 0)
			break; /* the server may answer 413 and close early */
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	size_t got = 0;
	ssize_t n;
	while (got < cap - 1 && (n = read(fd, resp + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	resp[got] = '\0';
	close(fd);
	int code = -1;
	if (sscanf(resp, "HTTP/1.1 %d", &code) != 1)
		return -1;
	return code;
}

#endif
