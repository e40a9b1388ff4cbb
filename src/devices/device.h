/* SPDX-License-Identifier: Apache-2.0 */
/* What a device model sees of the machine: a bus to register on, an
 * interrupt line to raise, and a way to ask the VM to end. Device models
 * never call KVM; the VM core implements these interfaces. */
#ifndef CAPSA_DEVICES_DEVICE_H
#define CAPSA_DEVICES_DEVICE_H

#include <stdint.h>

/* Accesses are 1, 2, 4 or 8 bytes at `offset` within the device's range;
 * `data` is little-endian. Reads must fill all `size` bytes. */
struct io_ops {
	void (*read)(void *dev, uint64_t offset, uint8_t *data, unsigned size);
	void (*write)(void *dev, uint64_t offset, const uint8_t *data, unsigned size);
};

struct irq_line {
	void (*set_level)(void *ctx, unsigned irq, int level);
	void *ctx;
	unsigned irq;
};

static inline void irq_line_set(const struct irq_line *l, int level)
{
	if (l->set_level)
		l->set_level(l->ctx, l->irq, level);
}

/* Why a VM ended, when a device ends it. */
enum vm_end_reason {
	VM_END_NONE = 0,
	VM_END_RESET,      /* guest reset (i8042 pulse, KVM reset event): status 0 */
	VM_END_POWEROFF,   /* guest powered off: status 0 */
	VM_END_DEBUG_EXIT, /* guest wrote its exit status to the debug-exit port */
	VM_END_CRASH,      /* triple fault, KVM internal error, failed entry */
	VM_END_USER,       /* Ctrl-A x on the console */
	VM_END_SIGNAL,     /* the host asked capsa to stop */
	VM_END_ERROR,      /* capsa failed (host error) */
	VM_END_MIGRATED,   /* the VM moved to another host and runs there: status 0 */
};

struct vm_control {
	void (*request_end)(void *ctx, enum vm_end_reason why, int status);
	void *ctx;
};

#endif
