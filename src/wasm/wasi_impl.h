/* Shared internals of the WASI implementation (wasi.c, wasi_fs.c). */
#ifndef CAPSA_WASM_WASI_IMPL_H
#define CAPSA_WASM_WASI_IMPL_H

#include "capsa/wasm_wasi.h"

#include <stdint.h>
#include <string.h>

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

struct wfd {
	int host; /* -1 when the slot is free */
	int is_preopen;
	char *guest; /* preopen name */
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
int wasi_fds_init(struct capsa_wasi *w, struct err *e);
void wasi_fds_free(struct capsa_wasi *w);

#define WASI_FN(name)                                                                              \
	enum capsa_wasm_trap name(struct capsa_wasm_caller *caller, void *env,                     \
	                          union capsa_wasm_val *a)
WASI_FN(wasi_fd_advise);
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
