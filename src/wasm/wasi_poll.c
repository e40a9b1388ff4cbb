/* SPDX-License-Identifier: Apache-2.0 */
/* WASI poll_oneoff: clock subscriptions (relative or absolute, on any of
 * the four clocks) and fd_read/fd_write readiness of guest descriptors,
 * waited for together with ppoll(2). */
#include "wasm/wasi_impl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>

#define SUB_SIZE  48
#define EVT_SIZE  32
#define MAX_SUBS  4096
#define EV_CLOCK  0
#define EV_READ   1
#define EV_WRITE  2
#define NS        1000000000ull
#define CLOCK_ABS 1

static uint64_t now_ns(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void put_event(uint8_t *ev, const uint8_t *sub, uint16_t error, uint64_t nbytes,
                      uint16_t flags)
{
	memset(ev, 0, EVT_SIZE);
	memcpy(ev, sub, 8); /* userdata */
	memcpy(ev + 8, &error, 2);
	ev[10] = sub[8];
	if (sub[8] != EV_CLOCK) {
		memcpy(ev + 16, &nbytes, 8);
		memcpy(ev + 24, &flags, 2);
	}
}

int wasi_wait_ready(struct capsa_wasi *w, int fd, short events)
{
	struct pollfd p[2] = {{fd, events, 0},
	                      {capsa_wasm_store_interrupt_fd(w->store), POLLIN, 0}};
	while (poll(p, 2, -1) < 0)
		if (errno != EINTR)
			return 0;
	return (p[1].revents & POLLIN) ? -1 : 0;
}

struct sub_state {
	int pfd;           /* index in the pollfd array, or -1 */
	uint16_t error;    /* reported at once */
	uint64_t deadline; /* clocks: CLOCK_MONOTONIC nanoseconds */
};

WASI_FN(wasi_poll_oneoff)
{
	struct wmem M = {NULL, 0};
	struct capsa_wasm_memory *mem = capsa_wasm_caller_memory(caller);
	if (mem)
		M.base = capsa_wasm_memory_data(mem, &M.size);
	uint32_t in = ARG(0), out = ARG(1), n = ARG(2);
	if (!n)
		RET(WASI_EINVAL);
	if (n > MAX_SUBS || !wptr(&M, in, (uint64_t)n * SUB_SIZE) ||
	    !wptr(&M, out, (uint64_t)n * EVT_SIZE) || !wptr(&M, ARG(3), 4))
		RET(WASI_EFAULT);
	struct sub_state *st = calloc(n, sizeof(*st));
	struct pollfd *pfds = calloc((size_t)n + 1, sizeof(*pfds));
	if (!st || !pfds) {
		free(st);
		free(pfds);
		RET(WASI_ENOMEM);
	}
	static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC,
	                                   CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
	uint64_t start = now_ns(CLOCK_MONOTONIC), wait = UINT64_MAX;
	int npfd = 0, immediate = 0, rc = 0;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = M.base + in + i * SUB_SIZE;
		st[i].pfd = -1;
		if (s[8] == EV_CLOCK) {
			uint32_t id;
			uint64_t timeout;
			uint16_t flags;
			memcpy(&id, s + 16, 4);
			memcpy(&timeout, s + 24, 8);
			memcpy(&flags, s + 40, 2);
			if (id > 3) {
				st[i].error = WASI_EINVAL;
				immediate = 1;
				continue;
			}
			if (flags & CLOCK_ABS) {
				uint64_t now = now_ns(clocks[id]);
				timeout = timeout > now ? timeout - now : 0;
			}
			st[i].deadline =
			    timeout > UINT64_MAX - start ? UINT64_MAX : start + timeout;
			if (timeout < wait)
				wait = timeout;
		} else if (s[8] == EV_READ || s[8] == EV_WRITE) {
			uint32_t fd;
			int host;
			memcpy(&fd, s + 16, 4);
			int err = wasi_fd((struct capsa_wasi *)env, fd,
			                  s[8] == EV_READ ? R_FD_READ : R_FD_WRITE, &host);
			if (err) {
				st[i].error = (uint16_t)err;
				immediate = 1;
				continue;
			}
			pfds[npfd].fd = host;
			pfds[npfd].events = s[8] == EV_READ ? POLLIN : POLLOUT;
			st[i].pfd = npfd++;
		} else {
			rc = WASI_EINVAL;
			goto out;
		}
	}
	if (immediate)
		wait = 0;
	/* Last: the store's interrupt descriptor, so that --timeout ends a
	 * sleep or a wait for input. */
	pfds[npfd].fd = capsa_wasm_store_interrupt_fd(((struct capsa_wasi *)env)->store);
	pfds[npfd].events = POLLIN;
	for (;;) {
		struct timespec ts = {(time_t)(wait / NS), (long)(wait % NS)};
		int r = ppoll(pfds, (nfds_t)npfd + 1, wait == UINT64_MAX ? NULL : &ts, NULL);
		if (r >= 0 && (pfds[npfd].revents & POLLIN)) {
			free(st);
			free(pfds);
			return CAPSA_WASM_TRAP_OUT_OF_FUEL;
		}
		if (r >= 0)
			break;
		if (errno != EINTR) {
			rc = wasi_errno(errno);
			goto out;
		}
		uint64_t spent = now_ns(CLOCK_MONOTONIC) - start;
		if (wait != UINT64_MAX)
			wait = wait > spent ? wait - spent : 0;
	}
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	uint32_t nev = 0;
	int any_fd = 0;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = M.base + in + i * SUB_SIZE;
		uint8_t *ev = M.base + out + nev * EVT_SIZE;
		if (st[i].error) {
			put_event(ev, s, st[i].error, 0, 0);
			nev++;
		} else if (st[i].pfd >= 0 && pfds[st[i].pfd].revents) {
			short re = pfds[st[i].pfd].revents;
			int avail = 0;
			if (s[8] == EV_READ && ioctl(pfds[st[i].pfd].fd, FIONREAD, &avail))
				avail = 0;
			put_event(ev, s, (re & POLLNVAL) ? WASI_EBADF : 0,
			          avail > 0 ? (uint64_t)avail : 0, (re & POLLHUP) ? 1 : 0);
			nev++;
			any_fd = 1;
		}
	}
	/* Clocks that have expired; if nothing at all is ready the wait ended
	 * at the earliest deadline, which then counts as reached. */
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = M.base + in + i * SUB_SIZE;
		if (s[8] != EV_CLOCK || st[i].error)
			continue;
		if (st[i].deadline <= now || (!nev && !any_fd && st[i].deadline - start == wait)) {
			put_event(M.base + out + nev * EVT_SIZE, s, 0, 0, 0);
			nev++;
		}
	}
	wput32(&M, ARG(3), nev);
out:
	free(st);
	free(pfds);
	RET(rc);
}
