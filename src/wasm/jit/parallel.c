/* SPDX-License-Identifier: Apache-2.0 */
/* Compiling an instance on two threads: whether to (a CPU idle for the
 * second), and the order in which the threads take the functions. */
#include "wasm/jit/parallel.h"

#include "wasm/jit/jc.h"
#include "wasm/jit/jit.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The tasks running or ready to run on the host now: the fourth field of
 * /proc/loadavg ("0.50 0.40 0.30 R/T PID"); -1 when it cannot be read. */
static long tasks_running(void)
{
	char t[128];
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, t, sizeof(t) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	t[n] = 0;
	const char *p = t;
	for (int field = 0; field < 3; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	char *end;
	long r = strtol(p, &end, 10);
	return end != p && *end == '/' ? r : -1;
}

int jit_cpu_idle(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	long cpus = CPU_COUNT(&set), running = tasks_running();
	return cpus >= 2 && running >= 1 && running < cpus;
}

static int by_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

uint32_t *jit_largest_first(const struct capsa_wasm_module *m)
{
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	uint64_t *key = malloc(((size_t)ndef + 1) * sizeof(*key));
	uint32_t *order = malloc(((size_t)ndef + 1) * sizeof(*order));
	if (key && order) {
		/* the size's complement above, the index below: ascending keys
		 * are the largest bodies first, in index order among equals */
		for (uint32_t i = 0; i < ndef; i++)
			key[i] = (uint64_t)(UINT32_MAX - m->code[i].body_len) << 32 | i;
		qsort(key, ndef, sizeof(*key), by_key);
		for (uint32_t i = 0; i < ndef; i++)
			order[i] = (uint32_t)key[i];
	} else {
		free(order);
		order = NULL;
	}
	free(key);
	return order;
}

int jit_want_helper(struct jit_store *js, const struct capsa_wasm_module *m, int dump)
{
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	if (js->threads == 1 || ndef < 2 || dump)
		return 0;
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < ndef; i++)
		bytes += m->code[i].body_len;
	if (!js->threads && (bytes < WASM_JIT_PARALLEL_BYTES || !jit_cpu_idle()))
		return 0;
	/* Compiling registers the signatures of call_indirect: done here
	 * first, so that the threads only look them up. */
	for (uint32_t t = 0; t < m->ntypes; t++)
		if (!jit_sig(js, &m->types[t]))
			return 0;
	return 1;
}
