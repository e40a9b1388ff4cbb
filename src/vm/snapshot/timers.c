/* SPDX-License-Identifier: Apache-2.0 */
/* Timer deadlines in a snapshot are kept relative to the moment of the
 * save, not in the host's clock: the PIT channels' load times (host
 * CLOCK_MONOTONIC ns in KVM's layout, under either accelerator) become
 * their age at the save, and a restore puts them that far before its own
 * now. The guest's time thus continues from where it was, as its TSC does,
 * however long the file lay and on whichever host it is restored. The local
 * APIC's timer needs nothing: its current count and its TSC deadline are
 * saved as such. */
#include "vm/snapshot/timers.h"

#include "devices/x86/clock.h"

void snap_timers_save(struct x86_irqchip_state *chip)
{
	int64_t now = x86_clock_host_ns();
	for (unsigned i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &chip->pit.channels[i];
		c->count_load_time = c->count_load_time < now ? now - c->count_load_time : 0;
	}
}

void snap_timers_restore(struct x86_irqchip_state *chip)
{
	int64_t now = x86_clock_host_ns();
	for (unsigned i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &chip->pit.channels[i];
		/* an age from the file: negative or absurd means "just loaded" */
		int64_t age = c->count_load_time;
		c->count_load_time = age >= 0 && age < now ? now - age : now;
	}
}
