/* SPDX-License-Identifier: Apache-2.0 */
/* 8254 programmable interval timer (ports 0x40-0x43) and the PC's port
 * 0x61 (bit 0: channel 2 gate, bit 1: speaker data, bit 4: refresh toggle,
 * bit 5: channel 2 output), for the software CPU. The counters run at
 * 1.193182 MHz derived from the host's CLOCK_MONOTONIC, so reading them
 * costs no timer: only channel 0's interrupt (ISA IRQ 0) uses the device
 * timer thread. Modelled: modes 0-5 (6 and 7 alias 2 and 3), LSB/MSB/word
 * access, counter latch, read-back (count and status), the channel 2 gate.
 * BCD counting is not modelled (the bit is kept and reported in the
 * status). Channel 0 raises IRQ 0 as a pulse (1 then 0) at each terminal
 * count, as KVM's PIT does; a periodic rate faster than 10 kHz is clamped.
 *
 * Port 0x61: the i8042 model used to answer 0x60-0x64 as one range. Under
 * the software CPU register i8042 as (I8042_DATA_PORT, 1) and
 * (I8042_CMD_PORT, 1) with i8042_data_ops / i8042_cmd_ops, and pit_speaker_ops
 * at PIT_SPEAKER_PORT (length 1); pit_ops at PIT_PORT (length 4). Both with
 * the struct pit as device and lock NULL (it locks itself).
 *
 * Locking: one mutex; IRQ 0 is raised with it held (lock order PIT -> IRQ
 * router -> PIC / I/O APIC -> LAPIC). State in KVM's struct kvm_pit_state2
 * layout; count_load_time is host CLOCK_MONOTONIC ns like KVM's ktime, so a
 * restore on another host must shift it by the clock difference. */
#ifndef CAPSA_DEVICES_X86_PIT_H
#define CAPSA_DEVICES_X86_PIT_H

#include "devices/device.h"
#include "devices/x86/timers.h"

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>

#define PIT_PORT         0x40
#define PIT_SPEAKER_PORT 0x61
#define PIT_HZ           1193182

struct pit {
	pthread_mutex_t lock;
	struct kvm_pit_state2 st;
	struct irq_line irq0;
	struct dev_timer timer;
	int timer_on;
	int64_t next_ns; /* channel 0's next terminal count (host ns) */
	uint64_t irqs;   /* IRQ 0 pulses raised (statistics, tests) */
};

void pit_init(struct pit *p, const struct irq_line *irq0, struct dev_timers *timers);
/* Cancels channel 0's timer; stop the timer thread first. */
void pit_destroy(struct pit *p);

extern const struct io_ops pit_ops;         /* 0x40-0x43 */
extern const struct io_ops pit_speaker_ops; /* 0x61 */

void pit_get_state(struct pit *p, struct kvm_pit_state2 *s);
void pit_set_state(struct pit *p, const struct kvm_pit_state2 *s);

#endif
