/* SPDX-License-Identifier: Apache-2.0 */
/* Host side of a virtio-net device: where the guest's frames go and where
 * the frames for the guest come from (a tap device, user-mode networking).
 * A backend runs on its device's I/O thread only; it never blocks and never
 * starts threads of its own. */
#ifndef CAPSA_NET_BACKEND_H
#define CAPSA_NET_BACKEND_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* The 12-byte virtio-net header (virtio 1.x, little-endian) that vnet_hdr
 * backends exchange in front of every frame, as a Linux tap with
 * IFF_VNET_HDR and TUNSETVNETHDRSZ 12 does. */
#define NET_HDR_LEN 12

/* virtio-net feature bits (virtio 1.x section 5.1.3). */
#define VIRTIO_NET_F_CSUM       0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_HOST_TSO4  11
#define VIRTIO_NET_F_HOST_TSO6  12
#define VIRTIO_NET_F_MRG_RXBUF  15
#define VIRTIO_NET_F_STATUS     16

/* Header flags and GSO types. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_TCPV6    4

struct virtio_net_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
};

struct net_backend;

struct net_backend_ops {
	/* One frame from the guest in iov[0..n) (header first for vnet_hdr
	 * backends): 0 sent, -1 dropped (the backend is full or refused it). */
	int (*send)(struct net_backend *b, const struct iovec *iov, int n);
	/* The next frame for the guest into buf (header first for vnet_hdr
	 * backends): its length, or 0 if there is none now. Frames longer than
	 * cap are dropped. */
	ssize_t (*recv)(struct net_backend *b, void *buf, size_t cap);
	/* Descriptors to wait on (at most max); may lower *timeout_ms (-1: none).
	 * want_rx: the device can take a frame now (else do not ask for POLLIN
	 * on a descriptor that only carries frames for the guest). */
	unsigned (*fds)(struct net_backend *b, struct pollfd *p, unsigned max, int *timeout_ms,
	                int want_rx);
	/* After every wakeup, with the revents of what fds() returned. */
	void (*event)(struct net_backend *b, const struct pollfd *p, unsigned n);
	/* Optional: offloads (TUN_F_* bits) the guest accepted for received frames. */
	int (*set_offload)(struct net_backend *b, unsigned tun_flags);
	void (*free)(struct net_backend *b);
};

struct net_backend {
	const struct net_backend_ops *ops;
	int vnet_hdr;      /* frames carry the 12-byte header */
	uint64_t features; /* virtio-net offload feature bits the backend handles */
	uint64_t dropped;  /* frames the backend dropped (full queue, refused) */
};

static inline void net_backend_free(struct net_backend *b)
{
	if (b)
		b->ops->free(b);
}

#endif
