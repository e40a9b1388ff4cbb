/* SPDX-License-Identifier: Apache-2.0 */
/* The disk section of a snapshot (devices.h). Without the disks' data, a
 * snapshot records each image file's identity (size and modification
 * time, which every write changes) and restore refuses an image that
 * changed. With it, each disk's guest-visible data (a qcow2 chain
 * flattened) goes into the file as a sparse raw image, and restore
 * extracts it into a new raw image that the restored VM writes, so the
 * snapshot file is never written. */
#include "vm/snapshot/devices.h"
#include "vm/snapshot/format.h"

#include "lib/zero.h"
#include "vm/vm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (1u << 20)

static void identity(const struct stat *st, struct snap_disk_rec *r)
{
	r->file_size = (uint64_t)st->st_size;
	r->mtime_sec = (uint64_t)st->st_mtim.tv_sec;
	r->mtime_nsec = (uint64_t)st->st_mtim.tv_nsec;
}

/* Is [off, off + n) of a raw image a hole (no data to read)? Never for
 * images without a file of their own (qcow2) or when the file system
 * cannot say. */
static int is_hole(struct disk *d, uint64_t off, size_t n)
{
	int fd, direct;
	if (!d->ops->fds || d->ops->fds(d, &fd, &direct))
		return 0;
	off_t data = lseek(fd, (off_t)off, SEEK_DATA);
	return (data < 0 && errno == ENXIO) || (data >= 0 && (uint64_t)data >= off + n);
}

/* The disk's data at r->data_off: chunks with data written, holes and
 * all-zero chunks left as holes. */
static int put_data(struct disk *d, int fd, struct snap_disk_rec *r, uint8_t *buf, struct err *e)
{
	uLong crc = crc32(0, NULL, 0), zero_crc = 0;
	size_t zero_len = 0;
	for (uint64_t o = 0; o < r->size; o += CHUNK) {
		size_t n = r->size - o < CHUNK ? (size_t)(r->size - o) : CHUNK;
		if (is_hole(d, o, n)) {
			if (zero_len != n) { /* the CRC of n zero bytes, once per length */
				memset(buf, 0, n);
				zero_crc = crc32(0, buf, (uInt)n);
				zero_len = n;
			}
			crc = crc32_combine(crc, zero_crc, (z_off_t)n);
			continue;
		}
		struct iovec iov = {buf, n};
		int rc = d->ops->preadv(d, &iov, 1, o);
		if (rc)
			return err_errno(e, -rc, "reading the disk at %llu", (unsigned long long)o);
		crc = crc32(crc, buf, (uInt)n);
		if (!buf_is_zero(buf, n) && snap_pwrite_all(fd, buf, n, r->data_off + o, e))
			return -1;
	}
	r->data_crc = (uint32_t)crc;
	return 0;
}

int snap_disks_build(struct vm *vm, int fd, int with_data, uint64_t *off, uint8_t **buf,
                     size_t *len, struct err *e)
{
	const struct vm_virtio_config *cfg = vm_virtio_attached(vm);
	unsigned nd = cfg ? cfg->ndisks : 0;
	size_t total = sizeof(struct snap_disks_hdr) + nd * sizeof(struct snap_disk_rec);
	uint8_t *b = calloc(1, total), *chunk = NULL;
	if (!b || (with_data && posix_memalign((void **)&chunk, 4096, CHUNK))) {
		free(b);
		return err_sys(e, "allocating disk records");
	}
	*(struct snap_disks_hdr *)b = (struct snap_disks_hdr){SNAP_DISKS_VERSION, nd};
	struct snap_disk_rec *recs = (struct snap_disk_rec *)(b + sizeof(struct snap_disks_hdr));
	int rc = 0;
	for (unsigned i = 0; i < vm_virtio_devices(vm) && rc == 0; i++) {
		struct vm_dev_place p;
		struct disk *d = vm_virtio_disk(vm, i);
		if (!d || vm_virtio_place(vm, i, &p) || p.sub >= nd)
			continue;
		struct snap_disk_rec *r = &recs[p.sub];
		const char *path = cfg->disks[p.sub].path;
		struct stat st;
		r->sub = p.sub;
		r->size = d->size;
		if (stat(path, &st)) {
			rc = err_sys(e, "disk %s", path);
			break;
		}
		identity(&st, r);
		if (with_data) {
			r->flags = SNAP_DISK_DATA;
			r->data_off = (*off + SNAP_PAGE - 1) & ~(uint64_t)(SNAP_PAGE - 1);
			rc = put_data(d, fd, r, chunk, e) ? err_prefix(e, "disk %s", path) : 0;
			*off = r->data_off + r->size;
		}
	}
	free(chunk);
	if (rc) {
		free(b);
		return -1;
	}
	*buf = b;
	*len = total;
	return 0;
}

/* Copy the data extents of [off, off + len) of `in` to `out` from 0 in the
 * kernel (copy_file_range: shared blocks where the file system can, e.g.
 * XFS and btrfs), leaving holes as holes. 0, or -1 with errno. */
