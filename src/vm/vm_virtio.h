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

/* The balloon's switches, four bytes where an int "add a balloon" (0/1)
 * stood in snapshot files of before: such a balloon offers deflate-on-OOM
 * and polls no statistics. */
struct vm_balloon_config {
	uint8_t enabled;           /* add a virtio-balloon */
	uint8_t no_deflate_on_oom; /* withhold VIRTIO_BALLOON_F_DEFLATE_ON_OOM */
	uint16_t stats_s;          /* ask the guest for statistics this often (0: never) */
};

struct vm_virtio_config {
	struct vm_virtio_disk disks[VM_VIRTIO_MAX];
	unsigned ndisks;
	int rng;
	struct vm_balloon_config balloon;
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

/* The device registry: one table of the VM's virtio devices, in
 * attachment order (disks, rng, balloon, network, vsock). Each entry has
 * its kind, its place (MMIO window and I/O APIC pin), and the state a
 * snapshot keeps; the kernel command line and snapshots walk it, and a new
 * device type is one entry of the kinds table in vm_virtio.c. */
enum vm_dev_kind {
	VM_DEV_BLK = 1,
	VM_DEV_RNG = 2,
	VM_DEV_BALLOON = 3,
	VM_DEV_NET = 4,
	VM_DEV_VSOCK = 5,
};

struct vm_dev_place {
	enum vm_dev_kind kind;
	unsigned sub; /* which one of its kind in the configuration (disk 0, 1, ...) */
	uint64_t base;
	unsigned irq;
};

/* How many devices the configuration asks for. */
unsigned vm_virtio_count(const struct vm_virtio_config *c);
/* The registry's places for a configuration: fills up to VM_VIRTIO_MAX
 * entries of out and returns how many there are (may exceed VM_VIRTIO_MAX,
 * which vm_virtio_attach refuses). */
unsigned vm_virtio_plan(const struct vm_virtio_config *c, struct vm_dev_place *out);
uint64_t vm_virtio_base(unsigned index);
unsigned vm_virtio_irq(unsigned index);
/* Append " virtio_mmio.device=4K@0x...:IRQ" for each device of the plan to
 * cmdline; returns a malloc'd string or NULL (errno set). */
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
/* How many virtio devices the VM has. */
unsigned vm_virtio_devices(const struct vm *vm);
/* The configuration the devices were attached with (NULL without devices). */
const struct vm_virtio_config *vm_virtio_attached(const struct vm *vm);
/* Device i's place; -1 if there is no such device. */
int vm_virtio_place(const struct vm *vm, unsigned i, struct vm_dev_place *out);
/* Device i's disk (blk devices), else NULL. */
struct disk *vm_virtio_disk(const struct vm *vm, unsigned i);
/* Serve disk number `disk` (its index among the disks) from `path`, opened
 * with the disk's options, while the devices are quiesced (vm_pause): the
 * old file is closed and the guest gets a configuration-change interrupt.
 * Nothing changes on an error. */
int vm_virtio_swap_disk(struct vm *vm, unsigned disk, const char *path, struct err *e);
/* Rate limits of disk number `disk` from lim's bps, iops and bursts (0: no
 * limit), while the devices are quiesced. */
int vm_virtio_set_disk_limits(struct vm *vm, unsigned disk, const struct vm_virtio_disk *lim,
                              struct err *e);
/* Device i's counters, read while it runs (each counter whole, not all at
 * one instant): VM_DEV_BLK with *blk filled, VM_DEV_NET with *net filled,
 * else -1 (another kind, or no such device). */
struct virtio_blk_stats;
int vm_virtio_counters(const struct vm *vm, unsigned i, struct virtio_blk_stats *blk,
                       struct virtio_net_stats *net);

/* Quiesce: stop every device's I/O thread between two requests, complete
 * the requests in flight (their used entries written and interrupts
 * raised) and flush the disks. Idempotent. vm_pause calls it once the
 * vCPUs are parked. Resume: start the threads again and look at every
 * queue once (kicks that came while stopped are not lost). */
/* Rate limits of network device number `iface` (its index among the
 * network devices), while the devices are quiesced. */
int vm_virtio_set_net_limits(struct vm *vm, unsigned iface, const struct virtio_net_limits *lim,
                             struct err *e);
/* The balloon while the VM runs: a new target (the guest is told), a new
 * statistics interval, and what the device knows (struct
 * virtio_balloon_info). Each fails with ERR_INPUT when there is no balloon. */
struct virtio_balloon_info;
int vm_virtio_balloon_set_target(struct vm *vm, uint64_t bytes, struct err *e);
int vm_virtio_balloon_set_stats(struct vm *vm, uint16_t seconds, struct err *e);
int vm_virtio_balloon_info(struct vm *vm, struct virtio_balloon_info *out, struct err *e);

int vm_virtio_quiesce(struct vm *vm, struct err *e);
int vm_virtio_resume(struct vm *vm, struct err *e);

/* Device state for snapshots (quiesced devices): the transport with its
 * queues, then the device model's own state. */
size_t vm_virtio_state_size(const struct vm *vm, unsigned i);
int vm_virtio_save(struct vm *vm, unsigned i, void *buf, size_t len, struct err *e);
/* ERR_INPUT when the saved state does not fit the device. */
int vm_virtio_restore(struct vm *vm, unsigned i, const void *buf, size_t len, struct err *e);

#endif
