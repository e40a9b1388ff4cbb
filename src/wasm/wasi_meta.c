/* SPDX-License-Identifier: Apache-2.0 */
/* WASI calls on descriptor state and file metadata: advice, allocation,
 * syncing, descriptor flags and rights, sizes and times, hard and symbolic
 * links. Paths are resolved beneath the guest's directory descriptor as in
 * wasi_fs.c; each call checks the rights preview1 ties it to. */
#include "wasm/wasi_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

WASI_FN(wasi_fd_advise)
{
	(void)caller;
	static const int advice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL,
	                             POSIX_FADV_RANDOM,   POSIX_FADV_WILLNEED,
	                             POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
	FD_RIGHTS(fd, 0, R_FD_ADVISE);
	if (ARG(3) > 5 || a[1].i64 < 0 || a[2].i64 < 0)
		RET(WASI_EINVAL);
	int rc = posix_fadvise(fd, a[1].i64, a[2].i64, advice[ARG(3)]);
	/* Advice is a hint: a descriptor that takes none (a pipe) is fine. */
	RET(rc == ESPIPE ? 0 : wasi_errno(rc));
}

WASI_FN(wasi_fd_allocate)
{
	(void)caller;
	FD_RIGHTS(fd, 0, R_FD_ALLOCATE);
	if (a[1].i64 < 0 || a[2].i64 < 0)
		RET(WASI_EINVAL);
	RET(wasi_errno(posix_fallocate(fd, a[1].i64, a[2].i64)));
}

WASI_FN(wasi_fd_sync)
{
	(void)caller;
	FD_RIGHTS(fd, 0, R_FD_SYNC);
	RET(fsync(fd) ? wasi_errno(errno) : 0);
}

WASI_FN(wasi_fd_datasync)
{
	(void)caller;
	FD_RIGHTS(fd, 0, R_FD_DATASYNC);
	RET(fdatasync(fd) ? wasi_errno(errno) : 0);
}

WASI_FN(wasi_fd_fdstat_get)
{
	MEMORY;
	FD_RIGHTS(fd, 0, 0);
	struct stat st;
	uint8_t *p = wptr(&M, ARG(1), 24);
	if (!p)
		RET(WASI_EFAULT);
	if (fstat(fd, &st))
		RET(wasi_errno(errno));
	int fl = fcntl(fd, F_GETFL);
	uint16_t flags = 0;
	if (fl >= 0 && (fl & O_APPEND))
		flags |= 1;
	if (fl >= 0 && (fl & O_NONBLOCK))
		flags |= 4;
	const struct wfd *f = &W->fds[ARG(0)];
	memset(p, 0, 24);
	p[0] = wasi_filetype(st.st_mode);
	memcpy(p + 2, &flags, 2);
	memcpy(p + 8, &f->base, 8);
	memcpy(p + 16, &f->inherit, 8);
	RET(0);
}

WASI_FN(wasi_fd_fdstat_set_flags)
{
	(void)caller;
	FD_RIGHTS(fd, 0, R_FD_FDSTAT_SET_FLAGS);
	if (ARG(1) & ~5u)
		RET(WASI_ENOTSUP); /* dsync, rsync, sync cannot change on Linux */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		RET(wasi_errno(errno));
	fl &= ~(O_APPEND | O_NONBLOCK);
	if (ARG(1) & 1)
		fl |= O_APPEND;
	if (ARG(1) & 4)
		fl |= O_NONBLOCK;
	if (fcntl(fd, F_SETFL, fl))
		RET(wasi_errno(errno));
	wasi_fd_refresh(&W->fds[ARG(0)]);
	RET(0);
}

/* Rights can only be dropped. */
WASI_FN(wasi_fd_fdstat_set_rights)
{
	(void)caller;
	FD_RIGHTS(fd, 0, 0);
	(void)fd;
	struct wfd *f = &W->fds[ARG(0)];
	uint64_t base = (uint64_t)a[1].i64, inherit = (uint64_t)a[2].i64;
	if ((base & ~f->base) || (inherit & ~f->inherit))
		RET(WASI_ENOTCAPABLE);
	f->base = base;
	f->inherit = inherit;
	RET(0);
}

WASI_FN(wasi_fd_filestat_set_size)
{
	(void)caller;
	FD_RIGHTS(fd, 0, R_FD_FILESTAT_SET_SIZE);
	RET(ftruncate(fd, a[1].i64) ? wasi_errno(errno) : 0);
}

