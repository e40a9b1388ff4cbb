/* SPDX-License-Identifier: Apache-2.0 */
/* Shared internals of the WASI implementation (wasi.c, wasi_fs.c, wasi_meta.c, wasi_poll.c). */
#ifndef CAPSA_WASM_WASI_IMPL_H
#define CAPSA_WASM_WASI_IMPL_H

#include "capsa/wasm_wasi.h"

#include <stdint.h>
#include <string.h>
#include <sys/types.h>

enum {
	WASI_E2BIG = 1,
	WASI_EACCES = 2,
	WASI_EAGAIN = 6,
	WASI_EBADF = 8,
	WASI_EBUSY = 10,
	WASI_EEXIST = 20,
	WASI_EFAULT = 21,
	WASI_EFBIG = 22,
	WASI_EINTR = 27,
	WASI_EINVAL = 28,
	WASI_EIO = 29,
	WASI_EISDIR = 31,
	WASI_ELOOP = 32,
	WASI_EMFILE = 33,
	WASI_ENAMETOOLONG = 37,
	WASI_ENFILE = 41,
	WASI_ENOENT = 44,
	WASI_ENOMEM = 48,
	WASI_ENOSPC = 51,
	WASI_ENOSYS = 52,
	WASI_ENOTDIR = 54,
	WASI_ENOTEMPTY = 55,
	WASI_ENOTSUP = 58,
	WASI_ENOTTY = 59,
	WASI_EOVERFLOW = 61,
	WASI_EPERM = 63,
	WASI_EPIPE = 64,
	WASI_ERANGE = 68,
	WASI_EROFS = 69,
	WASI_ESPIPE = 70,
	WASI_EXDEV = 75,
	WASI_ENOTCAPABLE = 76,
};

/* Rights (preview1): what a descriptor may be used for. base applies to
 * the descriptor itself, inherit to descriptors opened through it. */
enum {
	R_FD_DATASYNC = 1 << 0,
	R_FD_READ = 1 << 1,
	R_FD_SEEK = 1 << 2,
	R_FD_FDSTAT_SET_FLAGS = 1 << 3,
	R_FD_SYNC = 1 << 4,
	R_FD_TELL = 1 << 5,
	R_FD_WRITE = 1 << 6,
	R_FD_ADVISE = 1 << 7,
	R_FD_ALLOCATE = 1 << 8,
	R_PATH_CREATE_DIRECTORY = 1 << 9,
	R_PATH_CREATE_FILE = 1 << 10,
	R_PATH_LINK_SOURCE = 1 << 11,
	R_PATH_LINK_TARGET = 1 << 12,
	R_PATH_OPEN = 1 << 13,
	R_FD_READDIR = 1 << 14,
	R_PATH_READLINK = 1 << 15,
	R_PATH_RENAME_SOURCE = 1 << 16,
	R_PATH_RENAME_TARGET = 1 << 17,
	R_PATH_FILESTAT_GET = 1 << 18,
	R_PATH_FILESTAT_SET_SIZE = 1 << 19,
	R_PATH_FILESTAT_SET_TIMES = 1 << 20,
	R_FD_FILESTAT_GET = 1 << 21,
	R_FD_FILESTAT_SET_SIZE = 1 << 22,
	R_FD_FILESTAT_SET_TIMES = 1 << 23,
	R_PATH_SYMLINK = 1 << 24,
	R_PATH_REMOVE_DIRECTORY = 1 << 25,
	R_PATH_UNLINK_FILE = 1 << 26,
	R_POLL_FD_READWRITE = 1 << 27,
	R_SOCK_SHUTDOWN = 1 << 28,
	R_SOCK_ACCEPT = 1 << 29,
};
#define R_ALL ((1ull << 30) - 1)
/* Rights that make sense for a directory, and for anything else. */
#define R_DIR                                                                                      \
	(R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_ADVISE | R_PATH_CREATE_DIRECTORY |               \
	 R_PATH_CREATE_FILE | R_PATH_LINK_SOURCE | R_PATH_LINK_TARGET | R_PATH_OPEN |              \
	 R_FD_READDIR | R_PATH_READLINK | R_PATH_RENAME_SOURCE | R_PATH_RENAME_TARGET |            \
	 R_PATH_FILESTAT_GET | R_PATH_FILESTAT_SET_SIZE | R_PATH_FILESTAT_SET_TIMES |              \
	 R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_TIMES | R_PATH_SYMLINK | R_PATH_REMOVE_DIRECTORY |  \
	 R_PATH_UNLINK_FILE)
#define R_FILE                                                                                     \
	(R_FD_DATASYNC | R_FD_READ | R_FD_SEEK | R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_TELL |   \
	 R_FD_WRITE | R_FD_ADVISE | R_FD_ALLOCATE | R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_SIZE |   \
	 R_FD_FILESTAT_SET_TIMES | R_POLL_FD_READWRITE)

struct wfd {
	int host; /* -1 when the slot is free */
	int is_preopen;
	/* capsa opened the host descriptor (path_open, a preopen) and closes
	 * it; the embedder's stdio descriptors are only lent to the guest. */
	int owned;
	int may_block;          /* a blocking pipe, socket or terminal: reads and writes can wait */
	char *guest;            /* preopen name */
	uint64_t base, inherit; /* rights */
};

