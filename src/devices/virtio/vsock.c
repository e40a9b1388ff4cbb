/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-vsock device model: the receive, transmit and event queues, the
 * packet state machine and credit accounting. Every header field the guest
 * writes is checked; host sockets are in vsock_host.c. */
#include "devices/virtio/vsock_int.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void fill_hdr(const struct virtio_vsock *v, struct vsock_hdr *h, uint32_t local,
                     uint32_t peer, uint16_t op)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = VSOCK_HOST_CID;
	h->dst_cid = v->cid;
	h->src_port = local;
	h->dst_port = peer;
	h->type = VSOCK_TYPE_STREAM;
	h->op = op;
	h->buf_alloc = VSOCK_BUF_ALLOC;
}

static int put_hdr(struct virtio_vsock *v, struct vq_chain *ch, struct vsock_hdr *h,
                   struct vsock_conn *c)
{
	if (c) {
		h->fwd_cnt = c->fwd_cnt;
		c->fwd_told = c->fwd_cnt;
	}
	if (h->op == OP_RST)
		v->st.rsts++;
	v->st.rx_pkts++;
	vq_copy_to(ch, 0, h, sizeof(*h));
	return (int)(VSOCK_HDR + h->len);
}

/* A control packet the connection owes, or 0. */
static uint16_t next_ctrl(struct vsock_conn *c, uint32_t *flags)
{
	static const struct {
		uint8_t bit;
		uint16_t op;
	} order[] = {{P_REQUEST, OP_REQUEST},
	             {P_RESPONSE, OP_RESPONSE},
	             {P_CREDIT, OP_CREDIT_UPDATE},
	             {P_CREDIT_RQ, OP_CREDIT_REQUEST},
	             {P_SHUTDOWN, OP_SHUTDOWN}};
	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(c->pend & order[i].bit))
			continue;
		c->pend &= (uint8_t)~order[i].bit;
		*flags = order[i].op == OP_SHUTDOWN ? c->shut_send : 0;
		return order[i].op;
	}
	return 0;
}

/* Host socket data into the chain, within the guest's credit. 1 if a packet
 * was written (*w set), 0 if this connection has nothing now. */
static int data_packet(struct virtio_vsock *v, struct vsock_conn *c, struct vq_chain *ch, int *w)
{
	if (c->state != C_EST || !c->readable || c->host_eof || (c->guest_shut & SHUT_F_RCV))
		return 0;
	uint32_t credit = vsock_credit(c);
	if (!credit) {
		if (c->credit_asked)
			return 0;
		c->credit_asked = 1;
		struct vsock_hdr h;
		fill_hdr(v, &h, c->local_port, c->peer_port, OP_CREDIT_REQUEST);
		*w = put_hdr(v, ch, &h, c);
		return 1;
	}
	uint32_t room = ch->in_len - VSOCK_HDR;
	uint32_t n = credit < room ? credit : room;
	if (n > VSOCK_MAX_PKT)
		n = VSOCK_MAX_PKT;
	struct vsock_hdr h;
	if (n == 0)
		return 0;
	ssize_t r = recv(c->fd, v->bounce, n, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
		c->readable = 0;
		vsock_interest(v, c);
		return 0;
	}
	if (r < 0) {
		fill_hdr(v, &h, c->local_port, c->peer_port, OP_RST);
		vsock_conn_free(v, c);
		*w = put_hdr(v, ch, &h, NULL);
		return 1;
	}
	if (r == 0) {
		/* the host program will send no more (and receive no more if it hung up) */
		c->host_eof = 1;
		fill_hdr(v, &h, c->local_port, c->peer_port, OP_SHUTDOWN);
		h.flags = SHUT_F_SEND | (c->hup ? SHUT_F_RCV : 0);
		vsock_interest(v, c);
		*w = put_hdr(v, ch, &h, c);
		return 1;
	}
	fill_hdr(v, &h, c->local_port, c->peer_port, OP_RW);
	h.len = (uint32_t)r;
	vq_copy_to(ch, VSOCK_HDR, v->bounce, (size_t)r);
	c->tx_cnt += (uint32_t)r;
	v->st.rx_bytes += (uint64_t)r;
	*w = put_hdr(v, ch, &h, c);
	return 1;
}

/* Receive queue handler: one packet per chain, or leave the chain queued. */
static int rx_fill(void *dev, struct vq_chain *ch)
{
	struct virtio_vsock *v = dev;
	if (ch->in_len < VSOCK_HDR || ch->nout)
		return -1; /* a receive buffer must be writable and hold a header */
	struct vsock_hdr h;
	if (v->rst_n) {
		fill_hdr(v, &h, v->rst[v->rst_head].local, v->rst[v->rst_head].peer, OP_RST);
		v->rst_head = (v->rst_head + 1) % RST_RING;
		v->rst_n--;
		return put_hdr(v, ch, &h, NULL);
	}
	unsigned n = v->hiwater;
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (v->rr + k) % n;
		struct vsock_conn *c = &v->conns[i];
		if (c->state == C_FREE || c->state == C_CMD)
			continue;
		uint32_t flags = 0;
		uint16_t op = next_ctrl(c, &flags);
		int w;
		if (op) {
			fill_hdr(v, &h, c->local_port, c->peer_port, op);
			h.flags = flags;
			v->rr = i + 1;
			return put_hdr(v, ch, &h, c);
		}
		if (data_packet(v, c, ch, &w)) {
			v->rr = i + 1;
			return w;
		}
	}
	return VIRTIO_HANDLER_AGAIN;
}

