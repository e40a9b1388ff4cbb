/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/cpu.h"

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

int cpu_idle_now(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	long cpus = CPU_COUNT(&set), running = cpus >= 2 ? tasks_running() : -1;
	return running >= 1 && running < cpus;
}
