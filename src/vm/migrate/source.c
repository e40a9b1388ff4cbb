/* SPDX-License-Identifier: Apache-2.0 */
/* The sending side of a live migration (migrate.h): one thread per
 * migration, which reads guest memory while the guest runs and pauses it
 * only for the last round. */
#include "vm/migrate/migrate.h"

#include "vm/migrate/stream.h"
#include "vm/snapshot/devices.h"
#include "vm/snapshot/state.h"
#include "lib/clock.h"
#include "lib/zero.h"
#include "vm/vm_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Pre-copy: at least one round of pages written meanwhile (waiting up to
 * MIG_IDLE_WAITS ms for the first), then rounds until one finds at most
 * MIG_FEW_PAGES, MIG_STALL rounds in a row did not shrink the set by an
 * eighth, or MIG_MAX_ROUNDS. */
#define MIG_FEW_PAGES  32
#define MIG_MAX_ROUNDS 30
#define MIG_STALL      3
#define MIG_BATCH      64 /* pages per MIG_PAGES record */
#define MIG_IDLE_WAITS 50 /* 1 ms waits for a first written page */
/* Before the pause: at most this many rounds that wait for the target to
 * apply them (catch_up). */
#define MIG_SYNC_ROUNDS 4
/* Seconds the peer may take: to answer the machine description (it creates
 * a VM) and the state (it sets it and starts), and for any other I/O. */
#define MIG_SLOW_ANSWER 120.0
#define MIG_IO_TIMEOUT  30.0
/* How long a completed migration waits for its status to be read. */
#define MIG_REPORT_WAIT 5.0

struct vm_migration {
	struct vm *vm;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd;                      /* the stream; -1 before it is open (guarded by lock) */
	int cancel;                  /* vm_migrate_free (guarded by lock) */
	int reported;                /* a completed status was read (guarded by lock) */
	struct vm_migrate_status st; /* guarded by lock */
	double t0, t_pause, t_sent, t_running;
	struct vm_device_names names; /* sent with the machine and the state */
	uint64_t *bits;               /* dirty pages, one bit per page of guest RAM */
	uint64_t npages;
	uint8_t *batch; /* MIG_PAGES payload being filled */
	size_t batch_len;
	unsigned batch_n;
};

static double now_ms(void)
{
	return (double)clock_mono_ns() / 1e6;
}