static void reply_rst(struct virtio_vsock *v, const struct vsock_hdr *h)
{
	if (h->op != OP_RST)
		vsock_rst_push(v, h->dst_port, h->src_port, 1);
}

static void on_packet(struct virtio_vsock *v, const struct vsock_hdr *h, struct vq_chain *ch)
{
	struct vsock_conn *c = vsock_find(v, h->dst_port, h->src_port);
	if (!c) {
		if (h->op == OP_REQUEST)
			vsock_guest_connect(v, h);
		else
			reply_rst(v, h); /* nothing known by that address */
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	if (vsock_credit(c))
		c->credit_asked = 0;
	switch (h->op) {
	case OP_RESPONSE:
		if (c->state != C_REQ || vsock_host_ok(v, c))
			vsock_conn_rst(v, c);
		return;
	case OP_RST:
		vsock_conn_free(v, c); /* refused or reset by the guest: the host sees EOF */
		return;
	case OP_SHUTDOWN:
		if (c->state != C_EST)
			break;
		vsock_guest_shutdown(v, c, h->flags);
		return;
	case OP_RW: {
		if (c->state != C_EST || (c->guest_shut & SHUT_F_SEND))
			break;
		struct iovec iov[VQ_MAX_SIZE];
		unsigned n = 0;
		size_t skip = VSOCK_HDR;
		for (unsigned i = 0; i < ch->nout; i++) {
			size_t l = ch->iov[i].iov_len;
			if (skip >= l) {
				skip -= l;
				continue;
			}
			iov[n++] = (struct iovec){(uint8_t *)ch->iov[i].iov_base + skip, l - skip};
			skip = 0;
		}
		if (vsock_to_host(v, c, iov, n, h->len))
			break;
		v->st.tx_bytes += h->len;
		return;
	}
	case OP_CREDIT_UPDATE:
		if (c->state != C_EST)
			break;
		vsock_interest(v, c); /* more credit may let us read the host socket again */
		return;
	case OP_CREDIT_REQUEST:
		if (c->state != C_EST)
			break;
		c->pend |= P_CREDIT;
		return;
	default: /* REQUEST on a live connection, unknown ops */
		break;
	}
	vsock_conn_rst(v, c);
}

/* Transmit queue handler: chains are only read; nothing is written back. */
static int tx_handle(void *dev, struct vq_chain *ch)
{
	struct virtio_vsock *v = dev;
	if (ch->out_len < VSOCK_HDR)
		return -1; /* not even a header: the driver is broken */
	struct vsock_hdr h;
	vq_copy_from(ch, 0, &h, sizeof(h));
	v->st.tx_pkts++;
	if (h.src_cid != v->cid) {
		v->st.dropped++; /* spoofed source: ignored */
		return 0;
	}
	if (h.len != ch->out_len - VSOCK_HDR) {
		/* the header disagrees with the chain: drop it, and the connection
		 * it names, whose stream is now broken */
		v->st.dropped++;
		struct vsock_conn *c = vsock_find(v, h.dst_port, h.src_port);
		if (c)
			vsock_conn_rst(v, c);
		return 0;
	}
	if (h.type != VSOCK_TYPE_STREAM) {
		reply_rst(v, &h); /* only streams */
		return 0;
	}
	if (h.dst_cid != VSOCK_HOST_CID) {
		v->st.dropped++; /* only the host is reachable (as Firecracker: dropped) */
		return 0;
	}
	on_packet(v, &h, ch);
	return 0;
}

static int event_fill(void *dev, struct vq_chain *ch)
{
	struct virtio_vsock *v = dev;
	if (!v->event_pending)
		return VIRTIO_HANDLER_AGAIN;
	if (ch->in_len < 4 || ch->nout)
		return -1;
	uint32_t id = VSOCK_EVENT_TRANSPORT_RESET;
	vq_copy_to(ch, 0, &id, 4);
	v->event_pending = 0;
	return 4;
}

/* A driver reset runs on a vCPU thread, which may not close descriptors
 * (seccomp): the connections are dropped here, on the I/O thread. */
static void apply_reset(struct virtio_vsock *v)
{
	if (!v->reset_pending)
		return;
	v->reset_pending = 0;
	vsock_drop_all(v);
}

static void process(void *dev, struct virtio_mmio *t, unsigned q)
{
	apply_reset(dev);
	if (q == Q_TX)
		virtio_queue_run(t, Q_TX, tx_handle, dev);
	if (q == Q_EVT)
		virtio_queue_run(t, Q_EVT, event_fill, dev);
	else if (virtio_mmio_running(t))
		virtio_queue_run(t, Q_RX, rx_fill, dev); /* replies, or new receive buffers */
}

static unsigned backend_fds(void *dev, struct pollfd *p, unsigned max, int *timeout_ms)
{
	struct virtio_vsock *v = dev;
	if (max < 3)
		return 0;
	uint64_t now = vsock_now_ns();
	if (v->accept_paused && v->accept_paused <= now)
		v->accept_paused = 0;
	if (v->accept_paused) {
		int ms = (int)((v->accept_paused - now + 999999) / 1000000);
		if (*timeout_ms < 0 || ms < *timeout_ms)
			*timeout_ms = ms;
	}
	p[0] = (struct pollfd){v->accept_paused ? -1 : v->listen_fd, POLLIN, 0};
	p[1] = (struct pollfd){v->ep, POLLIN, 0};
	p[2] = (struct pollfd){v->wake_fd, POLLIN, 0};
	vsock_timeouts(v, now, timeout_ms);
	return 3;
}

static void backend_event(void *dev, struct virtio_mmio *t, const struct pollfd *p, unsigned n)
{
	struct virtio_vsock *v = dev;
	if (n >= 3 && p[2].revents) {
		uint64_t x;
		ssize_t r = read(v->wake_fd, &x, sizeof(x));
		(void)r;
	}
	apply_reset(v);
	if (n >= 1 && p[0].revents)
		vsock_accept(v);
	if (n >= 2 && p[1].revents) {
		struct epoll_event ev[64];
		int k = epoll_wait(v->ep, ev, 64, 0);
		for (int i = 0; i < k; i++) {
			uint32_t idx = ev[i].data.u32;
			/* an earlier event of this batch may have closed the connection */
			if (idx < v->max_conns && v->conns[idx].state != C_FREE)
				vsock_host_event(v, &v->conns[idx], ev[i].events);
		}
	}
	vsock_timeouts(v, vsock_now_ns(), NULL);
	if (!virtio_mmio_running(t))
		return;
	if (v->event_pending)
		virtio_queue_run(t, Q_EVT, event_fill, v);
	virtio_queue_run(t, Q_RX, rx_fill, v);
}

static void config_read(void *dev, uint32_t off, uint8_t *data, unsigned size)
{
	struct virtio_vsock *v = dev;
	uint64_t cid = v->cid; /* guest_cid, le64; the upper half reads as 0 */
	if (off < 8 && size <= 8 - off)
		memcpy(data, (uint8_t *)&cid + off, size);
}

static void reset(void *dev)
{
	struct virtio_vsock *v = dev;
	/* no system calls but write(2) here: see apply_reset() */
	v->reset_pending = 1;
	v->rst_n = v->rst_head = 0;
	v->event_pending = 0;
	uint64_t one = 1;
	ssize_t w = write(v->wake_fd, &one, sizeof(one));
	(void)w;
}

const struct virtio_device_ops virtio_vsock_ops = {
    .name = "vsock",
    .device_id = VIRTIO_ID_VSOCK,
    .nqueues = 3,
    .queue_max = 256,
    .features = 0, /* streams only: no SEQPACKET */
    .config_read = config_read,
    .process = process,
    .reset = reset,
    .backend_fds = backend_fds,
    .backend_event = backend_event,
};

void virtio_vsock_stats(const struct virtio_vsock *v, struct vsock_stats *s)
{
	*s = v->st;
	s->conns = v->nconns;
}

void virtio_vsock_save(const struct virtio_vsock *v, struct virtio_vsock_state *st)
{
	memset(st, 0, sizeof(*st));
	st->guest_cid = v->cid;
	st->next_port = v->next_port;
	st->conns = v->nconns;
}

int virtio_vsock_restore(struct virtio_vsock *v, struct virtio_mmio *t,
                         const struct virtio_vsock_state *st, struct err *e)
{
	if (vsock_check_cid(st->guest_cid, e))
		return err_prefix(e, "vsock snapshot");
	/* The guest keeps the CID configured here; it re-reads it after the
	 * reset event. Host connections cannot follow the guest to a new host. */
	vsock_drop_all(v);
	v->next_port = st->next_port >= VSOCK_HOST_PORT_MIN && st->next_port < VSOCK_HOST_PORT_END
	                   ? st->next_port
	                   : VSOCK_HOST_PORT_MIN;
	v->event_pending = 1;
	if (t && t->kick_fd[Q_EVT] >= 0) {
		uint64_t one = 1;
		ssize_t w = write(t->kick_fd[Q_EVT], &one, sizeof(one)); /* wake the I/O thread */
		(void)w;
	}
	return 0;
}
