/* SPDX-License-Identifier: Apache-2.0 */
/* The receiving side of a live migration (migrate.h). The machine
 * description is checked and a VM created before the source sends a page;
 * pages go straight into that VM's memory; the state is read back through
 * the snapshot loader, so it is verified as a snapshot file is. */
#include "vm/migrate/migrate.h"

#include "vm/migrate/stream.h"
#include "vm/snapshot/load.h"
#include "vm/snapshot/state.h"
#include "vm/vm_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Silence from the source for this long ends the migration. */
#define MIG_SOURCE_TIMEOUT 60.0

int vm_migrate_listen(const char *spec, int *lfd, char *where, size_t cap, struct err *e)
{
	struct sockaddr_storage sa;
	socklen_t len;
	if (mig_parse_addr(spec, "--incoming", &sa, &len, e))
		return -1;
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		return err_sys(e, "creating a socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, len) || listen(fd, 1)) {
		err_sys(e, "--incoming %s: cannot listen", spec);
		e->kind = ERR_INPUT;
		close(fd);
		return -1;
	}
	len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(where, cap, "%s:%u", host, port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(where, cap, "[%s]:%u", host, port);
	}
	*lfd = fd;
	return 0;
}

/* The device and disk sections of the machine description, parsed as a
 * snapshot's: a configuration without device records, disk identities
 * without data. */
static int take_devices(const uint8_t *buf, const struct mig_hello_devices *hd,
                        struct snap_loaded *l, struct err *e)
{
	if (!hd->dev_len && !hd->disk_len)
		return 0;
	uint8_t *dev = malloc(hd->dev_len ? hd->dev_len : 1);
	l->dev = calloc(1, sizeof(*l->dev));
	if (!dev || !l->dev) {
		free(dev);
		return err_sys(e, "allocating device states");
	}
	memcpy(dev, buf, hd->dev_len);
	if (snap_devices_parse(l->dev, dev, hd->dev_len, buf + hd->dev_len, hd->disk_len, 0, e))
		return -1;
	if (l->dev->hdr.ndev)
		return err_set(e, ERR_INPUT, "the machine description carries device states");
	for (unsigned i = 0; i < l->dev->ndisks; i++)
		if (l->dev->disk[i].flags & SNAP_DISK_DATA)
			return err_set(e, ERR_INPUT, "the machine description carries disk data");
	return 0;
}

/* The machine description: checked like a snapshot's header, then a VM
 * for it is created (which also checks the CPU features). */
static int take_hello(const uint8_t *buf, size_t len, struct snap_loaded *l, struct err *e)
{
	size_t fixed = sizeof(struct snap_header) + sizeof(struct snap_config);
	struct mig_hello_devices hd;
	if (len < fixed + sizeof(hd))
		return err_set(e, ERR_INPUT, "the machine description has a bad size (%zu bytes)",
		               len);
	memcpy(&hd, buf + fixed, sizeof(hd));
	const uint8_t *devs = buf + fixed + sizeof(hd);
	if (hd.dev_len > len || hd.disk_len > len)
		return err_set(e, ERR_INPUT, "the machine description's devices are cut short");
	fixed += sizeof(hd) + hd.dev_len + hd.disk_len;
	if (len < fixed + sizeof(struct cpuid_entry) ||
	    (len - fixed) % sizeof(struct cpuid_entry) ||
	    (len - fixed) / sizeof(struct cpuid_entry) > SNAP_MAX_CPUID)
		return err_set(e, ERR_INPUT, "the machine description has a bad size (%zu bytes)",
		               len);
	memcpy(&l->h, buf, sizeof(l->h));
	memcpy(&l->cfg, buf + sizeof(l->h), sizeof(l->cfg));
	if (snap_header_ident_check(&l->h, e) || snap_machine_check(&l->h, e))
		return -1;
	if (l->cfg.edits.n > CPUID_MAX_EDITS)
		return err_set(e, ERR_INPUT, "the machine description's CPU edits are corrupt");
	if (take_devices(devs, &hd, l, e))
		return -1;
	l->ncpuid = (len - fixed) / sizeof(struct cpuid_entry);
	l->cpuid = malloc(l->ncpuid * sizeof(struct cpuid_entry));
	if (!l->cpuid)
		return err_sys(e, "allocating CPUID");
	memcpy(l->cpuid, buf + fixed, l->ncpuid * sizeof(struct cpuid_entry));
	return 0;
}

/* The source's vsock socket: on the same host the source still listens on
 * it while the target would create it. */
