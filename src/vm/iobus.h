/* SPDX-License-Identifier: Apache-2.0 */
/* Port I/O and MMIO dispatch: a sorted table of ranges, each served by one
 * device under its own lock. Unclaimed reads return all ones. */
#ifndef CAPSA_VM_IOBUS_H
#define CAPSA_VM_IOBUS_H

#include "devices/device.h"
#include "lib/err.h"

#include <pthread.h>
#include <stdint.h>

#define IOBUS_MAX 64

struct iobus_range {
	uint64_t base, len;
	const struct io_ops *ops;
	void *dev;
	pthread_mutex_t *lock; /* the device's lock, shared by all its ranges */
};

struct iobus {
	struct iobus_range r[IOBUS_MAX];
	unsigned n;
	uint64_t unclaimed; /* count of accesses nobody claimed */
};

void iobus_init(struct iobus *b);
/* Fails on overlap or a full table. */
int iobus_register(struct iobus *b, uint64_t base, uint64_t len, const struct io_ops *ops,
                   void *dev, pthread_mutex_t *lock, struct err *e);
/* Returns 1 if a device claimed the access, 0 if not (reads then get 0xff). */
int iobus_read(struct iobus *b, uint64_t addr, uint8_t *data, unsigned size);
int iobus_write(struct iobus *b, uint64_t addr, const uint8_t *data, unsigned size);

#endif
