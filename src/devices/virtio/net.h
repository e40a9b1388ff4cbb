/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net device model (one receive and one transmit queue) over a
 * struct net_backend (tap, user-mode networking). Every frame the guest
 * sends is checked: a chain shorter than the header plus an Ethernet header,
 * longer than NET_MAX_PACKET or with a header that asks for an offload the
 * driver did not negotiate is dropped and counted; a chain with buffers of
 * the wrong direction makes the device NEEDS_RESET. */
#ifndef CAPSA_DEVICES_VIRTIO_NET_H
#define CAPSA_DEVICES_VIRTIO_NET_H

#include "devices/virtio/mmio.h"
#include "net/backend.h"

#define NET_MAX_PACKET 65550 /* largest transmitted chain, header included */
#define NET_RX_BUF     (NET_HDR_LEN + 65550)
#define NET_RXQ        0
#define NET_TXQ        1

struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped; /* to the guest */
	uint64_t tx_packets, tx_bytes, tx_dropped; /* from the guest; dropped by the backend */
	uint64_t tx_bad;                           /* malformed frames from the guest */
	uint64_t rx_throttled, tx_throttled;       /* rate limiter said "later" */
};

/* Token buckets per direction (bytes of frames and frames per second). */
struct virtio_net_limits {
	uint64_t rx_bps, rx_bps_burst, rx_ops, rx_ops_burst;
	uint64_t tx_bps, tx_bps_burst, tx_ops, tx_ops_burst;
};

struct virtio_net {
	struct virtio_device_ops ops; /* per device: the features depend on the backend */
	struct net_backend *be;       /* owned by the caller */
	struct virtio_mmio *t;        /* set on the I/O thread's first call */
	uint8_t mac[6];
	struct rate_limiter rx_rl, tx_rl;
	uint64_t rx_retry_at;  /* receive throttled until then (CLOCK_MONOTONIC ns) */
	uint64_t offload_feat; /* driver features the backend's offloads follow */
	int offload_set;
	uint64_t poll_ns; /* after sending, look for answers without sleeping this long */
	uint64_t poll_until;
	struct virtio_net_stats stats;
	size_t pend_len;      /* a frame read from the backend, not yet delivered */
	unsigned mrg_left;    /* MRG_RXBUF: chains still to fill with it */
	size_t mrg_off;       /* and how much of it is delivered */
	struct vq_chain peek; /* MRG_RXBUF: the chains after the current one */
	uint8_t pend[NET_RX_BUF];
	uint8_t txbuf[NET_MAX_PACKET];
};

/* Snapshot state (the frame waiting for the guest, if any, is not kept).
 * Save and restore with the transport's qlock held or its I/O thread stopped. */
struct virtio_net_state {
	uint8_t mac[6];
	uint8_t pad[2];
	struct virtio_net_stats stats;
};

void virtio_net_init(struct virtio_net *n, struct net_backend *be, const uint8_t mac[6],
                     const struct virtio_net_limits *lim);
/* Replace the token buckets (0: no limit), full from now; while the
 * device is stopped or with its transport's qlock held. */
void virtio_net_set_limits(struct virtio_net *n, const struct virtio_net_limits *lim);
void virtio_net_save(struct virtio_net *n, struct virtio_net_state *st);
int virtio_net_restore(struct virtio_net *n, const struct virtio_net_state *st, struct err *e);

#endif
