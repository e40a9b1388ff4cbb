/* SPDX-License-Identifier: Apache-2.0 */
/* Asynchronous disk I/O over io_uring, for disks whose sectors map straight
 * to one file (raw images and block devices). Requests carry a tag that comes
 * back with their completion; an eventfd tells the owner when completions are
 * ready. Used from one thread. */
#ifndef CAPSA_DISK_AIO_H
#define CAPSA_DISK_AIO_H

#include "disk/disk.h"
#include "lib/err.h"

#include <stdint.h>
#include <sys/uio.h>

struct disk_aio;

enum disk_aio_op { DISK_AIO_READ, DISK_AIO_WRITE, DISK_AIO_FLUSH };

/* Open an engine for d with room for `depth` requests in flight. Returns 1
 * when it is ready, 0 when d cannot do asynchronous I/O (a qcow2 image, or
 * io_uring is unavailable: *why says which), -1 on error. */
int disk_aio_open(struct disk_aio **out, struct disk *d, unsigned depth, const char **why,
                  struct err *e);
void disk_aio_close(struct disk_aio *a);
/* Readable when completions are waiting (it may also stay readable after
 * they were reaped); disk_aio_clear_event() resets it: call it before reaping
 * so that a completion arriving meanwhile makes it readable again. */
int disk_aio_event_fd(const struct disk_aio *a);
void disk_aio_clear_event(struct disk_aio *a);
/* Queue a request (iov must stay valid until it completes); FLUSH starts
 * after every request queued before it has completed. 0 or -errno (-EBUSY
 * when `depth` requests are in flight). Nothing starts before disk_aio_submit. */
int disk_aio_queue(struct disk_aio *a, enum disk_aio_op op, const struct iovec *iov, int n,
                   uint64_t off, uint64_t tag);
int disk_aio_submit(struct disk_aio *a);
/* Hand every waiting completion to fn (res: bytes done, or -errno) and return
 * how many there were; with `wait`, first wait until nothing is in flight. */
unsigned disk_aio_reap(struct disk_aio *a, int wait, void (*fn)(void *ctx, uint64_t tag, int res),
                       void *ctx);
unsigned disk_aio_inflight(const struct disk_aio *a);

#endif
