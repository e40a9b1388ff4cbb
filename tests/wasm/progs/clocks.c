/* SPDX-License-Identifier: Apache-2.0 */
/* Test program: clocks and sleeping. Usage: clocks HOST_SECONDS, the
 * host's realtime clock in seconds as the test saw it just before. Prints
 * only the outcome of each check, so the native and the wasm build print
 * the same lines. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int64_t ns(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts))
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "ok" : "FAILED");
}

int main(int argc, char **argv)
{
	int64_t host = argc > 1 ? atoll(argv[1]) : 0;
	struct timespec res;
	check("realtime resolution", clock_getres(CLOCK_REALTIME, &res) == 0 && res.tv_sec == 0 &&
	                                 res.tv_nsec > 0 && res.tv_nsec <= 1000000);
	check("monotonic resolution", clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 &&
	                                  res.tv_nsec > 0 && res.tv_nsec <= 1000000);
	int64_t rt = ns(CLOCK_REALTIME) / 1000000000;
	check("realtime near the host's", rt >= host - 5 && rt <= host + 30);
	int64_t prev = ns(CLOCK_MONOTONIC), ok = prev > 0;
	for (int i = 0; i < 100000 && ok; i++) {
		int64_t t = ns(CLOCK_MONOTONIC);
		ok = t >= prev;
		prev = t;
	}
	check("monotonic never goes back", ok);

	/* Relative sleep (poll_oneoff with a relative clock). */
	int64_t t0 = ns(CLOCK_MONOTONIC);
	struct timespec d = {0, 30000000};
	nanosleep(&d, NULL);
	int64_t slept = ns(CLOCK_MONOTONIC) - t0;
	check("relative sleep of 30 ms", slept >= 30000000 && slept < 5000000000);

	/* Absolute sleep (an absolute clock subscription). */
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += 20000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
	int64_t after = ns(CLOCK_MONOTONIC);
	check("absolute sleep until +20 ms",
	      rc == 0 && after >= (int64_t)until.tv_sec * 1000000000 + until.tv_nsec);
	struct timespec past = {0, 1};
	t0 = ns(CLOCK_MONOTONIC);
	rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &past, NULL);
	check("absolute sleep until the past returns at once",
	      rc == 0 && ns(CLOCK_MONOTONIC) - t0 < 1000000000);

	/* poll with no descriptors is a sleep; stdout is writable. */
	t0 = ns(CLOCK_MONOTONIC);
	rc = poll(NULL, 0, 25);
	check("poll timeout of 25 ms", rc == 0 && ns(CLOCK_MONOTONIC) - t0 >= 25000000);
	fflush(stdout);
	struct pollfd p = {.fd = 1, .events = POLLOUT};
	rc = poll(&p, 1, 1000);
	check("stdout ready for writing", rc == 1 && (p.revents & POLLOUT));
	return 0;
}
