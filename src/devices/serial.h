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
#define SERIAL_TXBUF     256
/* How long a partial line may wait for its newline while the guest keeps
 * polling the port or taking interrupts (serial_flush_aged). */
#define SERIAL_HOLD_NS 1000000

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
	/* Transmitted bytes held back (buffered mode) until a newline, a full
	 * buffer or a serial_flush, or, once held SERIAL_HOLD_NS, a read of
	 * the line status or receive register or a serial_flush_aged;
	 * unbuffered, each byte is written at once. */
	int buffered;
	uint8_t tx[SERIAL_TXBUF];
	unsigned tx_len;
	uint64_t tx_since; /* CLOCK_MONOTONIC ns of the oldest byte held */
};

extern const struct io_ops serial_ops;

void serial_init(struct serial *s, const struct irq_line *irq, int out_fd);
void serial_destroy(struct serial *s);
/* From now on drop output instead of waiting for a full console (called
 * when the VM ends, so that a stuck reader cannot hold a vCPU). */
void serial_discard_output(struct serial *s);
/* Hold transmitted bytes back from now on (serial.tx): set before the
 * guest runs, where something calls serial_flush whenever the guest may
 * stop writing for a while (it halts, takes an interrupt, or its vCPU
 * returns to the VM core). */
void serial_set_buffered(struct serial *s, int on);
/* Write out the bytes held back, if any. Takes the device's lock. After
 * serial_discard_output it waits at most one 100 ms slice for room. */
void serial_flush(struct serial *s);
/* The same once the oldest byte held has waited SERIAL_HOLD_NS (the guest
 * took an interrupt but may go on writing the line). */
void serial_flush_aged(struct serial *s);
/* Queue received bytes (console input); returns how many fit in the FIFO. */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

#endif
