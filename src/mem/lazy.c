/* SPDX-License-Identifier: Apache-2.0 */
/* See lazy.h. One thread serves the userfaultfd: each missing-page fault
 * names an address; the chunk holding it is read from the source and
 * copied in whole (UFFDIO_COPY), or mapped as zero pages (UFFDIO_ZEROPAGE)
 * when the chunk is all zero. A fault in a chunk filled before is a page
 * given back since (a balloon's discard): it reads as zero. While no fault
 * waits, the thread fills the source's `first` chunks ahead of any touch,
 * then checks the chunks the source mapped in place. The whole memory is
 * registered before the source maps those: its mappings are not. */
#include "mem/lazy.h"

#include "lib/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LAZY_PAGE 4096ULL
/* The mapped chunks are checked from this long after the start on: the
 * first milliseconds of a restored guest keep both cores. */
#define LAZY_CHECK_DELAY_NS 20000000LL

struct mem_lazy {
	uint8_t *base;
	uint64_t size;
	struct mem_chunk_src src;
	struct mem_lazy_hooks hooks;
	int uffd, stop_fd;
	pthread_t thread;
	uint8_t *buf;         /* one chunk */
	atomic_uchar *filled; /* per chunk: LAZY_EMPTY, LAZY_FILLED or LAZY_MAPPED */
	atomic_int failed;
	/* Held around every call into the source (the fill thread's, and
	 * mem_lazy_check_all's); guards next_check and fail_err too. */
	pthread_mutex_t src_lock;
	struct err fail_err; /* the first failure */
	uint64_t next_first; /* into src.first */
	uint64_t next_check; /* the next chunk to look at for src.check */
	int64_t check_at;    /* CLOCK_MONOTONIC ns: checks start then */
};

enum { LAZY_EMPTY = 0, LAZY_FILLED = 1, LAZY_MAPPED = 2 };

static size_t chunk_len(const struct mem_lazy *l, uint64_t i)
{
	uint64_t at = i * l->src.chunk_size;
	uint64_t n = l->size - at;
	return (size_t)(n < l->src.chunk_size ? n : l->src.chunk_size);
}

/* UFFDIO_COPY or UFFDIO_ZEROPAGE over [dst, dst+len); pages that are there
 * already (EEXIST) are skipped page by page and the range woken. */
static void put_range(struct mem_lazy *l, uint8_t *dst, const uint8_t *src, size_t len)
{
	for (;;) {
		int rc;
		if (src) {
			struct uffdio_copy c = {(uintptr_t)dst, (uintptr_t)src, len, 0, 0};
			rc = ioctl(l->uffd, UFFDIO_COPY, &c);
		} else {
			struct uffdio_zeropage z = {{(uintptr_t)dst, len}, 0, 0};
			rc = ioctl(l->uffd, UFFDIO_ZEROPAGE, &z);
		}
		if (rc == 0)
			return;
		if (errno == EAGAIN || errno == EINTR)
			continue;
		break;
	}
	if (errno != EEXIST || len <= LAZY_PAGE)
		goto wake;
	for (size_t at = 0; at < len; at += LAZY_PAGE)
		put_range(l, dst + at, src ? src + at : NULL, LAZY_PAGE);
	return;
wake:;
	struct uffdio_range r = {(uintptr_t)dst, len};
	ioctl(l->uffd, UFFDIO_WAKE, &r);
}

/* With src_lock held. */
static void fail(struct mem_lazy *l, const struct err *e)
{
	if (!atomic_exchange(&l->failed, 1))
		l->fail_err = *e;
	if (l->hooks.on_fail)
		l->hooks.on_fail(l->hooks.ctx, e);
}

/* Read chunk i from the source and put it in place. */
static void fill(struct mem_lazy *l, uint64_t i)
{
	size_t len = chunk_len(l, i);
	int rc = 1;
	pthread_mutex_lock(&l->src_lock);
	if (!atomic_load(&l->failed)) {
		struct err e = {0};
		rc = l->src.read(l->src.ctx, i, l->buf, len, &e);
		if (rc < 0)
			fail(l, &e);
	}
	pthread_mutex_unlock(&l->src_lock);
	uint8_t *dst = l->base + i * l->src.chunk_size;
	put_range(l, dst, rc == 0 ? l->buf : NULL, len);
	atomic_store(&l->filled[i], LAZY_FILLED);
}

static void serve(struct mem_lazy *l, uint64_t addr)
{
	if (addr < (uintptr_t)l->base || addr - (uintptr_t)l->base >= l->size)
		return;
	uint64_t off = (addr - (uintptr_t)l->base) & ~(LAZY_PAGE - 1);
	uint64_t i = off / l->src.chunk_size;
	if (atomic_load(&l->filled[i])) { /* discarded since: zero */
		put_range(l, l->base + off, NULL, LAZY_PAGE);
		return;
	}
	fill(l, i);
}

/* Check the next mapped chunk not checked yet, if any (src_lock held);
 * 0 when none was left. */