struct capsa_wasi {
	struct capsa_wasm_store *store;
	struct capsa_wasi_config cfg;
	struct capsa_wasm_func **funcs;
	struct wfd *fds;
	uint32_t nfds;
};

struct wmem {
	uint8_t *base;
	uint64_t size;
};

static inline uint8_t *wptr(struct wmem *m, uint32_t off, uint64_t len)
{
	if (!m->base || (uint64_t)off + len > m->size)
		return NULL;
	return m->base + off;
}
static inline int wput32(struct wmem *m, uint32_t off, uint32_t v)
{
	uint8_t *p = wptr(m, off, 4);
	if (!p)
		return -1;
	memcpy(p, &v, 4);
	return 0;
}
static inline int wput64(struct wmem *m, uint32_t off, uint64_t v)
{
	uint8_t *p = wptr(m, off, 8);
	if (!p)
		return -1;
	memcpy(p, &v, 8);
	return 0;
}

int wasi_errno(int host_errno);
/* Host descriptor of guest fd in *host if it is open and has all of the
 * rights `need`; else WASI_EBADF or WASI_ENOTCAPABLE. */
int wasi_fd(struct capsa_wasi *w, uint32_t fd, uint64_t need, int *host);
/* Guest path (ptr, len) into buf (PATH_LIMIT bytes), relative only. */
#define PATH_LIMIT 4096
int wasi_guest_path(struct wmem *M, uint32_t ptr, uint32_t len, char *buf);
/* openat2 beneath dirfd (RESOLVE_BENEATH); follow: the last component may
 * be a symlink (itself resolved beneath). */
int wasi_open_beneath(int dirfd, const char *path, int flags, mode_t mode, int follow);
/* Parent directory of path opened beneath dirfd; *name is the last
 * component (never "." or ".."). Returns the fd or -WASI errno. */
int wasi_open_parent(int dirfd, char *path, const char **name);
/* WASI filetype of a host st_mode. */
uint8_t wasi_filetype(mode_t m);
int wasi_fds_init(struct capsa_wasi *w, struct err *e);
/* Recompute f->may_block from the host descriptor's type and flags. */
void wasi_fd_refresh(struct wfd *f);
/* Wait until host descriptor fd is ready for `events` (POLLIN, POLLOUT) or
 * the store is interrupted: 0 when ready (or the descriptor is in error,
 * which the read or write then reports), -1 when interrupted. */
int wasi_wait_ready(struct capsa_wasi *w, int fd, short events);
void wasi_fds_free(struct capsa_wasi *w);

/* For the host functions below (arguments `caller`, `env`, `a`): the guest's
 * memory as M, the WASI state, argument i as u32, and returning an errno. */
static inline struct wmem wasi_memory(struct capsa_wasm_caller *c)
{
	struct wmem m = {NULL, 0};
	struct capsa_wasm_memory *mem = capsa_wasm_caller_memory(c);
	if (mem)
		m.base = capsa_wasm_memory_data(mem, &m.size);
	return m;
}
#define MEMORY                                                                                     \
	struct wmem M = wasi_memory(caller);                                                       \
	(void)M
#define W        ((struct capsa_wasi *)env)
#define ARG(i)   ((uint32_t)a[i].i32)
#define RET(err) return (a[0].i32 = (err), CAPSA_WASM_OK)
/* Start of a function on guest fd ARG(i) needing rights r: sets `fd`. */
#define FD_RIGHTS(fd, i, r)                                                                        \
	int fd;                                                                                    \
	do {                                                                                       \
		int e_ = wasi_fd(W, ARG(i), (r), &fd);                                             \
		if (e_)                                                                            \
			RET(e_);                                                                   \
	} while (0)

#define WASI_FN(name)                                                                              \
	enum capsa_wasm_trap name(struct capsa_wasm_caller *caller, void *env,                     \
	                          union capsa_wasm_val *a)
WASI_FN(wasi_fd_advise);
WASI_FN(wasi_fd_allocate);
WASI_FN(wasi_fd_datasync);
WASI_FN(wasi_fd_fdstat_set_rights);
WASI_FN(wasi_fd_filestat_set_times);
WASI_FN(wasi_path_filestat_set_times);
WASI_FN(wasi_path_link);
WASI_FN(wasi_path_symlink);
WASI_FN(wasi_poll_oneoff);
WASI_FN(wasi_fd_close);
WASI_FN(wasi_fd_sync);
WASI_FN(wasi_fd_fdstat_get);
WASI_FN(wasi_fd_fdstat_set_flags);
WASI_FN(wasi_fd_filestat_get);
WASI_FN(wasi_fd_filestat_set_size);
WASI_FN(wasi_fd_pread);
WASI_FN(wasi_fd_pwrite);
WASI_FN(wasi_fd_prestat_get);
WASI_FN(wasi_fd_prestat_dir_name);
WASI_FN(wasi_fd_read);
WASI_FN(wasi_fd_readdir);
WASI_FN(wasi_fd_renumber);
WASI_FN(wasi_fd_seek);
WASI_FN(wasi_fd_tell);
WASI_FN(wasi_fd_write);
WASI_FN(wasi_path_create_directory);
WASI_FN(wasi_path_filestat_get);
WASI_FN(wasi_path_open);
WASI_FN(wasi_path_readlink);
WASI_FN(wasi_path_remove_directory);
WASI_FN(wasi_path_rename);
WASI_FN(wasi_path_unlink_file);

#endif