static int send_rec(struct vm_migration *m, uint32_t type, const void *buf, size_t len,
                    struct err *e)
{
	if (mig_send(m->fd, type, buf, len, e))
		return -1;
	pthread_mutex_lock(&m->lock);
	m->st.bytes += len + sizeof(struct mig_record_header);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* Wait for the target's answer to the machine description or the state:
 * `ok`, or a refusal whose text becomes the error. */
static int expect_answer(struct vm_migration *m, uint32_t ok, const char *stage, struct err *e)
{
	uint32_t type;
	void *buf;
	size_t len;
	mig_set_timeout(m->fd, MIG_SLOW_ANSWER);
	int rc = mig_recv(m->fd, &type, &buf, &len, 4096, e);
	mig_set_timeout(m->fd, MIG_IO_TIMEOUT);
	if (rc)
		return err_prefix(e, "waiting for the target %s", stage);
	if (type == MIG_REFUSE || type == MIG_FAILED)
		rc = err_set(e, ERR_INPUT, "the target refused the VM: %s", (char *)buf);
	else if (type != ok)
		rc = err_set(e, ERR_INPUT, "the target answered with record type %u", type);
	free(buf);
	return rc;
}

/* The device configuration and the disks' identities (none without
 * devices): the snapshot's sections, the device section without device
 * records (the state travels with MIG_STATE), with the devices' names. */
static int hello_devices(struct vm *vm, const struct vm_device_names *names, uint8_t **dev,
                         size_t *dev_len, uint8_t **disk, size_t *disk_len, struct err *e)
{
	*dev = *disk = NULL;
	*dev_len = *disk_len = 0;
	if (!vm_virtio_devices(vm))
		return 0;
	uint64_t off = 0;
	if (snap_devices_build(vm, names, dev, dev_len, e) ||
	    snap_disks_build(vm, -1, 0, &off, disk, disk_len, e))
		return -1;
	((struct snap_devices_hdr *)*dev)->ndev = 0;
	*dev_len = sizeof(struct snap_devices_hdr) + sizeof(struct vm_device_names);
	return 0;
}

/* The machine: snapshot header, configuration section, devices, vCPU 0's
 * CPUID. */
static int send_hello(struct vm_migration *m, struct err *e)
{
	struct vm *vm = m->vm;
	uint8_t *dev, *disk;
	size_t dev_len, disk_len;
	if (hello_devices(vm, &m->names, &dev, &dev_len, &disk, &disk_len, e)) {
		free(dev);
		return -1;
	}
	size_t cap = vm->tmpl.ncpuid + CPUID_EXTRA_ENTRIES;
	size_t fixed = sizeof(struct snap_header) + sizeof(struct snap_config) +
	               sizeof(struct mig_hello_devices) + dev_len + disk_len;
	size_t size = fixed + cap * sizeof(struct cpuid_entry);
	uint8_t *buf = calloc(1, size);
	int rc = buf ? 0 : err_sys(e, "allocating");
	struct snap_header *h = (struct snap_header *)buf;
	struct snap_config *cfg = (struct snap_config *)(h + 1);
	if (rc == 0)
		rc = snap_header_fill(vm, h, e);
	if (rc == 0) {
		h->header_crc = snap_header_crc(h);
		cfg->edits = vm->edits;
		struct mig_hello_devices hd = {(uint32_t)dev_len, (uint32_t)disk_len};
		uint8_t *at = (uint8_t *)(cfg + 1);
		memcpy(at, &hd, sizeof(hd));
		if (dev_len)
			memcpy(at + sizeof(hd), dev, dev_len);
		if (disk_len)
			memcpy(at + sizeof(hd) + dev_len, disk, disk_len);
		/* the sections are whole 8-byte words: the table stays aligned */
		size_t n = x86_vcpu_cpuid(&vm->tmpl, 0, (struct cpuid_entry *)(buf + fixed), cap);
		rc = send_rec(m, MIG_HELLO, buf, fixed + n * sizeof(struct cpuid_entry), e);
	}
	free(buf);
	free(dev);
	free(disk);
	return rc || expect_answer(m, MIG_ACCEPT, "to accept the machine", e) ? -1 : 0;
}

static int flush_batch(struct vm_migration *m, struct err *e)
{
	if (!m->batch_n)
		return 0;
	if (send_rec(m, MIG_PAGES, m->batch, m->batch_len, e))
		return -1;
	pthread_mutex_lock(&m->lock);
	m->st.pages += m->batch_n;
	pthread_mutex_unlock(&m->lock);
	m->batch_len = 0;
	m->batch_n = 0;
	return 0;
}

/* Queue page `pg`; zero pages are left out of the first round (the
 * target's memory starts zeroed). */
static int send_page(struct vm_migration *m, uint64_t pg, int first, struct err *e)
{
	const uint8_t *p = m->vm->ram + pg * MIG_PAGE;
	int zero = buf_is_zero(p, MIG_PAGE);
	if (zero && first)
		return 0;
	uint64_t word = pg * MIG_PAGE | (zero ? MIG_PAGE_ZERO : 0);
	memcpy(m->batch + m->batch_len, &word, 8);
	m->batch_len += 8;
	if (!zero) {
		memcpy(m->batch + m->batch_len, p, MIG_PAGE);
		m->batch_len += MIG_PAGE;
	} else {
		pthread_mutex_lock(&m->lock);
		m->st.zero_pages++;
		pthread_mutex_unlock(&m->lock);
	}
	return ++m->batch_n == MIG_BATCH ? flush_batch(m, e) : 0;
}

static uint64_t count_bits(const uint64_t *bits, uint64_t npages)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < (npages + 63) / 64; i++)
		n += (uint64_t)__builtin_popcountll(bits[i]);
	return n;
}