static int check_next(struct mem_lazy *l)
{
	while (l->next_check < l->src.nchunks) {
		uint64_t i = l->next_check++;
		if (i * l->src.chunk_size >= l->size || atomic_load(&l->filled[i]) != LAZY_MAPPED)
			continue;
		struct err e = {0};
		if (!atomic_load(&l->failed) && l->src.check(l->src.ctx, i, &e))
			fail(l, &e);
		return 1;
	}
	return 0;
}

/* How long the thread may wait for a fault (poll's timeout): 0 while it
 * has chunks to fill ahead, until the checks start while it has chunks to
 * check, else for ever. */
static int idle_ms(const struct mem_lazy *l)
{
	if (l->next_first < l->src.nfirst)
		return 0;
	if (!l->src.check || l->next_check >= l->src.nchunks)
		return -1;
	int64_t left = l->check_at - (int64_t)clock_mono_ns();
	return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

/* Fill the next of the source's `first` chunks not filled yet, or else
 * (once it is time) check the next mapped chunk. */
static void fill_ahead(struct mem_lazy *l)
{
	while (l->next_first < l->src.nfirst) {
		uint64_t i = l->src.first[l->next_first++];
		if (i < l->src.nchunks && i * l->src.chunk_size < l->size &&
		    atomic_load(&l->filled[i]) == LAZY_EMPTY) {
			fill(l, i);
			return;
		}
	}
	if (l->src.check && (int64_t)clock_mono_ns() >= l->check_at) {
		pthread_mutex_lock(&l->src_lock);
		check_next(l);
		pthread_mutex_unlock(&l->src_lock);
	}
}

static void *fill_thread(void *arg)
{
	struct mem_lazy *l = arg;
	struct err e = {0};
	if (l->hooks.thread_init && l->hooks.thread_init(l->hooks.ctx, &e)) {
		pthread_mutex_lock(&l->src_lock);
		fail(l, &e); /* every chunk reads as zero from now on */
		pthread_mutex_unlock(&l->src_lock);
	}
	if (l->src.warm) {
		pthread_mutex_lock(&l->src_lock);
		l->src.warm(l->src.ctx, l->buf);
		pthread_mutex_unlock(&l->src_lock);
	}
	for (;;) {
		struct pollfd p[2] = {{l->uffd, POLLIN, 0}, {l->stop_fd, POLLIN, 0}};
		int ready = poll(p, 2, idle_ms(l));
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			break;
		if (ready == 0) {
			fill_ahead(l);
			continue;
		}
		if (p[1].revents)
			break;
		struct uffd_msg msg[16];
		ssize_t n = read(l->uffd, msg, sizeof(msg));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		for (size_t k = 0; k < (size_t)n / sizeof(msg[0]); k++)
			if (msg[k].event == UFFD_EVENT_PAGEFAULT)
				serve(l, msg[k].arg.pagefault.address);
	}
	return NULL;
}

/* A userfaultfd, or -1 with errno: the system call, then /dev/userfaultfd
 * (which a process without the right to the call may still open). */
static int open_uffd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 || (errno != EPERM && errno != EACCES))
		return fd;
#ifdef USERFAULTFD_IOC_NEW
	int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	close(dev);
#endif
	return fd;
}

static void lazy_free(struct mem_lazy *l)
{
	if (l->uffd >= 0)
		close(l->uffd);
	if (l->stop_fd >= 0)
		close(l->stop_fd);
	free(l->buf);
	free(l->filled);
	pthread_mutex_destroy(&l->src_lock);
	free(l);
}

/* The next run of chunks from *i on that the source did not map: its
 * byte range; *i moves past it. 0 at the end. */
static int next_run(const struct mem_lazy *l, uint64_t *i, uint64_t *off, uint64_t *len)
{
	uint64_t n = (l->size + l->src.chunk_size - 1) / l->src.chunk_size;
	while (*i < n && atomic_load(&l->filled[*i]) == LAZY_MAPPED)
		(*i)++;
	if (*i >= n)
		return 0;
	uint64_t start = *i;
	while (*i < n && atomic_load(&l->filled[*i]) != LAZY_MAPPED)
		(*i)++;
	*off = start * l->src.chunk_size;
	uint64_t end = *i * l->src.chunk_size;
	*len = (end < l->size ? end : l->size) - *off;
	return 1;
}

/* Register the whole memory with one call, before the source maps its
 * chunks: the mappings it puts over parts of it replace those parts, and
 * they are not registered (a call for each run between them costs a system
 * call each while the VM is being set up). */
