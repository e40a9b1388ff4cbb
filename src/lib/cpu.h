/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CAPSA_LIB_CPU_H
#define CAPSA_LIB_CPU_H

/* Whether a CPU this thread may run on is idle now: fewer tasks running or
 * ready to run on the host (this one among them, from /proc/loadavg) than
 * CPUs in this thread's affinity mask. A hint for starting a helper thread
 * (one on an idle CPU shortens the wall time; on a busy host it does not);
 * 0 when it cannot be told. The one-minute load average is no guide here:
 * a process that keeps one CPU busy holds it near one by itself. */
int cpu_idle_now(void);

#endif
