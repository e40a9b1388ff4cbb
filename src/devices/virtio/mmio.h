/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-mmio transport (virtio 1.x, register layout version 2), separate from
 * the device models: a model describes itself with struct virtio_device_ops and
 * processes its queues on the transport's I/O thread, never on a vCPU thread.
 *
 * Kicks arrive on one eventfd per queue (the VMM may bind it to the QueueNotify
 * register with KVM ioeventfd; otherwise the register write signals it), and
 * interrupts leave through struct virtio_irq (the VMM binds it to an irqfd). */
#ifndef CAPSA_DEVICES_VIRTIO_MMIO_H
#define CAPSA_DEVICES_VIRTIO_MMIO_H

#include "devices/device.h"
#include "devices/virtio/queue.h"
#include "devices/virtio/ratelimit.h"
#include "devices/virtio/virtio.h"
#include "lib/err.h"

#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#define VIRTIO_MMIO_SIZE   0x1000
#define VIRTIO_MMIO_NOTIFY 0x050 /* QueueNotify register offset */
#define VIRTIO_MAX_QUEUES  8
#define VIRTIO_MMIO_VENDOR 0x41535043 /* "CPSA" */

struct virtio_mmio;

struct virtio_device_ops {
	const char *name;
	uint32_t device_id;
	unsigned nqueues;
	uint16_t queue_max;
	uint64_t features; /* device-specific bits; the transport adds its own */
	/* Device configuration space (offset from 0x100). Reads must fill data. */
	void (*config_read)(void *dev, uint32_t off, uint8_t *data, unsigned size);
	void (*config_write)(void *dev, uint32_t off, const uint8_t *data, unsigned size);
	/* Queue q was kicked: consume it (runs on the I/O thread). */
	void (*process)(void *dev, struct virtio_mmio *t, unsigned q);
	/* The driver reset the device: forget in-flight state. */
	void (*reset)(void *dev);
	/* Optional, for devices with a host side (a tap device, sockets): the I/O
	 * thread also waits on the descriptors backend_fds() puts in p (at most
	 * max; return how many; it may lower *timeout_ms, -1 meaning none, for
	 * timers), then calls backend_event() with their revents after every
	 * wakeup, timeouts included, holding qlock, whatever the device status
	 * (check virtio_mmio_running() before touching queues). */
	unsigned (*backend_fds)(void *dev, struct pollfd *p, unsigned max, int *timeout_ms);
	void (*backend_event)(void *dev, struct virtio_mmio *t, const struct pollfd *p, unsigned n);
	/* Optional: complete every request still in flight (before a snapshot;
	 * qlock held). */
	void (*drain)(void *dev, struct virtio_mmio *t);
};

#define VIRTIO_BACKEND_FDS_MAX 128

/* How the transport raises its interrupt (edge: one pulse per event). */
struct virtio_irq {
	void (*raise)(void *ctx);
	void *ctx;
};

/* Everything a snapshot needs from the transport; device models add their own. */
struct virtio_mmio_state {
	uint32_t status, isr, queue_sel, dev_feat_sel, drv_feat_sel, broken;
	uint64_t driver_features;
	struct vq_state q[VIRTIO_MAX_QUEUES];
};

struct virtio_mmio {
	pthread_mutex_t lock;  /* register accesses (held by the bus) */
	pthread_mutex_t qlock; /* queue processing vs. reset and queue setup */
	const struct virtio_device_ops *ops;
	void *dev;
	struct virtio_irq irq;
	const struct guest_mem *mem;

	uint32_t status, queue_sel, dev_feat_sel, drv_feat_sel;
	uint64_t driver_features;
	atomic_uint isr;
	atomic_int broken;      /* the guest broke the rules: NEEDS_RESET until reset */
	atomic_uint config_gen; /* ConfigGeneration: changes with the device configuration */
	char why[160];

	struct vq q[VIRTIO_MAX_QUEUES];
	int kick_fd[VIRTIO_MAX_QUEUES];
	int stop_fd;
	pthread_t thread;
	int started;
	struct vq_chain chain;                /* scratch for the I/O thread */
	struct rate_limiter *rl;              /* optional, set before start */
	uint64_t retry_at[VIRTIO_MAX_QUEUES]; /* throttled queue: when to look again */
	uint64_t throttled;
	uint64_t poll_ns; /* after work, watch the ring this long before sleeping */
	uint64_t polled;  /* requests found by polling instead of a kick */
	uint64_t kicks, interrupts;
	/* Device-specific feature bits this instance does not offer (set
	 * before the driver starts; e.g. a balloon without deflate-on-OOM). */
	uint64_t features_withheld;
	/* Optional, set before start: run first on the I/O thread (e.g. to confine
	 * it with seccomp); a failure stops the thread and fails the start. */
	int (*thread_setup)(void *ctx, struct err *e);
	void *thread_ctx;
	int setup_rc;
	struct err setup_err;
	sem_t setup_done;
};

extern const struct io_ops virtio_mmio_ops;

int virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device_ops *ops, void *dev,
                     const struct guest_mem *mem, struct err *e);
void virtio_mmio_set_irq(struct virtio_mmio *t, struct virtio_irq irq);
/* Start/stop the I/O thread. */
int virtio_mmio_start(struct virtio_mmio *t, struct err *e);
void virtio_mmio_stop(struct virtio_mmio *t);
void virtio_mmio_destroy(struct virtio_mmio *t);

/* For device models, on the I/O thread. A handler returns the bytes it wrote
 * into the chain, -1 if the request itself breaks the device's rules, or
 * VIRTIO_HANDLER_AGAIN if it has nothing for the chain yet (a receive queue
 * with no packet): the chain stays queued and the run stops. */
#define VIRTIO_HANDLER_AGAIN (-2)
/* ... or VIRTIO_HANDLER_ASYNC: the device keeps the chain (copying what it
 * needs from it) and completes it later with virtio_queue_complete(). */
#define VIRTIO_HANDLER_ASYNC (-3)
typedef int (*virtio_handler)(void *dev, struct vq_chain *c);
/* Pop, handle and push every available chain of queue q, then interrupt the
 * driver if it asked for it. */
void virtio_queue_run(struct virtio_mmio *t, unsigned q, virtio_handler fn, void *dev);
/* Return a chain kept by VIRTIO_HANDLER_ASYNC (on the I/O thread, qlock
 * held, e.g. from backend_event); virtio_queue_notify() afterwards interrupts
 * the driver if it asked for it. */
void virtio_queue_complete(struct virtio_mmio *t, unsigned q, uint16_t head, uint32_t written);
void virtio_queue_notify(struct virtio_mmio *t, unsigned q);
/* Is the driver up (DRIVER_OK) and the device not broken? For backend_event. */
int virtio_mmio_running(struct virtio_mmio *t);
/* The device's configuration changed (any thread): tell the driver. */
void virtio_mmio_config_changed(struct virtio_mmio *t);
/* Mark the device NEEDS_RESET (bad guest) and tell the driver. */
void virtio_mmio_fail(struct virtio_mmio *t, const char *why);

void virtio_mmio_save(struct virtio_mmio *t, struct virtio_mmio_state *st);
int virtio_mmio_restore(struct virtio_mmio *t, const struct virtio_mmio_state *st, struct err *e);

#endif
