/* SPDX-License-Identifier: Apache-2.0 */
/* The device section of a snapshot (devices.h): written by walking the
 * VM's device registry, restored by walking the restored VM's registry,
 * which must have the same devices in the same places. */
#include "vm/snapshot/devices.h"

#include "vm/vm_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Paths as the restoring process (another directory, perhaps) must see
 * them: absolute where they resolve and fit. */
static void absolute(char *path, size_t cap)
{
	char full[PATH_MAX];
	if (realpath(path, full) && strlen(full) < cap)
		memcpy(path, full, strlen(full) + 1);
}

int snap_devices_build(struct vm *vm, const struct vm_device_names *names, uint8_t **buf,
                       size_t *len, struct err *e)
{
	unsigned n = vm_virtio_devices(vm);
	size_t total = sizeof(struct snap_devices_hdr) + sizeof(struct vm_device_names);
	for (unsigned i = 0; i < n; i++)
		total += sizeof(struct snap_dev_rec) + ((vm_virtio_state_size(vm, i) + 7) & ~7u);
	uint8_t *b = calloc(1, total);
	if (!b)
		return err_sys(e, "allocating device states");
	struct snap_devices_hdr *h = (struct snap_devices_hdr *)b;
	h->version = SNAP_DEVICES_VERSION;
	h->ndev = n;
	h->config_size = sizeof(h->cfg);
	const struct vm_virtio_config *cfg = vm_virtio_attached(vm);
	if (cfg)
		h->cfg = *cfg;
	for (unsigned i = 0; i < h->cfg.ndisks && i < VM_VIRTIO_MAX; i++)
		absolute(h->cfg.disks[i].path, sizeof(h->cfg.disks[i].path));
	if (h->cfg.vsock.enabled)
		absolute(h->cfg.vsock.uds, sizeof(h->cfg.vsock.uds));
	size_t off = sizeof(*h);
	if (names)
		memcpy(b + off, names, sizeof(*names));
	off += sizeof(*names);
	for (unsigned i = 0; i < n; i++) {
		struct vm_dev_place p;
		size_t sz = vm_virtio_state_size(vm, i);
		if (vm_virtio_place(vm, i, &p) || sz > SNAP_DEV_STATE_MAX) {
			free(b);
			return err_set(e, ERR_INTERNAL, "virtio device %u: no state to save", i);
		}
		struct snap_dev_rec r = {p.kind, p.sub, p.irq, (uint32_t)sz, p.base};
		memcpy(b + off, &r, sizeof(r));
		off += sizeof(r);
		if (vm_virtio_save(vm, i, b + off, sz, e)) {
			free(b);
			return -1;
		}
		off += (sz + 7) & ~7u;
	}
	*buf = b;
	*len = total;
	return 0;
}

int snap_devices_restore(struct vm *vm, const struct snap_devices *d, struct err *e)
{
	unsigned n = vm_virtio_devices(vm);
	if (d->hdr.ndev != n)
		return err_set(e, ERR_INPUT,
		               "snapshot device section has %u devices, its configuration %u",
		               d->hdr.ndev, n);
	if (vm_virtio_quiesce(vm, e))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		const struct snap_dev_rec *r = &d->rec[i];
		struct vm_dev_place p;
		if (vm_virtio_place(vm, i, &p) || r->kind != (uint32_t)p.kind || r->sub != p.sub ||
		    r->irq != p.irq || r->base != p.base)
			return err_set(e, ERR_INPUT,
			               "snapshot device %u does not match its configuration "
			               "(a different device set)",
			               i);
		if (vm_virtio_restore(vm, i, d->state[i], r->state_size, e))
			return err_prefix(e, "snapshot device %u", i);
	}
	return vm_virtio_resume(vm, e);
}

/* The vsock listening socket of the saved VM's process is left behind when
 * that process was killed: remove it when nothing listens on it. */
static void remove_stale_socket(const char *path)
{
	struct stat st;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (lstat(path, &st) || !S_ISSOCK(st.st_mode) || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno == ECONNREFUSED)
		unlink(path);
	close(fd);
}

/* The interface named `id`: its saved name, or "netN" when it has none. */
static int iface_named(const struct snap_devices *d, unsigned n, const char *id)
{
	for (unsigned i = 0; i < n; i++) {
		char dflt[16];
		snprintf(dflt, sizeof(dflt), "net%u", i);
		if (!strcmp(d->names.iface[i][0] ? d->names.iface[i] : dflt, id))
			return (int)i;
	}
	return -1;
}

/* Point the interfaces the overrides name at their new taps in cfg. */
static int override_net(const struct snap_devices *d, struct vm_virtio_config *cfg,
                        const struct vm_net_override *ov, unsigned n, struct err *e)
{
	for (unsigned k = 0; k < n; k++) {
		int i = iface_named(d, cfg->net.n, ov[k].iface_id);
		struct vm_net_dev *dev = i < 0 ? NULL : &cfg->net.d[i];
		if (!dev)
			return err_set(e, ERR_INPUT, "network override: no interface \"%s\"",
			               ov[k].iface_id);
		if (dev->kind != VM_NET_TAP)
			return err_set(e, ERR_INPUT,
			               "network override: interface \"%s\" uses user-mode "
			               "networking, not a tap",
			               ov[k].iface_id);
		if (!ov[k].tap[0] || strlen(ov[k].tap) >= sizeof(dev->ifname))
			return err_set(e, ERR_INPUT,
			               "network override: tap name \"%s\" must be 1 to %zu bytes",
			               ov[k].tap, sizeof(dev->ifname) - 1);
		memcpy(dev->ifname, ov[k].tap, strlen(ov[k].tap) + 1);
	}
	return 0;
}

int snap_devices_prepare(int fd, const char *snap_path, const struct snap_devices *d,
                         const char *disk_dir, const struct vm_net_override *ov, unsigned n,
                         struct vm_virtio_config *cfg, struct err *e)
{
	*cfg = d->hdr.cfg;
	if (override_net(d, cfg, ov, n, e))
		return -1;
	if (cfg->vsock.enabled)
		remove_stale_socket(cfg->vsock.uds);
	return snap_disks_prepare(fd, snap_path, d, disk_dir, cfg, e);
}
