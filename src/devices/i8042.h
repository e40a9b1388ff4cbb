/* SPDX-License-Identifier: Apache-2.0 */
/* i8042 keyboard controller, just enough for Linux to probe it and for the
 * guest's keyboard-controller reset (`reboot=k`) to end the VM. No keyboard
 * or mouse is attached: bytes sent to them are answered at once with
 * "resend" (0xfe) and the port's interrupt (IRQ 1 or 12, when the guest
 * enabled it), so a driver learns there is nothing there without waiting
 * for its timeouts. A key sequence can still be typed (i8042_ctrl_alt_del):
 * Linux takes it when the keyboard is not probed (i8042.dumbkbd). Ports 0x60 (data) and 0x64
 * (status/command). */
#ifndef CAPSA_DEVICES_I8042_H
#define CAPSA_DEVICES_I8042_H

#include "devices/device.h"

#include <pthread.h>
#include <stdint.h>

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64

struct i8042 {
	pthread_mutex_t lock;
	struct vm_control ctl;
	uint8_t ctr;    /* controller configuration byte */
	uint8_t out[4]; /* bytes waiting in the output buffer */
	uint8_t aux[4]; /* ... each from the auxiliary (mouse) port? */
	unsigned nout;
	struct irq_line kbd_irq, aux_irq; /* IRQ 1 and IRQ 12 */
	uint8_t pending;                  /* command waiting for its data byte, 0 if none */
	uint8_t keys[16];                 /* keyboard bytes still to send, one at a time */
	unsigned nkeys;
};

/* Register as one range at 0x60 of length 5: offset 0 is the data port,
 * offset 4 the status/command port (0x61, the speaker port, is KVM's). */
extern const struct io_ops i8042_ops;
/* Or as two one-byte ranges, I8042_DATA_PORT with i8042_data_ops and
 * I8042_CMD_PORT with i8042_cmd_ops, when a user-space PIT owns port 0x61
 * (the software CPU: devices/x86/pit.h). */
extern const struct io_ops i8042_data_ops;
extern const struct io_ops i8042_cmd_ops;

/* kbd_irq / aux_irq may be NULL (no interrupts). */
void i8042_init(struct i8042 *k, const struct vm_control *ctl, const struct irq_line *kbd_irq,
                const struct irq_line *aux_irq);
void i8042_destroy(struct i8042 *k);
/* Press and release Ctrl-Alt-Del on a keyboard: its set 2 scancodes reach
 * the guest one byte and one interrupt at a time while the keyboard port is
 * enabled, translated to set 1 when the guest asked for it (CTR bit 6).
 * Takes k->lock. */
void i8042_ctrl_alt_del(struct i8042 *k);

#endif
