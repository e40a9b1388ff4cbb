/* SPDX-License-Identifier: Apache-2.0 */
/* WASI file descriptors and paths. Every guest path is looked up with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) relative to a directory
 * descriptor the guest holds, so the kernel refuses any ".." or symlink
 * that would leave it. Operations on a final name (mkdir, unlink, rename)
 * open the parent that way and act on a single path component. */
#include "wasm/wasi_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_IOVS 1024

int wasi_errno(int e)
{
	switch (e) {
	case 0:
		return 0;
	case E2BIG:
		return WASI_E2BIG;
	case EACCES:
		return WASI_EACCES;
	case EAGAIN:
		return WASI_EAGAIN;
	case EBADF:
		return WASI_EBADF;
	case EBUSY:
		return WASI_EBUSY;
	case EEXIST:
		return WASI_EEXIST;
	case EFAULT:
		return WASI_EFAULT;
	case EFBIG:
		return WASI_EFBIG;
	case EINTR:
		return WASI_EINTR;
	case EINVAL:
		return WASI_EINVAL;
	case EIO:
		return WASI_EIO;
	case EISDIR:
		return WASI_EISDIR;
	case ELOOP:
		return WASI_ELOOP;
	case EMFILE:
		return WASI_EMFILE;
	case ENAMETOOLONG:
		return WASI_ENAMETOOLONG;
	case ENFILE:
		return WASI_ENFILE;
	case ENOENT:
		return WASI_ENOENT;
	case ENOMEM:
		return WASI_ENOMEM;
	case ENOSPC:
		return WASI_ENOSPC;
	case ENOSYS:
		return WASI_ENOSYS;
	case ENOTDIR:
		return WASI_ENOTDIR;
	case ENOTEMPTY:
		return WASI_ENOTEMPTY;
	case EOPNOTSUPP:
		return WASI_ENOTSUP;
	case ENOTTY:
		return WASI_ENOTTY;
	case EOVERFLOW:
		return WASI_EOVERFLOW;
	case EPERM:
		return WASI_EPERM;
	case EPIPE:
		return WASI_EPIPE;
	case ERANGE:
		return WASI_ERANGE;
	case EROFS:
		return WASI_EROFS;
	case ESPIPE:
		return WASI_ESPIPE;
	case EXDEV:
		return WASI_ENOTCAPABLE; /* RESOLVE_BENEATH refused an escape */
	default:
		return WASI_EIO;
	}
}

static int add_fd(struct capsa_wasi *w, int host, int owned, int is_preopen, const char *guest,
                  uint64_t base, uint64_t inherit)
{
	uint32_t i;
	for (i = 0; i < w->nfds; i++)
		if (w->fds[i].host < 0)
			break;
	if (i == w->nfds) {
		if (w->nfds >= 4096)
			return -1;
		struct wfd *p = realloc(w->fds, (w->nfds + 1) * sizeof(*p));
		if (!p)
			return -1;
		w->fds = p;
		w->nfds++;
	}
	w->fds[i].host = host;
	w->fds[i].owned = owned;
	wasi_fd_refresh(&w->fds[i]);
	w->fds[i].is_preopen = is_preopen;
	w->fds[i].guest = guest ? strdup(guest) : NULL;
	w->fds[i].base = base;
	w->fds[i].inherit = inherit;
	return (int)i;
}

void wasi_fd_refresh(struct wfd *f)
{
	struct stat st;
	int fl = fcntl(f->host, F_GETFL);
	f->may_block = fstat(f->host, &st) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
	               S_ISCHR(st.st_mode);
	if (fl >= 0 && (fl & O_NONBLOCK))
		f->may_block = 0;
}

/* Empty guest slot fd, closing its host descriptor if capsa owns it. */
static void drop_fd(struct capsa_wasi *w, uint32_t fd)
{
	if (w->fds[fd].host >= 0 && w->fds[fd].owned)
		close(w->fds[fd].host);
	w->fds[fd].host = -1;
	w->fds[fd].owned = 0;
	free(w->fds[fd].guest);
	w->fds[fd].guest = NULL;
	w->fds[fd].is_preopen = 0;
}