/* Send the pages set in m->bits and clear them: a word at a time, so that
 * a last round of a few pages in gigabytes of RAM costs little. */
static int send_round(struct vm_migration *m, int first, struct err *e)
{
	for (uint64_t w = 0; w < (m->npages + 63) / 64; w++) {
		while (m->bits[w]) {
			uint64_t pg = w * 64 + (uint64_t)__builtin_ctzll(m->bits[w]);
			m->bits[w] &= m->bits[w] - 1;
			if (pg < m->npages && send_page(m, pg, first, e))
				return -1;
		}
	}
	return flush_batch(m, e);
}

/* Round 1's pages: all of them, less those that read as zero without
 * being looked at (snap_touched_map: anonymous guest RAM never touched;
 * reading them would only fault in the zero page). Pages the guest
 * touches later are in the dirty log. */
static void first_round_pages(struct vm_migration *m)
{
	memset(m->bits, 0xff, (m->npages + 63) / 64 * 8);
	uint8_t *map;
	struct err e = {0};
	if (snap_touched_map(m->vm, &map, &e) || !map)
		return; /* keep every page: they are read */
	for (uint64_t pg = 0; pg < m->npages; pg++)
		if (!map[pg])
			m->bits[pg / 64] &= ~(1ULL << (pg % 64));
	free(map);
}

static void set_round(struct vm_migration *m, unsigned round, uint64_t dirty)
{
	pthread_mutex_lock(&m->lock);
	m->st.round = round;
	m->st.dirty = dirty;
	pthread_mutex_unlock(&m->lock);
}

/* Rounds while the guest runs, until few pages or no progress; the pages
 * of the last fetch stay in m->bits. */
static int precopy(struct vm_migration *m, struct err *e)
{
	const struct accel_ops *ops = m->vm->accel->ops;
	first_round_pages(m);
	set_round(m, 1, count_bits(m->bits, m->npages));
	if (send_round(m, 1, e))
		return -1;
	uint64_t prev = UINT64_MAX;
	unsigned stall = 0;
	for (unsigned round = 2; round <= MIG_MAX_ROUNDS; round++) {
		uint64_t n = 0;
		/* round 1 can be over in a millisecond: give the guest a moment
		 * to write before deciding that it does not */
		for (unsigned wait = 0; n == 0 && wait < MIG_IDLE_WAITS; wait++) {
			if (wait)
				nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
			if (ops->dirty_fetch(m->vm->accel, m->bits, e))
				return -1;
			n = count_bits(m->bits, m->npages);
		}
		stall = n >= prev - prev / 8 ? stall + 1 : 0; /* shrank by less than 1/8 */
		/* one round of written pages at least, whatever their number */
		if (n == 0 || (round > 2 && (n <= MIG_FEW_PAGES || stall >= MIG_STALL)))
			break;
		set_round(m, round, n);
		if (send_round(m, 0, e))
			return -1;
		prev = n;
	}
	return 0;
}

/* Wait until the target has applied every record sent so far. */
static int sync_target(struct vm_migration *m, struct err *e)
{
	if (send_rec(m, MIG_SYNC, NULL, 0, e))
		return -1;
	return expect_answer(m, MIG_SYNC, "to apply the pages", e);
}

/* The target applies pages more slowly than the source sends them (the
 * socket buffers megabytes), so at the end of pre-copy it may still be
 * rounds behind; the state sent after the pause would wait behind them.
 * So while the guest still runs: send the last fetch's pages, wait until
 * the target has applied everything, and fetch what the guest wrote
 * meanwhile, until that is few pages; the pause then sends only those. */
static int catch_up(struct vm_migration *m, struct err *e)
{
	const struct accel_ops *ops = m->vm->accel->ops;
	for (unsigned i = 0; i < MIG_SYNC_ROUNDS; i++) {
		uint64_t n = count_bits(m->bits, m->npages);
		if (n) {
			set_round(m, m->st.round + 1, n);
			if (send_round(m, 0, e))
				return -1;
		}
		if (sync_target(m, e) || ops->dirty_fetch(m->vm->accel, m->bits, e))
			return -1;
		if (count_bits(m->bits, m->npages) <= MIG_FEW_PAGES)
			break;
	}
	return 0;
}