static int copy_extents(int in, uint64_t off, uint64_t len, int out)
{
	uint64_t end = off + len, pos = off;
	while (pos < end) {
		off_t d = lseek(in, (off_t)pos, SEEK_DATA);
		if (d < 0 && errno == ENXIO)
			return 0; /* only a hole is left */
		if (d < 0)
			return -1;
		if ((uint64_t)d >= end)
			return 0;
		off_t h = lseek(in, d, SEEK_HOLE);
		if (h < 0)
			return -1;
		uint64_t stop = (uint64_t)h < end ? (uint64_t)h : end;
		loff_t i = d, o = (loff_t)((uint64_t)d - off);
		while ((uint64_t)i < stop) {
			ssize_t n =
			    copy_file_range(in, &i, out, &o, (size_t)(stop - (uint64_t)i), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				errno = n == 0 ? EIO : errno;
				return -1;
			}
		}
		pos = stop;
	}
	return 0;
}

/* The same through user space, checking the CRC on the way (file systems
 * without copy_file_range between these files). */
static int copy_checked(int fd, const struct snap_disk_rec *r, int out, const char *to,
                        struct err *e)
{
	uint8_t *buf = malloc(CHUNK);
	int rc = buf ? 0 : err_sys(e, "allocating");
	uLong crc = crc32(0, NULL, 0);
	for (uint64_t o = 0; o < r->size && rc == 0; o += CHUNK) {
		size_t n = r->size - o < CHUNK ? (size_t)(r->size - o) : CHUNK;
		rc = snap_pread_all(fd, buf, n, r->data_off + o, e);
		if (rc == 0) {
			crc = crc32(crc, buf, (uInt)n);
			if (!buf_is_zero(buf, n) && snap_pwrite_all(out, buf, n, o, e))
				rc = err_prefix(e, "disk image %s", to);
		}
	}
	free(buf);
	if (rc == 0 && (uint32_t)crc != r->data_crc)
		rc = err_set(e, ERR_INPUT, "snapshot disk %u data is corrupt (checksum mismatch)",
		             r->sub);
	return rc;
}

/* Copy a disk's data from the snapshot into a new file at `to`. Like
 * memory, the data's CRC is checked on demand (snapshot verify), or here
 * when the copy goes through user space anyway. */
static int extract(int fd, const struct snap_disk_rec *r, const char *to, struct err *e)
{
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0 && errno == EEXIST)
		return err_set(
		    e, ERR_INPUT,
		    "disk image %s already exists (remove it or restore with --disk-dir)", to);
	if (out < 0) {
		err_sys(e, "disk image %s", to);
		e->kind = ERR_INPUT;
		return -1;
	}
	int rc = 0;
	if (copy_extents(fd, r->data_off, r->size, out)) {
		rc = ftruncate(out, 0) ? err_sys(e, "disk image %s", to) : 0;
		if (rc == 0)
			rc = copy_checked(fd, r, out, to, e);
	}
	if (rc == 0 && ftruncate(out, (off_t)r->size))
		rc = err_sys(e, "disk image %s", to);
	if (rc == 0 && fsync(out))
		rc = err_sys(e, "disk image %s", to);
	close(out);
	if (rc)
		unlink(to);
	return rc;
}

static int check_unchanged(const struct snap_disk_rec *r, const char *path, struct err *e)
{
	struct stat st;
	if (stat(path, &st)) {
		err_sys(e, "disk %s", path);
		e->kind = ERR_INPUT;
		return -1;
	}
	struct snap_disk_rec now = *r;
	identity(&st, &now);
	if (now.file_size != r->file_size || now.mtime_sec != r->mtime_sec ||
	    now.mtime_nsec != r->mtime_nsec)
		return err_set(e, ERR_INPUT,
		               "disk %s changed since the snapshot was taken (size or modification "
		               "time differ); the VM would not see the data it had",
		               path);
	return 0;
}

int snap_disks_prepare(int fd, const char *snap_path, const struct snap_devices *d,
                       const char *disk_dir, struct vm_virtio_config *cfg, struct err *e)
{
	char dirbuf[4096], basebuf[4096];
	snprintf(dirbuf, sizeof(dirbuf), "%s", snap_path);
	snprintf(basebuf, sizeof(basebuf), "%s", snap_path);
	const char *dir = disk_dir ? disk_dir : dirname(dirbuf), *base = basename(basebuf);
	for (unsigned i = 0; i < d->ndisks; i++) {
		const struct snap_disk_rec *r = &d->disk[i];
		struct vm_virtio_disk *cd = &cfg->disks[i];
		if (!(r->flags & SNAP_DISK_DATA)) {
			if (check_unchanged(r, cd->path, e))
				return -1;
			continue;
		}
		char to[sizeof(cd->path)];
		if ((size_t)snprintf(to, sizeof(to), "%s/%s.disk%u.img", dir, base, i) >=
		    sizeof(to))
			return err_set(e, ERR_INPUT, "--disk-dir %s: path too long", dir);
		if (extract(fd, r, to, e)) {
			snap_disks_discard(d, cfg, i);
			return -1;
		}
		memcpy(cd->path, to, sizeof(to));
		cd->format = DISK_FMT_RAW;
	}
	return 0;
}

void snap_disks_discard(const struct snap_devices *d, const struct vm_virtio_config *cfg,
                        unsigned upto)
{
	for (unsigned i = 0; i < upto && i < d->ndisks; i++)
		if (d->disk[i].flags & SNAP_DISK_DATA)
			unlink(cfg->disks[i].path);
}