static int vsock_free(const struct vm_virtio_config *cfg, struct err *e)
{
	struct stat st;
	if (cfg->vsock.enabled && lstat(cfg->vsock.uds, &st) == 0)
		return err_set(e, ERR_INPUT,
		               "the vsock socket %s is in use (by the source on this host?); a VM "
		               "with vsock migrates only to another host",
		               cfg->vsock.uds);
	return 0;
}

/* Disks are shared by path: each must be the source's file, of the size
 * the source saw (its writes go on until the source pauses; take_state
 * checks the rest). */
static int disks_present(const struct snap_devices *d, struct err *e)
{
	for (unsigned i = 0; i < d->ndisks; i++) {
		const char *path = d->hdr.cfg.disks[i].path;
		struct stat st;
		if (stat(path, &st)) {
			err_sys(e, "disk %s", path);
			e->kind = ERR_INPUT;
			return -1;
		}
		if ((uint64_t)st.st_size != d->disk[i].file_size)
			return err_set(e, ERR_INPUT,
			               "disk %s is not the source's (%llu bytes here, %llu there); "
			               "disks must be shared",
			               path, (unsigned long long)st.st_size,
			               (unsigned long long)d->disk[i].file_size);
	}
	return 0;
}

/* A VM for the machine, with its devices. */
static int create(const struct snap_loaded *l, const struct vm_restore_opts *o, struct vm **out,
                  struct err *e)
{
	if (!l->dev)
		return snap_create_vm(out, l, -1, 0, NULL, o, e);
	if (disks_present(l->dev, e) || vsock_free(&l->dev->hdr.cfg, e))
		return -1;
	return snap_create_vm(out, l, -1, 0, &l->dev->hdr.cfg, o, e);
}

/* The devices of the state: the machine's, and every disk unchanged since
 * the source paused (its identity then is in the state). */
static int state_devices(struct vm *vm, const struct snap_devices *d, struct err *e)
{
	if (!d != !vm_virtio_devices(vm))
		return err_set(e, ERR_INPUT, "the VM state's devices differ from the machine's");
	if (!d)
		return 0;
	struct vm_virtio_config cfg = d->hdr.cfg;
	for (unsigned i = 0; i < d->ndisks; i++)
		if (d->disk[i].flags & SNAP_DISK_DATA)
			return err_set(e, ERR_INPUT, "the VM state carries disk data");
	return snap_disks_prepare(-1, "", d, NULL, &cfg, e);
}

/* Page records into guest RAM; every offset is bounded first. */
static int take_pages(struct vm *vm, const uint8_t *buf, size_t len, uint64_t *pages, struct err *e)
{
	size_t at = 0;
	while (at < len) {
		uint64_t word;
		if (len - at < 8)
			return err_set(e, ERR_INPUT, "a page record is cut short");
		memcpy(&word, buf + at, 8);
		at += 8;
		uint64_t off = word & ~(uint64_t)(MIG_PAGE - 1), flags = word & (MIG_PAGE - 1);
		if (flags & ~MIG_PAGE_ZERO)
			return err_set(e, ERR_INPUT, "a page record has unknown flags 0x%llx",
			               (unsigned long long)flags);
		if (off >= vm->ram_size)
			return err_set(e, ERR_INPUT,
			               "a page record lies outside guest RAM (0x%llx)",
			               (unsigned long long)off);
		uint8_t *dst = vm->ram + off;
		if (flags & MIG_PAGE_ZERO) {
			memset(dst, 0, MIG_PAGE);
		} else {
			if (len - at < MIG_PAGE)
				return err_set(e, ERR_INPUT, "a page record is cut short");
			memcpy(dst, buf + at, MIG_PAGE);
			at += MIG_PAGE;
		}
		++*pages;
	}
	return 0;
}

/* The state image goes through the snapshot loader (from a memory file
 * sized as the snapshot it describes; its memory section reads as holes). */
