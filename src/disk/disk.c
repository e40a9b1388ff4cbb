/* SPDX-License-Identifier: Apache-2.0 */
#include "disk/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *disk_format_name(enum disk_format f)
{
	return f == DISK_FMT_QCOW2 ? "qcow2" : f == DISK_FMT_RAW ? "raw" : "auto";
}

uint64_t iov_total(const struct iovec *iov, int n)
{
	uint64_t t = 0;
	for (int i = 0; i < n; i++)
		t = t + iov[i].iov_len < t ? UINT64_MAX : t + iov[i].iov_len;
	return t;
}

int disk_open_file(const char *path, int flags)
{
	/* O_NONBLOCK: a FIFO named by a hostile image must not block the open */
	int fd = open(path, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	struct stat st;
	int err = 0;
	if (fstat(fd, &st))
		err = errno;
	else if (!(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
		err = ENODEV;
	else if (fcntl(fd, F_SETFL, flags & ~(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC)))
		err = errno;
	if (err) {
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int disk_open_error(struct err *e, const char *what, const char *path)
{
	if (errno == ENODEV)
		return err_set(e, ERR_INPUT, "%s %s: not a regular file or block device", what,
		               path);
	err_sys(e, "opening %s %s", what, path);
	e->kind = ERR_INPUT;
	return -1;
}

int disk_is_qcow2_fd(int fd)
{
	unsigned char m[4];
	return pread(fd, m, 4, 0) == 4 && !memcmp(m, "QFI\xfb", 4);
}

int disk_open(struct disk **out, const struct disk_options *o, struct err *e)
{
	*out = NULL;
	if (o->format == DISK_FMT_QCOW2)
		return disk_open_qcow2(out, o->path, o->readonly, o->cache, 0, e);
	if (o->format == DISK_FMT_AUTO) {
		int fd = disk_open_file(o->path, O_RDONLY);
		if (fd < 0)
			return disk_open_error(e, "disk", o->path);
		int q = disk_is_qcow2_fd(fd);
		close(fd);
		/* never guess qcow2 from content a guest could have written */
		if (q)
			return err_set(e, ERR_INPUT,
			               "disk %s looks like qcow2: say format=qcow2 (or format=raw)",
			               o->path);
	}
	return disk_open_raw(out, o->path, o->readonly, o->cache, e);
}

void disk_close(struct disk *d)
{
	if (d)
		d->ops->close(d);
}

/* raw files */

struct raw {
	struct disk d;
	int fd;        /* buffered */
	int direct_fd; /* O_DIRECT, or -1 */
};

static int raw_io(struct raw *r, const struct iovec *iov, int n, uint64_t off, int wr)
{
	if (iov_total(iov, n) > r->d.size || off > r->d.size - iov_total(iov, n))
		return -EINVAL;
	int fd = r->direct_fd >= 0 ? r->direct_fd : r->fd;
	while (n > 0) {
		ssize_t k = wr ? pwritev(fd, iov, n > IOV_MAX ? IOV_MAX : n, (off_t)off)
		               : preadv(fd, iov, n > IOV_MAX ? IOV_MAX : n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EINVAL && fd == r->direct_fd) {
			fd = r->fd; /* buffers not aligned for O_DIRECT */
			continue;
		}
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		/* advance over what was done (short transfers are rare but legal) */
		off += (uint64_t)k;
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++, n--;
		}
		if (n > 0 && k > 0) {
			struct iovec first = {(uint8_t *)iov->iov_base + k,
			                      iov->iov_len - (size_t)k};
			int rc = raw_io(r, &first, 1, off, wr);
			if (rc)
				return rc;
			off += first.iov_len;
			iov++, n--;
		}
	}
	return 0;
}

static int raw_preadv(struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	return raw_io((struct raw *)d, iov, n, off, 0);
}

static int raw_pwritev(struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	return d->readonly ? -EROFS : raw_io((struct raw *)d, iov, n, off, 1);
}

static int raw_flush(struct disk *d)
{
	struct raw *r = (struct raw *)d;
	return fdatasync(r->fd) ? -errno : 0;
}

static int raw_discard(struct disk *d, uint64_t off, uint64_t len)
{
	struct raw *r = (struct raw *)d;
	if (d->readonly)
		return -EROFS;
	if (len > d->size || off > d->size - len)
		return -EINVAL;
	if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len))
		return errno == EOPNOTSUPP ? 0 : -errno; /* discard is a hint */
	return 0;
}

static int raw_write_zeroes(struct disk *d, uint64_t off, uint64_t len)
{
	struct raw *r = (struct raw *)d;
	if (d->readonly)
		return -EROFS;
	if (len > d->size || off > d->size - len)
		return -EINVAL;
	if (!fallocate(r->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len))
		return 0;
	static const uint8_t zero[65536];
	while (len) {
		size_t k = len < sizeof(zero) ? len : sizeof(zero);
		ssize_t w = pwrite(r->fd, zero, k, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

static void raw_close(struct disk *d)
{
	struct raw *r = (struct raw *)d;
	close(r->fd);
	if (r->direct_fd >= 0)
		close(r->direct_fd);
	free(r);
}

static int raw_fds(struct disk *d, int *fd, int *direct_fd)
{
	struct raw *r = (struct raw *)d;
	*fd = r->fd;
	*direct_fd = r->direct_fd;
	return 0;
}

static const struct disk_ops raw_ops = {raw_preadv,       raw_pwritev, raw_flush, raw_discard,
                                        raw_write_zeroes, raw_close,   raw_fds};

int disk_open_raw(struct disk **out, const char *path, int readonly, enum disk_cache cache,
                  struct err *e)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	int fd = disk_open_file(path, flags);
	if (fd < 0)
		return disk_open_error(e, "disk", path);
	struct stat st;
	if (fstat(fd, &st)) {
		close(fd);
		return err_sys(e, "disk %s: fstat", path);
	}
	uint64_t size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);
		size = end > 0 ? (uint64_t)end : 0;
	}
	struct raw *r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		return err_sys(e, "allocating disk");
	}
	r->fd = fd;
	r->direct_fd = cache == DISK_CACHE_NONE ? disk_open_file(path, flags | O_DIRECT) : -1;
	r->d = (struct disk){&raw_ops, size & ~511ULL, readonly, DISK_FMT_RAW, NULL};
	*out = &r->d;
	return 0;
}