/* Times for futimens/utimensat from (atim, mtim, fstflags). */
static int times_of(uint64_t atim, uint64_t mtim, uint32_t fl, struct timespec ts[2])
{
	if (((fl & 1) && (fl & 2)) || ((fl & 4) && (fl & 8)) || (fl & ~15u))
		return WASI_EINVAL;
	uint64_t v[2] = {atim, mtim};
	for (int i = 0; i < 2; i++) {
		uint32_t set = i ? 4 : 1, now = i ? 8 : 2;
		ts[i].tv_sec = 0;
		if (fl & now) {
			ts[i].tv_nsec = UTIME_NOW;
		} else if (fl & set) {
			ts[i].tv_sec = (time_t)(v[i] / 1000000000u);
			ts[i].tv_nsec = (long)(v[i] % 1000000000u);
		} else {
			ts[i].tv_nsec = UTIME_OMIT;
		}
	}
	return 0;
}

WASI_FN(wasi_fd_filestat_set_times)
{
	(void)caller;
	FD_RIGHTS(fd, 0, R_FD_FILESTAT_SET_TIMES);
	struct timespec ts[2];
	int err = times_of((uint64_t)a[1].i64, (uint64_t)a[2].i64, ARG(3), ts);
	if (err)
		RET(err);
	RET(futimens(fd, ts) ? wasi_errno(errno) : 0);
}

/* Set times on a descriptor opened with O_PATH (the file itself, resolved
 * beneath its directory: never through a link that leaves it). */
static int utimens_fd(int fd, const struct timespec ts[2])
{
	char proc[64];
	if (utimensat(fd, "", ts, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOENT)
		return wasi_errno(errno);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return utimensat(AT_FDCWD, proc, ts, 0) ? wasi_errno(errno) : 0;
}

WASI_FN(wasi_path_filestat_set_times)
{
	MEMORY;
	char path[PATH_LIMIT];
	FD_RIGHTS(dirfd, 0, R_PATH_FILESTAT_SET_TIMES);
	struct timespec ts[2];
	int err = times_of((uint64_t)a[4].i64, (uint64_t)a[5].i64, ARG(6), ts);
	if (!err)
		err = wasi_guest_path(&M, ARG(2), ARG(3), path);
	if (err)
		RET(err);
	int f = wasi_open_beneath(dirfd, path, O_PATH, 0, ARG(1) & 1);
	if (f < 0)
		RET(wasi_errno(errno));
	err = utimens_fd(f, ts);
	close(f);
	RET(err);
}

WASI_FN(wasi_path_link)
{
	MEMORY;
	char p1[PATH_LIMIT], p2[PATH_LIMIT];
	int d1, d2;
	int err = wasi_fd(W, ARG(0), R_PATH_LINK_SOURCE, &d1);
	if (!err)
		err = wasi_fd(W, ARG(4), R_PATH_LINK_TARGET, &d2);
	if (!err)
		err = wasi_guest_path(&M, ARG(2), ARG(3), p1);
	if (!err)
		err = wasi_guest_path(&M, ARG(5), ARG(6), p2);
	if (err)
		RET(err);
	const char *n2;
	int f2 = wasi_open_parent(d2, p2, &n2);
	if (f2 < 0)
		RET(-f2);
	int rc;
	if (ARG(1) & 1) {
		/* Follow a symlink source, beneath the directory only. */
		int f1 = wasi_open_beneath(d1, p1, O_PATH, 0, 1);
		if (f1 < 0) {
			err = wasi_errno(errno);
			close(f2);
			RET(err);
		}
		rc = linkat(f1, "", f2, n2, AT_EMPTY_PATH);
		err = rc ? wasi_errno(errno) : 0;
		close(f1);
	} else {
		const char *n1;
		int f1 = wasi_open_parent(d1, p1, &n1);
		if (f1 < 0) {
			close(f2);
			RET(-f1);
		}
		rc = linkat(f1, n1, f2, n2, 0);
		err = rc ? wasi_errno(errno) : 0;
		close(f1);
	}
	close(f2);
	RET(err);
}

/* The link's text is stored as given: resolving it later happens beneath
 * a directory descriptor like every other path. */
WASI_FN(wasi_path_symlink)
{
	MEMORY;
	char target[PATH_LIMIT], path[PATH_LIMIT];
	FD_RIGHTS(dirfd, 2, R_PATH_SYMLINK);
	if (ARG(1) >= PATH_LIMIT)
		RET(WASI_ENAMETOOLONG);
	uint8_t *t = wptr(&M, ARG(0), ARG(1));
	if (!t)
		RET(WASI_EFAULT);
	memcpy(target, t, ARG(1));
	target[ARG(1)] = '\0';
	if (memchr(target, '\0', ARG(1)))
		RET(WASI_EINVAL);
	int err = wasi_guest_path(&M, ARG(3), ARG(4), path);
	if (err)
		RET(err);
	const char *name;
	int pfd = wasi_open_parent(dirfd, path, &name);
	if (pfd < 0)
		RET(-pfd);
	err = symlinkat(target, pfd, name) ? wasi_errno(errno) : 0;
	close(pfd);
	RET(err);
}