/* The paused VM's state sections, laid out as in a snapshot file (with a
 * memory section after them that the stream does not carry). */
static int send_state(struct vm_migration *m, struct err *e)
{
	int fd = memfd_create("capsa-migrate-state", MFD_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "memfd_create");
	struct snap_header *h = calloc(1, SNAP_HEADER_SIZE);
	uint8_t *img = NULL;
	uint64_t off = SNAP_HEADER_SIZE;
	int rc = h ? 0 : err_sys(e, "allocating");
	if (rc == 0)
		rc = snap_header_fill(m->vm, h, e) ||
		     snap_state_write(m->vm, fd, h, 0, &m->names, &off, e);
	if (rc == 0 && h->nsections >= SNAP_MAX_SECTIONS)
		rc = err_set(e, ERR_INTERNAL, "no room for the memory section");
	if (rc == 0) {
		uint64_t mem_off = (off + SNAP_PAGE - 1) & ~(uint64_t)(SNAP_PAGE - 1);
		h->sec[h->nsections++] =
		    (struct snap_section){SNAP_SEC_MEMORY, 0, mem_off, m->vm->ram_size};
		h->file_size = mem_off + m->vm->ram_size;
		h->header_crc = snap_header_crc(h);
		img = malloc(off);
		if (!img || pwrite(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h) ||
		    pread(fd, img, off, 0) != (ssize_t)off)
			rc = err_sys(e, "building the state image");
	}
	if (rc == 0)
		rc = send_rec(m, MIG_STATE, img, off, e);
	free(img);
	free(h);
	close(fd);
	return rc;
}

/* Pause, the last pages, the state; the target answers once it runs. */
static int stop_and_copy(struct vm_migration *m, int *paused, struct err *e)
{
	struct vm_info info;
	vm_get_info(m->vm, &info);
	m->t_pause = now_ms();
	if (!info.paused) {
		if (vm_pause(m->vm, e))
			return -1;
		*paused = 1;
	}
	if (m->vm->accel->ops->dirty_fetch(m->vm->accel, m->bits, e))
		return -1;
	set_round(m, m->st.round + 1, count_bits(m->bits, m->npages));
	if (send_round(m, 0, e) || send_state(m, e))
		return -1;
	m->t_sent = now_ms();
	if (expect_answer(m, MIG_RUNNING, "to run the VM", e))
		return -1;
	m->t_running = now_ms(); /* before dirty_stop, which may take milliseconds */
	return 0;
}

static int migrate(struct vm_migration *m, int *paused, struct err *e)
{
	const struct accel_ops *ops = m->vm->accel->ops;
	int fd;
	if (mig_connect(&m->sa, m->salen, 10, &fd, e))
		return err_prefix(e, "%s", m->st.destination);
	pthread_mutex_lock(&m->lock);
	m->fd = fd;
	int cancel = m->cancel;
	pthread_mutex_unlock(&m->lock);
	if (cancel)
		return err_set(e, ERR_INPUT, "cancelled");
	mig_set_timeout(fd, MIG_IO_TIMEOUT);
	if (mig_send_preamble(fd, e) || send_hello(m, e))
		return -1;
	if (!ops->dirty_start)
		return err_set(e, ERR_INPUT, "the %s accelerator cannot log dirty pages",
		               ops->name);
	if (ops->dirty_start(m->vm->accel, e))
		return -1;
	int rc = precopy(m, e) || catch_up(m, e) || stop_and_copy(m, paused, e) ? -1 : 0;
	ops->dirty_stop(m->vm->accel);
	return rc;
}

