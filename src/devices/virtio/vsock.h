/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-vsock (device ID 19) with a Unix-socket host side.
 *
 * Host programs reach guest port P by connecting to the listening socket and
 * sending "CONNECT P\n"; once the guest accepts, the device answers
 * "OK <host port>\n" and the stream is spliced. A guest connection to the host
 * (CID 2) port P becomes a connection to the Unix socket "<uds>_P". Stream
 * sockets only, with credit-based flow control both ways; every connection's
 * host socket is served on the transport's I/O thread through one epoll
 * descriptor (backend_fds/backend_event). */
#ifndef CAPSA_DEVICES_VIRTIO_VSOCK_H
#define CAPSA_DEVICES_VIRTIO_VSOCK_H

#include "devices/virtio/mmio.h"
#include "lib/err.h"

#include <stdint.h>

#define VSOCK_HOST_CID      2
#define VSOCK_MAX_CONNS     1024         /* default connection limit */
#define VSOCK_BUF_ALLOC     (256u << 10) /* receive buffer advertised to the guest, per connection */
#define VSOCK_MAX_PKT       (64u << 10)  /* largest payload put in one receive buffer */
#define VSOCK_TIMEOUT_MS    2000         /* CONNECT line, guest answer to a REQUEST, final flush */
#define VSOCK_HOST_PORT_MIN (1u << 30)   /* host ports of host-initiated connections: */
#define VSOCK_HOST_PORT_END (1u << 31)   /* [MIN, END), round robin */
#define VSOCK_UDS_MAX       96           /* path length that leaves room for "_<port>" */

struct virtio_vsock;

struct vsock_stats {
	uint64_t tx_pkts, rx_pkts;   /* packets from / to the guest */
	uint64_t dropped;            /* guest packets ignored (bad CID, bad length) */
	uint64_t rsts;               /* RST packets sent */
	uint64_t refused;            /* connections refused for the limit */
	uint64_t tx_bytes, rx_bytes; /* stream bytes guest->host, host->guest */
	unsigned conns;              /* live connections */
};

/* Everything a snapshot keeps: live connections do not survive a restore. */
struct virtio_vsock_state {
	uint64_t guest_cid;
	uint32_t next_port;
	uint32_t conns; /* connections live at save time (dropped on restore) */
};

extern const struct virtio_device_ops virtio_vsock_ops;

/* Validate a guest CID: 3 <= cid < 2^32-1. */
int vsock_check_cid(uint64_t cid, struct err *e);
/* Create the listening socket at uds (which must not exist) and the device. */
struct virtio_vsock *virtio_vsock_new(uint64_t cid, const char *uds, unsigned max_conns,
                                      struct err *e);
/* Close every socket and remove the listening socket's path. */
void virtio_vsock_free(struct virtio_vsock *v);
void virtio_vsock_stats(const struct virtio_vsock *v, struct vsock_stats *s);

/* With the I/O thread stopped or under t->qlock. Restore drops every host
 * connection and queues a TRANSPORT_RESET event for the guest. */
void virtio_vsock_save(const struct virtio_vsock *v, struct virtio_vsock_state *st);
int virtio_vsock_restore(struct virtio_vsock *v, struct virtio_mmio *t,
                         const struct virtio_vsock_state *st, struct err *e);

#endif
