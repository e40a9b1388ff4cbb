/* SPDX-License-Identifier: Apache-2.0 */
/* CMOS RAM with the MC146818 real-time clock registers (ports 0x70/0x71).
 * Time comes from the host clock (UTC), in BCD and 24-hour mode. */
#ifndef CAPSA_DEVICES_CMOS_H
#define CAPSA_DEVICES_CMOS_H

#include "devices/device.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define CMOS_PORT 0x70

struct cmos {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[128];
	time_t (*now)(void); /* clock source; tests may replace it */
};

extern const struct io_ops cmos_ops; /* register at 0x70, length 2 */

void cmos_init(struct cmos *c, uint64_t ram_size);
void cmos_destroy(struct cmos *c);

#endif
