/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-vsock internals shared by the packet side (vsock.c) and the host
 * socket side (vsock_host.c). Not a public interface. */
#ifndef CAPSA_DEVICES_VIRTIO_VSOCK_INT_H
#define CAPSA_DEVICES_VIRTIO_VSOCK_INT_H

#include "devices/virtio/vsock.h"

#include <stdint.h>

/* Packet header (virtio 1.2, 5.10.6), little-endian, 44 bytes. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));
_Static_assert(sizeof(struct vsock_hdr) == 44, "vsock header is 44 bytes");

#define VSOCK_HDR 44u

#define VSOCK_TYPE_STREAM 1

#define OP_REQUEST        1
#define OP_RESPONSE       2
#define OP_RST            3
#define OP_SHUTDOWN       4
#define OP_RW             5
#define OP_CREDIT_UPDATE  6
#define OP_CREDIT_REQUEST 7

#define SHUT_F_RCV  1 /* the sender will receive no more */
#define SHUT_F_SEND 2 /* the sender will send no more */

#define VSOCK_EVENT_TRANSPORT_RESET 0

#define Q_RX  0
#define Q_TX  1
#define Q_EVT 2

/* Control packets a connection owes the guest (bits of conn.pend). */
#define P_REQUEST   0x01
#define P_RESPONSE  0x02
#define P_SHUTDOWN  0x04
#define P_CREDIT    0x08 /* CREDIT_UPDATE */
#define P_CREDIT_RQ 0x10 /* CREDIT_REQUEST */

enum conn_state {
	C_FREE = 0,
	C_CMD, /* host connected, reading its "CONNECT <port>\n" */
	C_REQ, /* REQUEST sent to the guest, waiting for RESPONSE or RST */
	C_EST, /* connected both ways */
};

#define CMD_MAX 32

struct vsock_conn {
	int fd;
	uint8_t state, pend, shut_send; /* shut_send: SHUTDOWN flags owed to the guest */
	uint8_t guest_shut;             /* SHUTDOWN flags received from the guest */
	uint8_t readable, host_eof, hup, credit_asked, close_when_flushed;
	uint8_t cmdlen;
	char cmd[CMD_MAX];
	uint32_t local_port, peer_port;
	/* guest's receive side, from the headers it sends */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	/* our receive side: bytes handed to the host socket, and last told */
	uint32_t fwd_cnt, fwd_told;
	uint32_t ev_mask; /* epoll events registered */
	int registered;
	uint64_t deadline_ns; /* 0: none */
	uint8_t *buf;         /* guest data the host socket has not taken yet */
	uint32_t head, len;
};

#define RST_RING 2048

struct virtio_vsock {
	uint64_t cid;
	int listen_fd, ep;
	int wake_fd;            /* eventfd: a driver reset wants the I/O thread */
	int reset_pending;      /* connections to drop on the I/O thread */
	uint64_t accept_paused; /* out of descriptors: listener unwatched until then (ns) */
	char uds[VSOCK_UDS_MAX + 1];
	unsigned max_conns, nconns, hiwater, rr;
	uint32_t next_port;
	struct vsock_conn *conns; /* max_conns entries */
	struct {
		uint32_t local, peer;
	} rst[RST_RING];
	unsigned rst_head, rst_n;
	int event_pending;
	struct vsock_stats st;
	uint8_t bounce[VSOCK_MAX_PKT];
};

/* vsock_host.c */
uint64_t vsock_now_ns(void);
uint32_t vsock_credit(const struct vsock_conn *c);
void vsock_interest(struct virtio_vsock *v, struct vsock_conn *c);
void vsock_conn_free(struct virtio_vsock *v, struct vsock_conn *c);
void vsock_drop_all(struct virtio_vsock *v);
/* Queue an RST for (local, peer); hostile: only while the ring is half free. */
void vsock_rst_push(struct virtio_vsock *v, uint32_t local, uint32_t peer, int hostile);
/* RST a known connection and forget it. */
void vsock_conn_rst(struct virtio_vsock *v, struct vsock_conn *c);
void vsock_accept(struct virtio_vsock *v);
void vsock_host_event(struct virtio_vsock *v, struct vsock_conn *c, uint32_t events);
void vsock_timeouts(struct virtio_vsock *v, uint64_t now, int *timeout_ms);
/* Guest REQUEST to host port `port` from guest port `peer`. */
void vsock_guest_connect(struct virtio_vsock *v, const struct vsock_hdr *h);
/* Guest data for the host socket: written now or kept (bounded by our credit). */
int vsock_to_host(struct virtio_vsock *v, struct vsock_conn *c, const struct iovec *iov, unsigned n,
                  uint32_t len);
/* Flush kept data; afterwards finish SHUTDOWN/close. */
void vsock_flush(struct virtio_vsock *v, struct vsock_conn *c);
/* Guest SHUTDOWN flags applied to the host socket. */
void vsock_guest_shutdown(struct virtio_vsock *v, struct vsock_conn *c, uint32_t flags);
/* Guest accepted a host-initiated connection: answer "OK <port>\n". */
int vsock_host_ok(struct virtio_vsock *v, struct vsock_conn *c);
struct vsock_conn *vsock_find(struct virtio_vsock *v, uint32_t local, uint32_t peer);

#endif
