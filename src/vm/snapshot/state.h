/* SPDX-License-Identifier: Apache-2.0 */
/* The parts of saving and restoring that a snapshot file and a migration
 * stream (src/vm/migrate) share: the header that describes the machine,
 * the state sections (everything but memory), creating a VM for saved
 * state and setting that state. */
#ifndef CAPSA_VM_SNAPSHOT_STATE_H
#define CAPSA_VM_SNAPSHOT_STATE_H

#include "vm/snapshot/load.h"
#include "vm/snapshot/snapshot.h"

/* Header fields that describe the machine and the CPU the guest saw. */
int snap_header_fill(struct vm *vm, struct snap_header *h, struct err *e);
/* Which pages of guest RAM may hold data (one byte a page, malloc'd), or
 * NULL when all must be read. Anonymous memory never touched is zero;
 * memory mapped from a raw snapshot is not (its untouched pages are the
 * file's); a chunk of a compressed snapshot not yet filled must be read
 * (which fills it). */
int snap_touched_map(struct vm *vm, uint8_t **out, struct err *e);
/* Write every state section (all but memory) of the paused VM to fd from
 * *off on, record them in h and advance *off past them; with_disks also
 * writes the disks' data (a snapshot's --with-disks); the device section
 * records `names` (NULL: none). */
int snap_state_write(struct vm *vm, int fd, struct snap_header *h, int with_disks,
                     const struct vm_device_names *names, uint64_t *off, struct err *e);
/* A VM for the machine `l` describes, its vCPUs still in their reset
 * state: memory mapped privately from mem_fd at mem_off, or anonymous
 * (all zero) when mem_fd is -1; with the virtio devices `virtio` describes
 * (NULL: none). The accelerator must offer the saved CPU's
 * features (ERR_INPUT naming the missing ones). */
int snap_create_vm(struct vm **out, const struct snap_loaded *l, int mem_fd, uint64_t mem_off,
                   const struct vm_virtio_config *virtio, const struct vm_restore_opts *o,
                   struct err *e);
/* Give every vCPU, the interrupt controllers and the legacy devices their
 * saved state, while no vCPU runs. */
int snap_state_set(struct vm *vm, const struct snap_loaded *l, struct err *e);

#endif