static int take_state(struct vm *vm, const uint8_t *buf, size_t len, struct err *e)
{
	struct snap_header h;
	uint64_t mem_off = (len + SNAP_PAGE - 1) & ~(uint64_t)(SNAP_PAGE - 1);
	if (len < sizeof(h))
		return err_set(e, ERR_INPUT, "the VM state is cut short");
	memcpy(&h, buf, sizeof(h));
	if (h.file_size != mem_off + vm->ram_size || h.memory != vm->ram_size ||
	    h.cpus != vm->ncpus)
		return err_set(e, ERR_INPUT, "the VM state describes another machine");
	int fd = memfd_create("capsa-incoming-state", MFD_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "memfd_create");
	struct snap_loaded *l = calloc(1, sizeof(*l));
	int rc = l ? 0 : err_sys(e, "allocating");
	if (rc == 0 &&
	    (pwrite(fd, buf, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)h.file_size)))
		rc = err_sys(e, "storing the VM state");
	if (rc == 0)
		rc = snap_load(fd, l, e) ? -1 : 0;
	if (rc == 0)
		rc = state_devices(vm, l->dev, e);
	if (rc == 0)
		rc = snap_state_set(vm, l, e);
	if (rc == 0 && l->dev)
		rc = snap_devices_restore(vm, l->dev, e);
	if (rc && e->kind == ERR_INPUT)
		err_prefix(e, "the VM state");
	snap_loaded_free(l);
	close(fd);
	return rc;
}

/* After ACCEPT: page records until the state. */
static int receive_vm(int fd, struct vm *vm, struct err *e)
{
	uint64_t pages = 0;
	for (;;) {
		uint32_t type;
		void *buf;
		size_t len;
		if (mig_recv(fd, &type, &buf, &len, MIG_MAX_RECORD, e))
			return -1;
		int rc;
		if (type == MIG_PAGES)
			rc = take_pages(vm, buf, len, &pages, e);
		else if (type == MIG_SYNC)
			rc = mig_send(fd, MIG_SYNC, NULL, 0, e);
		else if (type == MIG_STATE)
			rc = take_state(vm, buf, len, e);
		else
			rc = err_set(e, ERR_INPUT, "unexpected migration record type %u", type);
		free(buf);
		if (rc || type == MIG_STATE)
			return rc;
	}
}

static int handshake(int fd, const struct vm_restore_opts *o, struct vm **out, struct err *e)
{
	uint32_t type;
	void *buf;
	size_t len;
	if (mig_recv_preamble(fd, e) || mig_recv(fd, &type, &buf, &len, 1 << 20, e))
		return -1;
	struct snap_loaded *l = calloc(1, sizeof(*l));
	int rc = l ? 0 : err_sys(e, "allocating");
	if (rc == 0 && type != MIG_HELLO)
		rc = err_set(e, ERR_INPUT, "the stream starts with record type %u, not the machine",
		             type);
	if (rc == 0)
		rc = take_hello(buf, len, l, e) || create(l, o, out, e) ? -1 : 0;
	if (rc == 0 && o->names)
		*o->names = l->dev ? l->dev->names : (struct vm_device_names){0};
	free(buf);
	snap_loaded_free(l);
	if (rc) {
		struct err ignored = {0};
		mig_send(fd, MIG_REFUSE, e->msg, strlen(e->msg), &ignored);
		return -1;
	}
	return mig_send(fd, MIG_ACCEPT, NULL, 0, e);
}

int vm_migrate_receive(int lfd, const struct vm_restore_opts *o, struct vm **out, char *peer,
                       size_t peer_cap, struct err *e)
{
	*out = NULL;
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	int fd;
	do
		fd = accept4(lfd, (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return err_sys(e, "accepting the migration");
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
	} else if (sa.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
	}
	snprintf(peer, peer_cap, "%s:%u", host, port);
	mig_set_timeout(fd, MIG_SOURCE_TIMEOUT);
	mig_set_nodelay(fd);
	struct vm *vm = NULL;
	int rc = handshake(fd, o, &vm, e);
	if (rc == 0 && receive_vm(fd, vm, e)) {
		struct err ignored = {0};
		mig_send(fd, MIG_FAILED, e->msg, strlen(e->msg), &ignored);
		rc = -1;
	}
	if (rc) {
		close(fd);
		vm_destroy(vm);
		if (e->kind == ERR_INPUT)
			err_prefix(e, "migration from %s", peer);
		return -1;
	}
	vm->incoming_fd = fd;
	*out = vm;
	return 0;
}

int vm_migrate_started(struct vm *vm, int failed, struct err *e)
{
	int fd = vm->incoming_fd;
	if (fd < 0)
		return failed ? -1 : 0;
	vm->incoming_fd = -1;
	int rc;
	if (failed) {
		struct err ignored = {0};
		mig_send(fd, MIG_FAILED, e->msg, strlen(e->msg), &ignored);
		rc = -1;
	} else {
		rc = mig_send(fd, MIG_RUNNING, NULL, 0, e);
		if (rc)
			err_prefix(e,
			           "telling the source that the VM runs here (it resumes there)");
	}
	close(fd);
	return rc;
}
