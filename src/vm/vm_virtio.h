/* SPDX-License-Identifier: Apache-2.0 */
/* Virtio devices of a VM: configuration (part of struct vm_config), the
 * kernel command line that announces them, and their attachment to the
 * accelerator (ioeventfd kicks, irqfd interrupts, one I/O thread per device). */
#ifndef CAPSA_VM_VM_VIRTIO_H
#define CAPSA_VM_VM_VIRTIO_H

#include "disk/disk.h"
#include "lib/err.h"
#include "vm/vm_net.h"
#include "vm/vm_vsock.h"

#include <stddef.h>
#include <stdint.h>

#define VM_VIRTIO_MAX       9 /* one I/O APIC pin each */
#define VM_VIRTIO_MMIO_BASE 0xd0000000ULL
#define VM_VIRTIO_POLL_US   32 /* default queue polling after work, per disk */

struct vm_virtio_disk {
	char path[4096];
	enum disk_format format;
	int readonly;
	enum disk_cache cache;
	char id[21]; /* virtio-blk serial (GET_ID), "" for none */
	/* token-bucket limits, 0 = none; bursts default to one second's worth */
	uint64_t bps, bps_burst, iops, iops_burst;
	uint64_t poll_us; /* I/O thread polls the queue this long after work (0: never) */
	int sync_io;      /* aio=sync: no io_uring, requests served one at a time */
};

struct vm_virtio_config {
	struct vm_virtio_disk disks[VM_VIRTIO_MAX];
	unsigned ndisks;
	int rng;
	int balloon;             /* add a virtio-balloon */
	uint64_t balloon_target; /* bytes the host asks the guest to give back */

	/* virtio-net devices (vm_net.h) */
	struct vm_net_config net;
	/* virtio-vsock, the last device when enabled */
	struct vm_vsock_config vsock;
};

/* Parse "path=F[,format=raw|qcow2][,readonly][,cache=none|writeback][,id=ID]
 * [,bps=N][,bps_burst=N][,iops=N][,iops_burst=N][,poll_us=N][,aio=io_uring|sync]"
 * (a bare F is taken as path=F)
 * and add the disk. */
int vm_virtio_add_disk(struct vm_virtio_config *c, const char *spec, struct err *e);

/* Devices in attachment order: disks, then rng, then balloon, then network,
 * then vsock. */
unsigned vm_virtio_count(const struct vm_virtio_config *c);
uint64_t vm_virtio_base(unsigned index);
unsigned vm_virtio_irq(unsigned index);
/* Append " virtio_mmio.device=4K@0x...:IRQ" for each device to cmdline;
 * returns a malloc'd string or NULL (errno set). */
char *vm_virtio_cmdline(const struct vm_virtio_config *c, const char *cmdline);

struct vm;
struct vm_virtio;
/* Called by vm_create once guest memory and the buses exist, before an
 * accelerator is chosen (so bad disk or network options fail first). */
int vm_virtio_attach(struct vm *vm, const struct vm_virtio_config *c, struct err *e);
/* Called once the accelerator exists: wires irqfd/ioeventfd where offered. */
int vm_virtio_connect(struct vm *vm, struct err *e);
/* Stops the I/O threads and closes the disks; before guest memory goes away. */
void vm_virtio_detach(struct vm *vm);
/* How many virtio devices the VM has (snapshots refuse them for now). */
unsigned vm_virtio_devices(const struct vm *vm);

#endif
