/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing the device sections of a snapshot (devices.h). Nothing here
 * trusts the file: strings must be terminated inside their fields, counts
 * and enums must be in range, records must lie inside the section. Whether
 * the records match the devices the configuration creates is checked when
 * they are restored (devices.c). */
#include "vm/snapshot/devices.h"

#include <stdlib.h>
#include <string.h>

#define TERMINATED(a) (memchr((a), 0, sizeof(a)) != NULL)

static int check_disk(const struct vm_virtio_disk *d)
{
	return TERMINATED(d->path) && d->path[0] && TERMINATED(d->id) &&
	       (d->format == DISK_FMT_AUTO || d->format == DISK_FMT_RAW ||
	        d->format == DISK_FMT_QCOW2) &&
	       (d->cache == DISK_CACHE_WRITEBACK || d->cache == DISK_CACHE_NONE) &&
	       d->poll_us <= 1000000 && (d->readonly == 0 || d->readonly == 1) &&
	       (d->sync_io == 0 || d->sync_io == 1);
}

static int check_net(const struct vm_net_dev *n)
{
	if (n->kind != VM_NET_TAP && n->kind != VM_NET_USER)
		return 0;
	if (!TERMINATED(n->ifname) || (n->kind == VM_NET_TAP && !n->ifname[0]))
		return 0;
	return n->user.nfwd <= NET_SLIRP_MAX_FWD && !(n->mac[0] & 1) && n->poll_us <= 1000000;
}

static int check_config(const struct vm_virtio_config *c)
{
	if (c->ndisks > VM_VIRTIO_MAX || c->net.n > VM_NET_MAX || (c->rng != 0 && c->rng != 1) ||
	    c->balloon.enabled > 1 || c->balloon.no_deflate_on_oom > 1 ||
	    (c->vsock.enabled != 0 && c->vsock.enabled != 1))
		return 0;
	unsigned n = c->ndisks + (unsigned)c->rng + (unsigned)c->balloon.enabled + c->net.n +
	             (unsigned)c->vsock.enabled;
	if (n > VM_VIRTIO_MAX)
		return 0;
	for (unsigned i = 0; i < c->ndisks; i++)
		if (!check_disk(&c->disks[i]))
			return 0;
	for (unsigned i = 0; i < c->net.n; i++)
		if (!check_net(&c->net.d[i]))
			return 0;
	if (c->vsock.enabled && (!TERMINATED(c->vsock.uds) || !c->vsock.uds[0] ||
	                         c->vsock.cid < 3 || c->vsock.cid == UINT32_MAX))
		return 0;
	return 1;
}

/* Every name terminated inside its field. */
static int parse_names(struct snap_devices *d, size_t len, struct err *e)
{
	if (len - sizeof(d->hdr) < sizeof(d->names))
		return err_set(e, ERR_INPUT, "snapshot device section is truncated");
	memcpy(&d->names, d->buf + sizeof(d->hdr), sizeof(d->names));
	for (unsigned i = 0; i < VM_VIRTIO_MAX; i++)
		if (!TERMINATED(d->names.drive[i]))
			return err_set(e, ERR_INPUT, "snapshot drive name %u is corrupt", i);
	for (unsigned i = 0; i < VM_NET_MAX; i++)
		if (!TERMINATED(d->names.iface[i]))
			return err_set(e, ERR_INPUT, "snapshot interface name %u is corrupt", i);
	return 0;
}

static int parse_records(struct snap_devices *d, size_t len, struct err *e)
{
	size_t off = sizeof(d->hdr) + (d->hdr.version >= 2 ? sizeof(d->names) : 0);
	for (uint32_t i = 0; i < d->hdr.ndev; i++) {
		struct snap_dev_rec *r = &d->rec[i];
		if (len - off < sizeof(*r))
			return err_set(e, ERR_INPUT, "snapshot device section is truncated");
		memcpy(r, d->buf + off, sizeof(*r));
		off += sizeof(*r);
		if (r->state_size > SNAP_DEV_STATE_MAX || r->state_size > len - off)
			return err_set(e, ERR_INPUT, "snapshot device %u has a bad state size", i);
		d->state[i] = d->buf + off;
		off += (r->state_size + 7u) & ~7u;
		if (off > len)
			off = len;
	}
	if (off != len)
		return err_set(e, ERR_INPUT, "snapshot device section has trailing bytes");
	return 0;
}

static int parse_disks(struct snap_devices *d, const void *buf, size_t len, uint64_t file_size,
                       struct err *e)
{
	struct snap_disks_hdr h;
	if (len < sizeof(h))
		return err_set(e, ERR_INPUT, "snapshot disk section is truncated");
	memcpy(&h, buf, sizeof(h));
	if (h.version != SNAP_DISKS_VERSION || h.ndisks != d->hdr.cfg.ndisks ||
	    len != sizeof(h) + (size_t)h.ndisks * sizeof(struct snap_disk_rec))
		return err_set(e, ERR_INPUT, "snapshot disk section does not match its devices");
	d->ndisks = h.ndisks;
	memcpy(d->disk, (const uint8_t *)buf + sizeof(h), h.ndisks * sizeof(struct snap_disk_rec));
	for (unsigned i = 0; i < d->ndisks; i++) {
		const struct snap_disk_rec *r = &d->disk[i];
		if (r->sub != i || (r->flags & ~SNAP_DISK_DATA))
			return err_set(e, ERR_INPUT, "snapshot disk record %u is corrupt", i);
		if ((r->flags & SNAP_DISK_DATA) && (r->data_off % 4096 || r->data_off > file_size ||
		                                    r->size > file_size - r->data_off))
			return err_set(e, ERR_INPUT, "snapshot disk %u data lies outside the file",
			               i);
	}
	return 0;
}

int snap_devices_parse(struct snap_devices *d, uint8_t *dev_buf, size_t dev_len,
                       const void *disk_buf, size_t disk_len, uint64_t file_size, struct err *e)
{
	memset(d, 0, sizeof(*d));
	d->buf = dev_buf;
	if (dev_len < sizeof(d->hdr))
		return err_set(e, ERR_INPUT, "snapshot device section is truncated");
	memcpy(&d->hdr, dev_buf, sizeof(d->hdr));
	if (d->hdr.version < 1 || d->hdr.version > SNAP_DEVICES_VERSION)
		return err_set(e, ERR_INPUT,
		               "snapshot device section version %u, this capsa reads 1 to %u",
		               d->hdr.version, SNAP_DEVICES_VERSION);
	if (d->hdr.config_size != sizeof(struct vm_virtio_config))
		return err_set(e, ERR_INPUT,
		               "snapshot device configuration layout differs from this capsa's");
	if (!check_config(&d->hdr.cfg))
		return err_set(e, ERR_INPUT, "snapshot device configuration is corrupt");
	if (d->hdr.ndev > VM_VIRTIO_MAX)
		return err_set(e, ERR_INPUT, "snapshot has %u devices, at most %d allowed",
		               d->hdr.ndev, VM_VIRTIO_MAX);
	if (d->hdr.version >= 2 && parse_names(d, dev_len, e))
		return -1;
	if (parse_records(d, dev_len, e))
		return -1;
	return parse_disks(d, disk_buf, disk_len, file_size, e);
}

void snap_devices_free(struct snap_devices *d)
{
	if (d)
		free(d->buf);
	free(d);
}