int wasi_fds_init(struct capsa_wasi *w, struct err *e)
{
	int std[3] = {w->cfg.stdin_fd, w->cfg.stdout_fd, w->cfg.stderr_fd};
	/* A terminal cannot seek: without those rights wasi-libc's isatty()
	 * (a character device lacking fd_seek and fd_tell) sees it as one. */
	for (int i = 0; i < 3; i++)
		if (add_fd(w, std[i], 0, 0, NULL,
		           isatty(std[i]) ? R_FILE & ~(uint64_t)(R_FD_SEEK | R_FD_TELL) : R_FILE,
		           0) < 0)
			return err_set(e, ERR_SYSTEM, "out of memory");
	for (int i = 0; i < w->cfg.npreopens; i++) {
		const struct capsa_wasi_preopen *p = &w->cfg.preopens[i];
		int fd = open(p->host, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return err_sys(e, "opening directory %s", p->host);
		if (add_fd(w, fd, 1, 1, p->guest, R_DIR, R_ALL) < 0) {
			close(fd);
			return err_set(e, ERR_SYSTEM, "out of memory");
		}
	}
	return 0;
}

void wasi_fds_free(struct capsa_wasi *w)
{
	for (uint32_t i = 0; i < w->nfds; i++)
		drop_fd(w, i);
	free(w->fds);
}

static int host_fd(struct capsa_wasi *w, uint32_t fd)
{
	if (fd >= w->nfds || w->fds[fd].host < 0)
		return -1;
	return w->fds[fd].host;
}

int wasi_fd(struct capsa_wasi *w, uint32_t fd, uint64_t need, int *host)
{
	if (fd >= w->nfds || w->fds[fd].host < 0)
		return WASI_EBADF;
	if ((w->fds[fd].base & need) != need)
		return WASI_ENOTCAPABLE;
	*host = w->fds[fd].host;
	return 0;
}

/* Copy a guest path into buf (NUL-terminated); rejects absolute paths and NULs. */
int wasi_guest_path(struct wmem *M, uint32_t ptr, uint32_t len, char *buf)
{
	if (len >= PATH_LIMIT)
		return WASI_ENAMETOOLONG;
	uint8_t *p = wptr(M, ptr, len);
	if (!p)
		return WASI_EFAULT;
	memcpy(buf, p, len);
	buf[len] = '\0';
	if (memchr(buf, '\0', len))
		return WASI_EINVAL;
	if (buf[0] == '/')
		return WASI_ENOTCAPABLE;
	return 0;
}

int wasi_open_beneath(int dirfd, const char *path, int flags, mode_t mode, int follow)
{
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags | O_CLOEXEC;
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	if (!follow)
		how.flags |= O_NOFOLLOW;
	long fd;
	do
		fd = syscall(SYS_openat2, dirfd, path[0] ? path : ".", &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	return (int)fd;
}

/* Open the parent directory of path beneath dirfd; *name gets the last
 * component (never "." or ".."). Returns the fd or -WASI errno. */
int wasi_open_parent(int dirfd, char *path, const char **name)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return -WASI_ENOTCAPABLE;
	int fd;
	if (slash) {
		*slash = '\0';
		fd = wasi_open_beneath(dirfd, path, O_PATH | O_DIRECTORY, 0, 1);
	} else {
		fd = wasi_open_beneath(dirfd, ".", O_PATH | O_DIRECTORY, 0, 1);
	}
	if (fd < 0)
		return -wasi_errno(errno);
	*name = base;
	return fd;
}

WASI_FN(wasi_fd_close)
{
	(void)caller;
	struct capsa_wasi *w = W;
	uint32_t fd = ARG(0);
	if (host_fd(w, fd) < 0)
		RET(WASI_EBADF);
	drop_fd(w, fd);
	RET(0);
}

uint8_t wasi_filetype(mode_t m)
{
	if (S_ISREG(m))
		return 4;
	if (S_ISDIR(m))
		return 3;
	if (S_ISCHR(m))
		return 2;
	if (S_ISBLK(m))
		return 1;
	if (S_ISLNK(m))
		return 7;
	if (S_ISSOCK(m))
		return 6;
	return 0;
}

static void put_filestat(uint8_t *p, const struct stat *st)
{
	uint64_t v[8] = {
	    st->st_dev,
	    st->st_ino,
	    wasi_filetype(st->st_mode),
	    st->st_nlink,
	    (uint64_t)st->st_size,
	    (uint64_t)st->st_atim.tv_sec * 1000000000ull + (uint64_t)st->st_atim.tv_nsec,
	    (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec,
	    (uint64_t)st->st_ctim.tv_sec * 1000000000ull + (uint64_t)st->st_ctim.tv_nsec,
	};
	memcpy(p, v, 64);
}

WASI_FN(wasi_fd_filestat_get)
{
	MEMORY;
	FD_RIGHTS(fd, 0, R_FD_FILESTAT_GET);
	struct stat st;
	uint8_t *p = wptr(&M, ARG(1), 64);
	if (!p)
		RET(WASI_EFAULT);
	if (fstat(fd, &st))
		RET(wasi_errno(errno));
	put_filestat(p, &st);
	RET(0);
}

/* Gather guest iovecs into host ones. */
static int iovecs(struct wmem *M, uint32_t ptr, uint32_t n, struct iovec *iov)
{
	if (n > MAX_IOVS)
		return WASI_EINVAL;
	uint8_t *p = wptr(M, ptr, (uint64_t)n * 8);
	if (!p)
		return WASI_EFAULT;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t buf, len;
		memcpy(&buf, p + i * 8, 4);
		memcpy(&len, p + i * 8 + 4, 4);
		iov[i].iov_base = wptr(M, buf, len);
		iov[i].iov_len = len;
		if (!iov[i].iov_base)
			return WASI_EFAULT;
	}
	return 0;
}

static enum capsa_wasm_trap rw(struct capsa_wasm_caller *caller, void *env, union capsa_wasm_val *a,
                               int write, int positional)
{
	MEMORY;
	struct iovec iov[MAX_IOVS];
	FD_RIGHTS(fd, 0, (write ? R_FD_WRITE : R_FD_READ) | (positional ? R_FD_SEEK : 0));
	uint32_t n = ARG(2), out = positional ? ARG(4) : ARG(3);
	int err = iovecs(&M, ARG(1), n, iov);
	if (err)
		RET(err);
	if (!wptr(&M, out, 4))
		RET(WASI_EFAULT);
	/* A pipe or terminal may make the call wait: wait here instead, where
	 * an interrupt (--timeout) can end it. */
	if (W->fds[ARG(0)].may_block && wasi_wait_ready(W, fd, write ? POLLOUT : POLLIN))
		return CAPSA_WASM_TRAP_OUT_OF_FUEL;
	ssize_t r;
	do {
		if (positional)
			r = write ? pwritev(fd, iov, (int)n, a[3].i64)
			          : preadv(fd, iov, (int)n, a[3].i64);
		else
			r = write ? writev(fd, iov, (int)n) : readv(fd, iov, (int)n);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		RET(wasi_errno(errno));
	wput32(&M, out, (uint32_t)r);
	RET(0);
}

WASI_FN(wasi_fd_read)
{
	return rw(caller, env, a, 0, 0);
}
WASI_FN(wasi_fd_write)
{
	return rw(caller, env, a, 1, 0);
}
WASI_FN(wasi_fd_pread)
{
	return rw(caller, env, a, 0, 1);
}
WASI_FN(wasi_fd_pwrite)
{
	return rw(caller, env, a, 1, 1);
}

WASI_FN(wasi_fd_seek)
{
	MEMORY;
	/* Asking for the position only needs the right to tell it. */
	FD_RIGHTS(fd, 0, a[1].i64 == 0 && ARG(2) == 1 ? R_FD_TELL : R_FD_SEEK);
	uint32_t whence = ARG(2);
	if (whence > 2)
		RET(WASI_EINVAL);
	static const int wh[] = {SEEK_SET, SEEK_CUR, SEEK_END};
	if (!wptr(&M, ARG(3), 8))
		RET(WASI_EFAULT);
	off_t r = lseek(fd, a[1].i64, wh[whence]);
	if (r < 0)
		RET(wasi_errno(errno));
	wput64(&M, ARG(3), (uint64_t)r);
	RET(0);
}

WASI_FN(wasi_fd_tell)
{
	MEMORY;
	FD_RIGHTS(fd, 0, R_FD_TELL);
	off_t r = lseek(fd, 0, SEEK_CUR);
	if (r < 0)
		RET(wasi_errno(errno));
	RET(wput64(&M, ARG(1), (uint64_t)r) ? WASI_EFAULT : 0);
}

WASI_FN(wasi_fd_prestat_get)
{
	MEMORY;
	struct capsa_wasi *w = W;
	uint32_t fd = ARG(0);
	if (host_fd(w, fd) < 0 || !w->fds[fd].is_preopen)
		RET(WASI_EBADF);
	uint8_t *p = wptr(&M, ARG(1), 8);
	if (!p)
		RET(WASI_EFAULT);
	uint32_t len = (uint32_t)strlen(w->fds[fd].guest);
	memset(p, 0, 8);
	memcpy(p + 4, &len, 4);
	RET(0);
}

WASI_FN(wasi_fd_prestat_dir_name)
{
	MEMORY;
	struct capsa_wasi *w = W;
	uint32_t fd = ARG(0);
	if (host_fd(w, fd) < 0 || !w->fds[fd].is_preopen)
		RET(WASI_EBADF);
	size_t len = strlen(w->fds[fd].guest);
	if (ARG(2) < len)
		RET(WASI_ENAMETOOLONG);
	uint8_t *p = wptr(&M, ARG(1), len);
	if (!p)
		RET(WASI_EFAULT);
	memcpy(p, w->fds[fd].guest, len);
	RET(0);
}

WASI_FN(wasi_fd_renumber)
{
	(void)caller;
	struct capsa_wasi *w = W;
	uint32_t from = ARG(0), to = ARG(1);
	if (host_fd(w, from) < 0 || host_fd(w, to) < 0)
		RET(WASI_EBADF);
	if (from == to)
		RET(0);
	drop_fd(w, to);
	w->fds[to] = w->fds[from];
	/* The slot gave its descriptor (and ownership) away: nothing to close. */
	w->fds[from].host = -1;
	w->fds[from].owned = 0;
	w->fds[from].guest = NULL;
	w->fds[from].is_preopen = 0;
	RET(0);
}

WASI_FN(wasi_fd_readdir)
{
	MEMORY;
	FD_RIGHTS(fd, 0, R_FD_READDIR);
	uint32_t buf = ARG(1), len = ARG(2), out = ARG(4);
	uint64_t cookie = (uint64_t)a[3].i64;
	if (!wptr(&M, buf, len) || !wptr(&M, out, 4))
		RET(WASI_EFAULT);
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		RET(wasi_errno(errno));
	DIR *d = fdopendir(dfd);
	if (!d) {
		int err = errno;
		close(dfd);
		RET(wasi_errno(err));
	}
	uint64_t idx = 0;
	uint32_t used = 0;
	struct dirent *de;
	while (used < len && (de = readdir(d))) {
		if (idx++ < cookie)
			continue;
		uint32_t nlen = (uint32_t)strlen(de->d_name);
		uint8_t hdr[24] = {0};
		uint64_t next = idx, ino = de->d_ino;
		uint8_t t = de->d_type == DT_DIR   ? 3
		            : de->d_type == DT_REG ? 4
		            : de->d_type == DT_LNK ? 7
		            : de->d_type == DT_CHR ? 2
		            : de->d_type == DT_BLK ? 1
		                                   : 0;
		memcpy(hdr, &next, 8);
		memcpy(hdr + 8, &ino, 8);
		memcpy(hdr + 16, &nlen, 4);
		hdr[20] = t;
		uint32_t n = len - used < 24 ? len - used : 24;
		memcpy(M.base + buf + used, hdr, n);
		used += n;
		n = len - used < nlen ? len - used : nlen;
		memcpy(M.base + buf + used, de->d_name, n);
		used += n;
	}
	closedir(d);
	wput32(&M, out, used);
	RET(0);
}

static int is_fifo(int dirfd, const char *path, int follow)
{
	struct stat st;
	int fd = wasi_open_beneath(dirfd, path, O_PATH, 0, follow);
	int fifo = fd >= 0 && !fstat(fd, &st) && S_ISFIFO(st.st_mode);
	if (fd >= 0)
		close(fd);
	return fifo;
}

/* Open beneath dirfd without waiting: opening a FIFO blocks until the other
 * end is opened, out of reach of an interrupt (--timeout). So open with
 * O_NONBLOCK, dropped again unless the guest asked for it; a FIFO without
 * a reader (ENXIO when writing) is retried every 20 ms while watching the
 * interrupt descriptor. A FIFO opened for reading before any writer waits
 * in fd_read instead (rw() polls until data or end of file).
 * Returns the descriptor, -1 with errno set, or -2 when interrupted. */
static int open_nowait(struct capsa_wasi *w, int dirfd, const char *path, int flags, int follow)
{
	for (;;) {
		int fd = wasi_open_beneath(dirfd, path, flags | O_NONBLOCK, 0666, follow);
		if (fd >= 0) {
			int fl = fcntl(fd, F_GETFL);
			if (!(flags & O_NONBLOCK) &&
			    (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK))) {
				int err = errno;
				close(fd);
				errno = err;
				return -1;
			}
			return fd;
		}
		if (errno != ENXIO || (flags & O_NONBLOCK) || (flags & O_ACCMODE) != O_WRONLY)
			return -1;
		if (!is_fifo(dirfd, path, follow)) {
			errno = ENXIO;
			return -1;
		}
		struct pollfd p = {capsa_wasm_store_interrupt_fd(w->store), POLLIN, 0};
		if (poll(&p, 1, 20) > 0)
			return -2;
	}
}

WASI_FN(wasi_path_open)
{
	MEMORY;
	char path[PATH_LIMIT];
	struct capsa_wasi *w = W;
	uint32_t oflags = ARG(4), fdflags = ARG(7);
	uint64_t rights = (uint64_t)a[5].i64, inherit = (uint64_t)a[6].i64;
	FD_RIGHTS(dirfd, 0,
	          R_PATH_OPEN | ((oflags & 1) ? R_PATH_CREATE_FILE : 0) |
	              ((oflags & 8) ? R_PATH_FILESTAT_SET_SIZE : 0));
	/* A descriptor never gets rights its directory may not hand down. */
	if ((rights | inherit) & ~w->fds[ARG(0)].inherit)
		RET(WASI_ENOTCAPABLE);
	int err = wasi_guest_path(&M, ARG(2), ARG(3), path);
	if (err)
		RET(err);
	if (!wptr(&M, ARG(8), 4))
		RET(WASI_EFAULT);
	int rd = (rights & ((1ull << 1) | (1ull << 14))) != 0;
	int wr = (rights & ((1ull << 6) | (1ull << 0) | (1ull << 8) | (1ull << 22))) != 0;
	int flags = wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
	if (oflags & 1)
		flags |= O_CREAT;
	if (oflags & 2)
		flags |= O_DIRECTORY;
	if (oflags & 4)
		flags |= O_EXCL;
	if (oflags & 8)
		flags |= O_TRUNC;
	if (fdflags & 1)
		flags |= O_APPEND;
	if (fdflags & 4)
		flags |= O_NONBLOCK;
	if (fdflags & (2 | 8 | 16))
		flags |= O_SYNC;
	int fd = open_nowait(w, dirfd, path, flags, ARG(1) & 1);
	if (fd == -1 && errno == EISDIR && (flags & O_ACCMODE) != O_RDONLY) {
		/* wasi-libc asks for write rights on directories it opens for reading. */
		fd = open_nowait(w, dirfd, path, (flags & ~O_ACCMODE) | O_RDONLY, ARG(1) & 1);
	}
	if (fd == -2)
		return CAPSA_WASM_TRAP_OUT_OF_FUEL;
	if (fd < 0)
		RET(wasi_errno(errno));
	struct stat st;
	int is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
	int gfd = add_fd(w, fd, 1, 0, NULL, rights & (is_dir ? R_DIR : R_FILE), inherit);
	if (gfd < 0) {
		close(fd);
		RET(WASI_EMFILE);
	}
	wput32(&M, ARG(8), (uint32_t)gfd);
	RET(0);
}

/* Run op on (parent fd, last component) of a guest path. */
enum path_op { P_MKDIR, P_UNLINK, P_RMDIR, P_STAT, P_LSTAT, P_READLINK };

static int path_at(struct capsa_wasi *w, struct wmem *M, uint32_t fd, uint32_t ptr, uint32_t len,
                   enum path_op op, void *arg, size_t arglen, ssize_t *res)
{
	static const uint64_t need[] = {
	    [P_MKDIR] = R_PATH_CREATE_DIRECTORY, [P_UNLINK] = R_PATH_UNLINK_FILE,
	    [P_RMDIR] = R_PATH_REMOVE_DIRECTORY, [P_STAT] = R_PATH_FILESTAT_GET,
	    [P_LSTAT] = R_PATH_FILESTAT_GET,     [P_READLINK] = R_PATH_READLINK};
	char path[PATH_LIMIT];
	int dirfd;
	int err = wasi_fd(w, fd, need[op], &dirfd);
	if (err)
		return err;
	err = wasi_guest_path(M, ptr, len, path);
	if (err)
		return err;
	if (op == P_STAT) {
		int f = wasi_open_beneath(dirfd, path, O_PATH, 0, 1);
		if (f < 0)
			return wasi_errno(errno);
		int rc = fstat(f, arg);
		err = rc ? wasi_errno(errno) : 0;
		close(f);
		return err;
	}
	const char *name;
	int pfd = wasi_open_parent(dirfd, path, &name);
	if (pfd < 0) {
		if (op == P_LSTAT && -pfd == WASI_ENOTCAPABLE) {
			int f = wasi_open_beneath(dirfd, path, O_PATH, 0, 1);
			if (f < 0)
				return wasi_errno(errno);
			err = fstat(f, arg) ? wasi_errno(errno) : 0;
			close(f);
			return err;
		}
		return -pfd;
	}
	int rc = 0;
	switch (op) {
	case P_MKDIR:
		rc = mkdirat(pfd, name, 0777);
		break;
	case P_UNLINK:
		rc = unlinkat(pfd, name, 0);
		break;
	case P_RMDIR:
		rc = unlinkat(pfd, name, AT_REMOVEDIR);
		break;
	case P_LSTAT:
		rc = fstatat(pfd, name, arg, AT_SYMLINK_NOFOLLOW);
		break;
	case P_READLINK:
		*res = readlinkat(pfd, name, arg, arglen);
		rc = *res < 0 ? -1 : 0;
		break;
	default:
		break;
	}
	err = rc ? wasi_errno(errno) : 0;
	close(pfd);
	return err;
}

WASI_FN(wasi_path_create_directory)
{
	MEMORY;
	RET(path_at(W, &M, ARG(0), ARG(1), ARG(2), P_MKDIR, NULL, 0, NULL));
}

WASI_FN(wasi_path_unlink_file)
{
	MEMORY;
	RET(path_at(W, &M, ARG(0), ARG(1), ARG(2), P_UNLINK, NULL, 0, NULL));
}

WASI_FN(wasi_path_remove_directory)
{
	MEMORY;
	RET(path_at(W, &M, ARG(0), ARG(1), ARG(2), P_RMDIR, NULL, 0, NULL));
}

WASI_FN(wasi_path_filestat_get)
{
	MEMORY;
	struct stat st;
	uint8_t *p = wptr(&M, ARG(4), 64);
	if (!p)
		RET(WASI_EFAULT);
	int err =
	    path_at(W, &M, ARG(0), ARG(2), ARG(3), (ARG(1) & 1) ? P_STAT : P_LSTAT, &st, 0, NULL);
	if (err)
		RET(err);
	put_filestat(p, &st);
	RET(0);
}

WASI_FN(wasi_path_readlink)
{
	MEMORY;
	ssize_t n = 0;
	uint8_t *buf = wptr(&M, ARG(3), ARG(4));
	if (!buf || !wptr(&M, ARG(5), 4))
		RET(WASI_EFAULT);
	int err = path_at(W, &M, ARG(0), ARG(1), ARG(2), P_READLINK, buf, ARG(4), &n);
	if (err)
		RET(err);
	wput32(&M, ARG(5), (uint32_t)n);
	RET(0);
}

WASI_FN(wasi_path_rename)
{
	MEMORY;
	struct capsa_wasi *w = W;
	char p1[PATH_LIMIT], p2[PATH_LIMIT];
	int d1, d2;
	int err = wasi_fd(w, ARG(0), R_PATH_RENAME_SOURCE, &d1);
	if (!err)
		err = wasi_fd(w, ARG(3), R_PATH_RENAME_TARGET, &d2);
	if (err)
		RET(err);
	err = wasi_guest_path(&M, ARG(1), ARG(2), p1);
	if (!err)
		err = wasi_guest_path(&M, ARG(4), ARG(5), p2);
	if (err)
		RET(err);
	const char *n1, *n2;
	int f1 = wasi_open_parent(d1, p1, &n1);
	if (f1 < 0)
		RET(-f1);
	int f2 = wasi_open_parent(d2, p2, &n2);
	if (f2 < 0) {
		close(f1);
		RET(-f2);
	}
	int rc = renameat(f1, n1, f2, n2);
	err = rc ? wasi_errno(errno) : 0;
	close(f1);
	close(f2);
	RET(err);
}
