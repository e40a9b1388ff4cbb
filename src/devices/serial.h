/* SPDX-License-Identifier: Apache-2.0 */
/* 16550A UART (COM1 at 0x3f8, IRQ 4 by default), bound to a console. */
#ifndef CAPSA_DEVICES_SERIAL_H
#define CAPSA_DEVICES_SERIAL_H

#include "devices/device.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_IRQ  4
#define SERIAL_NPORTS    8
#define SERIAL_FIFO      64

struct serial {
	pthread_mutex_t lock;
	struct irq_line irq;
	int out_fd; /* transmitted bytes go here; -1 discards them */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	int thri; /* transmitter-empty interrupt pending */
	uint8_t rx[SERIAL_FIFO];
	unsigned rx_head, rx_count;
	int level;   /* last level put on the IRQ line */
	int discard; /* set once the VM ends: output is dropped, never waited for */
	uint64_t tx_bytes;
};

extern const struct io_ops serial_ops;

void serial_init(struct serial *s, const struct irq_line *irq, int out_fd);
void serial_destroy(struct serial *s);
/* From now on drop output instead of waiting for a full console (called
 * when the VM ends, so that a stuck reader cannot hold a vCPU). */
void serial_discard_output(struct serial *s);
/* Queue received bytes (console input); returns how many fit in the FIFO. */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

#endif