static void *migration_thread(void *arg)
{
	struct vm_migration *m = arg;
	struct err e = {0};
	int paused = 0;
	int rc = migrate(m, &paused, &e);
	double t = now_ms();
	if (rc && paused) {
		struct err e2 = {0};
		vm_resume(m->vm, &e2);
	}
	pthread_mutex_lock(&m->lock);
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->st.total_ms = (rc ? t : m->t_running) - m->t0;
	if (rc) {
		m->st.state = VM_MIGRATE_FAILED;
		snprintf(m->st.error, sizeof(m->st.error), "%s", e.msg);
	} else {
		m->st.state = VM_MIGRATE_COMPLETED;
		m->st.downtime_ms = m->t_running - m->t_pause;
		m->st.downtime_sent_ms = m->t_sent - m->t_pause;
	}
	if (rc == 0) {
		/* let the client read the result before the VM (and the API) go */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)MIG_REPORT_WAIT;
		while (!m->reported && !m->cancel &&
		       pthread_cond_timedwait(&m->cond, &m->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&m->lock);
	if (rc == 0)
		vm_request_end(m->vm, VM_END_MIGRATED, 0);
	return NULL;
}

void vm_migrate_free(struct vm *vm)
{
	if (vm->incoming_fd >= 0) { /* received, never run */
		struct err e = {0};
		err_set(&e, ERR_INPUT, "the target's VM ended before it ran");
		vm_migrate_started(vm, 1, &e);
	}
	struct vm_migration *m = vm->migration;
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->cancel = 1;
	if (m->fd >= 0)
		shutdown(m->fd, SHUT_RDWR);
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	free(m->bits);
	free(m->batch);
	free(m);
	vm->migration = NULL;
}

static int busy(struct vm *vm, struct err *e)
{
	struct vm_info info;
	vm_get_info(vm, &info);
	if (info.ended)
		return err_set(e, ERR_INPUT, "the VM is not running");
	struct vm_migration *m = vm->migration;
	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	enum vm_migrate_state s = m->st.state;
	pthread_mutex_unlock(&m->lock);
	if (s == VM_MIGRATE_ACTIVE)
		return err_set(e, ERR_INPUT, "a migration is already under way");
	if (s == VM_MIGRATE_COMPLETED)
		return err_set(e, ERR_INPUT, "the VM has migrated");
	vm_migrate_free(vm); /* a failed one: try again */
	return 0;
}

int vm_migrate_start(struct vm *vm, const char *dest, const struct vm_device_names *names,
                     struct err *e)
{
	struct vm_migration *m = calloc(1, sizeof(*m));
	if (!m)
		return err_sys(e, "allocating");
	m->vm = vm;
	if (names)
		m->names = *names;
	m->fd = -1;
	m->npages = vm->ram_size / MIG_PAGE;
	if (mig_parse_addr(dest, "destination", &m->sa, &m->salen, e) || busy(vm, e)) {
		free(m);
		return -1;
	}
	m->bits = calloc((m->npages + 63) / 64, 8);
	m->batch = malloc(MIG_BATCH * (8 + MIG_PAGE));
	if (!m->bits || !m->batch) {
		free(m->bits);
		free(m->batch);
		free(m);
		return err_sys(e, "allocating");
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	snprintf(m->st.destination, sizeof(m->st.destination), "%s", dest);
	m->st.state = VM_MIGRATE_ACTIVE;
	m->t0 = now_ms();
	vm->migration = m;
	int rc = pthread_create(&m->thread, NULL, migration_thread, m);
	if (rc) {
		vm->migration = NULL;
		pthread_mutex_destroy(&m->lock);
		pthread_cond_destroy(&m->cond);
		free(m->bits);
		free(m->batch);
		free(m);
		return err_errno(e, rc, "starting the migration thread");
	}
	return 0;
}

void vm_migrate_status(struct vm *vm, struct vm_migrate_status *st)
{
	struct vm_migration *m = vm->migration;
	memset(st, 0, sizeof(*st));
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	*st = m->st;
	if (st->state == VM_MIGRATE_ACTIVE)
		st->total_ms = now_ms() - m->t0;
	if (st->state == VM_MIGRATE_COMPLETED) {
		m->reported = 1;
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
}
