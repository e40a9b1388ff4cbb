/* SPDX-License-Identifier: Apache-2.0 */
/* Timer state in snapshots relative to the guest's time (timers.c). */
#ifndef CAPSA_VM_SNAPSHOT_TIMERS_H
#define CAPSA_VM_SNAPSHOT_TIMERS_H

#include "devices/x86/irqchip.h"

/* Before writing: host times become ages at the save. */
void snap_timers_save(struct x86_irqchip_state *chip);
/* Before setting (files of format version 2 on): ages become host times. */
void snap_timers_restore(struct x86_irqchip_state *chip);

#endif