static int lazy_register(struct mem_lazy *l, struct err *e)
{
	struct uffdio_api api = {.api = UFFD_API, .features = 0};
	if (ioctl(l->uffd, UFFDIO_API, &api))
		return err_sys(e, "userfaultfd: UFFDIO_API");
	struct uffdio_register reg = {
	    .range = {(uintptr_t)l->base, l->size},
	    .mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(l->uffd, UFFDIO_REGISTER, &reg))
		return err_sys(e, "userfaultfd: registering guest memory");
	const uint64_t need = (1ULL << _UFFDIO_COPY) | (1ULL << _UFFDIO_ZEROPAGE);
	if ((reg.ioctls & need) != need)
		return err_set(e, ERR_SYSTEM, "userfaultfd cannot copy or zero pages here");
	return 0;
}

/* Let the source map what it can; those chunks count as filled. */
static int lazy_map(struct mem_lazy *l, struct err *e)
{
	if (!l->src.map)
		return 0;
	uint8_t *mapped = calloc(l->src.nchunks, 1);
	if (!mapped)
		return err_sys(e, "allocating");
	int rc = l->src.map(l->src.ctx, l->base, l->size, mapped, e);
	for (uint64_t i = 0; rc == 0 && i < l->src.nchunks; i++)
		if (mapped[i])
			atomic_store(&l->filled[i], LAZY_MAPPED);
	free(mapped);
	return rc;
}

int mem_lazy_start(struct mem_lazy **out, uint8_t *base, uint64_t size,
                   const struct mem_chunk_src *src, const struct mem_lazy_hooks *hooks,
                   struct err *e)
{
	*out = NULL;
	if (!src->chunk_size || src->chunk_size % LAZY_PAGE || size % LAZY_PAGE ||
	    src->nchunks < (size + src->chunk_size - 1) / src->chunk_size)
		return err_set(e, ERR_INTERNAL, "lazy memory: bad chunk geometry");
	int uffd = open_uffd();
	if (uffd < 0)
		return errno == EPERM || errno == EACCES || errno == ENOSYS || errno == ENOENT
		           ? 1
		           : err_sys(e, "userfaultfd");
	struct mem_lazy *l = calloc(1, sizeof(*l));
	if (!l) {
		close(uffd);
		return err_sys(e, "allocating");
	}
	l->base = base, l->size = size, l->src = *src;
	l->hooks = *hooks;
	l->uffd = uffd;
	l->check_at = (int64_t)clock_mono_ns() + LAZY_CHECK_DELAY_NS;
	pthread_mutex_init(&l->src_lock, NULL);
	l->stop_fd = eventfd(0, EFD_CLOEXEC);
	l->buf = malloc(src->chunk_size);
	l->filled = calloc(src->nchunks, sizeof(*l->filled));
	int rc = l->stop_fd >= 0 && l->buf && l->filled ? 0 : err_sys(e, "allocating");
	if (rc == 0)
		rc = lazy_register(l, e);
	if (rc == 0)
		rc = lazy_map(l, e);
	if (rc == 0 && (errno = pthread_create(&l->thread, NULL, fill_thread, l)) != 0)
		rc = err_sys(e, "starting the memory fill thread");
	if (rc) {
		lazy_free(l); /* closing the userfaultfd unregisters */
		return -1;
	}
	*out = l;
	return 0;
}

void mem_lazy_stop(struct mem_lazy *l)
{
	if (!l)
		return;
	uint64_t one = 1;
	if (write(l->stop_fd, &one, sizeof(one)) != sizeof(one))
		abort(); /* an eventfd write cannot fail here */
	pthread_join(l->thread, NULL);
	uint64_t i = 0, off, len;
	while (next_run(l, &i, &off, &len)) {
		struct uffdio_range r = {(uintptr_t)l->base + off, len};
		ioctl(l->uffd, UFFDIO_UNREGISTER, &r);
	}
	if (l->src.release)
		l->src.release(l->src.ctx);
	lazy_free(l);
}

int mem_lazy_filled(const struct mem_lazy *l, uint64_t off)
{
	if (off >= l->size)
		return 1;
	return atomic_load(&l->filled[off / l->src.chunk_size]) != LAZY_EMPTY;
}

int mem_lazy_mapped(const struct mem_lazy *l, uint64_t off)
{
	return off < l->size && atomic_load(&l->filled[off / l->src.chunk_size]) == LAZY_MAPPED;
}

int mem_lazy_failed(const struct mem_lazy *l)
{
	return atomic_load(&l->failed);
}

int mem_lazy_check_all(struct mem_lazy *l, struct err *e)
{
	pthread_mutex_lock(&l->src_lock);
	while (l->src.check && check_next(l))
		;
	int rc = atomic_load(&l->failed) ? -1 : 0;
	if (rc)
		*e = l->fail_err;
	pthread_mutex_unlock(&l->src_lock);
	return rc;
}

int mem_fill_all(uint8_t *base, uint64_t size, const struct mem_chunk_src *src, struct err *e)
{
	for (uint64_t i = 0; i * src->chunk_size < size; i++) {
		uint64_t at = i * src->chunk_size, n = size - at;
		if (n > src->chunk_size)
			n = src->chunk_size;
		if (src->read(src->ctx, i, base + at, (size_t)n, e) < 0)
			return -1;
	}
	return 0;
}
