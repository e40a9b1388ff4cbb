/* SPDX-License-Identifier: Apache-2.0 */
/* io_uring engine for raw disks; see aio.h. */
#include "disk/aio.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct disk_aio {
	struct io_uring ring;
	int efd;
	int fd, direct_fd;
	unsigned depth, inflight, queued;
};

int disk_aio_open(struct disk_aio **out, struct disk *d, unsigned depth, const char **why,
                  struct err *e)
{
	*out = NULL;
	int fd, direct_fd;
	if (!d->ops->fds || d->ops->fds(d, &fd, &direct_fd)) {
		*why = "the image format maps sectors through metadata";
		return 0;
	}
	struct disk_aio *a = calloc(1, sizeof(*a));
	if (!a)
		return err_sys(e, "allocating the I/O engine");
	a->fd = fd;
	a->direct_fd = direct_fd;
	a->depth = depth;
	int rc = io_uring_queue_init(depth, &a->ring, 0);
	if (rc < 0) {
		free(a);
		*why = rc == -ENOSYS || rc == -EPERM ? "io_uring is disabled on this host"
		                                     : "io_uring could not be set up";
		return 0;
	}
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->efd < 0) {
		io_uring_queue_exit(&a->ring);
		free(a);
		return err_sys(e, "creating the I/O completion eventfd");
	}
	if ((rc = io_uring_register_eventfd(&a->ring, a->efd)) < 0) {
		close(a->efd);
		io_uring_queue_exit(&a->ring);
		free(a);
		return err_errno(e, -rc, "registering the I/O completion eventfd");
	}
	*out = a;
	return 1;
}

void disk_aio_close(struct disk_aio *a)
{
	if (!a)
		return;
	disk_aio_reap(a, 1, NULL, NULL);
	io_uring_queue_exit(&a->ring);
	close(a->efd);
	free(a);
}

int disk_aio_event_fd(const struct disk_aio *a)
{
	return a->efd;
}

void disk_aio_clear_event(struct disk_aio *a)
{
	uint64_t v;
	ssize_t rd = read(a->efd, &v, sizeof(v));
	(void)rd;
}

unsigned disk_aio_inflight(const struct disk_aio *a)
{
	return a->inflight;
}

int disk_aio_queue(struct disk_aio *a, enum disk_aio_op op, const struct iovec *iov, int n,
                   uint64_t off, uint64_t tag)
{
	if (a->inflight >= a->depth)
		return -EBUSY;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&a->ring);
	if (!sqe) {
		disk_aio_submit(a);
		if (!(sqe = io_uring_get_sqe(&a->ring)))
			return -EBUSY;
	}
	/* O_DIRECT when the disk has it; a misaligned request fails with EINVAL
	 * and the owner redoes it through the disk's own (buffered) path */
	int fd = a->direct_fd >= 0 ? a->direct_fd : a->fd;
	switch (op) {
	case DISK_AIO_READ:
		io_uring_prep_readv(sqe, fd, iov, (unsigned)n, off);
		break;
	case DISK_AIO_WRITE:
		io_uring_prep_writev(sqe, fd, iov, (unsigned)n, off);
		break;
	case DISK_AIO_FLUSH:
		io_uring_prep_fsync(sqe, a->fd, IORING_FSYNC_DATASYNC);
		sqe->flags |= IOSQE_IO_DRAIN;
		break;
	}
	io_uring_sqe_set_data64(sqe, tag);
	a->inflight++;
	a->queued++;
	return 0;
}

int disk_aio_submit(struct disk_aio *a)
{
	if (!a->queued)
		return 0;
	int rc;
	do
		rc = io_uring_submit(&a->ring);
	while (rc == -EINTR);
	if (rc < 0)
		return rc;
	a->queued = 0;
	return 0;
}

unsigned disk_aio_reap(struct disk_aio *a, int wait, void (*fn)(void *ctx, uint64_t tag, int res),
                       void *ctx)
{
	unsigned got = 0;
	if (wait)
		disk_aio_submit(a);
	for (;;) {
		struct io_uring_cqe *cqe;
		int rc = wait && a->inflight ? io_uring_wait_cqe(&a->ring, &cqe)
		                             : io_uring_peek_cqe(&a->ring, &cqe);
		if (rc == -EINTR)
			continue;
		if (rc < 0 || !cqe)
			break;
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&a->ring, cqe);
		a->inflight--;
		got++;
		if (fn)
			fn(ctx, tag, res);
	}
	return got;
}
