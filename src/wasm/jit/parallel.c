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

/* The size class of a body: the bit length of its size in bytes. */
static unsigned size_class(uint32_t len)
{
	return len ? 32u - (unsigned)__builtin_clz(len) : 0;
}

uint32_t *jit_largest_first(const struct capsa_wasm_module *m)
{
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	uint32_t *order = malloc(((size_t)ndef + 1) * sizeof(*order));
	if (!order)
		return NULL;
	/* a counting sort by size class, largest first: in one pass, where a
	 * sort by size takes longer than it saves on a module of many small
	 * functions */
	uint32_t at[34] = {0};
	for (uint32_t i = 0; i < ndef; i++)
		at[size_class(m->code[i].body_len)]++;
	for (uint32_t k = 33, pos = 0; k-- > 0;) {
		uint32_t n = at[k];
		at[k] = pos;
		pos += n;
	}
	for (uint32_t i = 0; i < ndef; i++)
		order[at[size_class(m->code[i].body_len)]++] = i;
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
