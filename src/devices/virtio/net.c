/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/virtio/net.h"

#include "lib/iov.h"

#include <linux/if_tun.h>
#include <string.h>

#define ETH_HLEN      14
#define QUEUE_MAX     256
#define STATUS_LINKUP 1

static int negotiated(const struct virtio_net *n, unsigned bit)
{
	return n->t && (n->t->driver_features >> bit) & 1;
}

/* Does the header ask only for what the driver negotiated, inside the frame? */
static int hdr_ok(const struct virtio_net *n, const struct virtio_net_hdr *h, uint32_t frame)
{
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return 0;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!negotiated(n, VIRTIO_NET_F_CSUM) ||
		    (uint32_t)h->csum_start + h->csum_offset + 2 > frame)
			return 0;
	}
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return 1;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!negotiated(n, h->gso_type == VIRTIO_NET_HDR_GSO_TCPV4
		                       ? VIRTIO_NET_F_HOST_TSO4
		                       : VIRTIO_NET_F_HOST_TSO6))
			return 0;
		return (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && h->gso_size > 0;
	default:
		return 0; /* UDP fragmentation, ECN: never offered */
	}
}

static int tx_handle(void *dev, struct vq_chain *c)
{
	struct virtio_net *n = dev;
	if (c->nin)
		return -1; /* writable buffers on the transmit queue: a broken driver */
	uint32_t len = c->out_len;
	if (len < NET_HDR_LEN + ETH_HLEN || len > NET_MAX_PACKET) {
		n->stats.tx_bad++;
		return 0;
	}
	uint32_t frame = len - NET_HDR_LEN;
	if (rl_enabled(&n->tx_rl)) {
		uint64_t now = rl_now_ns(), wait;
		if (!rl_admit(&n->tx_rl, frame, now, &wait)) {
			n->t->retry_at[NET_TXQ] = now + wait; /* the transport looks again then */
			n->stats.tx_throttled++;
			return VIRTIO_HANDLER_AGAIN;
		}
	}
	/* one copy of the header: the guest may change it while we look */
	struct virtio_net_hdr h;
	vq_copy_from(c, 0, &h, NET_HDR_LEN);
	if (!hdr_ok(n, &h, frame)) {
		n->stats.tx_bad++;
		return 0;
	}
	int rc;
	if (n->be->vnet_hdr) {
		struct iovec iov[VQ_MAX_SIZE + 1];
		h.num_buffers = 0;
		iov[0] = (struct iovec){&h, NET_HDR_LEN};
		int k = iov_slice(c->iov, c->nout, NET_HDR_LEN, frame, iov + 1);
		rc = n->be->ops->send(n->be, iov, k + 1);
	} else {
		vq_copy_from(c, NET_HDR_LEN, n->txbuf, frame);
		struct iovec iov = {n->txbuf, frame};
		rc = n->be->ops->send(n->be, &iov, 1);
	}
	if (rc) {
		n->stats.tx_dropped++;
	} else {
		n->stats.tx_packets++;
		n->stats.tx_bytes += frame;
		n->poll_until = n->poll_ns ? rl_now_ns() + n->poll_ns : 0;
	}
	return 0;
}

/* Read the backend's next frame into pend (with a header); 1 if there is one. */
static int fill_pending(struct virtio_net *n)
{
	if (n->pend_len)
		return 1;
	ssize_t r;
	if (n->be->vnet_hdr) {
		r = n->be->ops->recv(n->be, n->pend, sizeof(n->pend));
		if (r > NET_HDR_LEN)
			n->pend_len = (size_t)r;
	} else {
		r = n->be->ops->recv(n->be, n->pend + NET_HDR_LEN, sizeof(n->pend) - NET_HDR_LEN);
		if (r > 0) {
			memset(n->pend, 0, NET_HDR_LEN);
			n->pend_len = (size_t)r + NET_HDR_LEN;
		}
	}
	return n->pend_len != 0;
}

/* A frame from the backend may only use offloads the driver accepted (a tap
 * may still hold frames made before a reset and a new negotiation). */
static int rx_hdr_ok(const struct virtio_net *n, const uint8_t *hdr)
{
	struct virtio_net_hdr h;
	memcpy(&h, hdr, sizeof(h));
	if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !negotiated(n, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	switch (h.gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return 1;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return negotiated(n, VIRTIO_NET_F_GUEST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return negotiated(n, VIRTIO_NET_F_GUEST_TSO6);
	default:
		return 0;
	}
}

static int rx_handle(void *dev, struct vq_chain *c)
{
	struct virtio_net *n = dev;
	if (c->nout || c->in_len < NET_HDR_LEN)
		return -1; /* receive buffers must be writable and hold a header */
	for (;;) {
		if (!fill_pending(n))
			return VIRTIO_HANDLER_AGAIN;
		if (n->pend_len > c->in_len || !rx_hdr_ok(n, n->pend)) {
			n->stats.rx_dropped++; /* does not fit this driver's buffers or offloads */
			n->pend_len = 0;
			continue;
		}
		uint64_t frame = n->pend_len - NET_HDR_LEN;
		if (rl_enabled(&n->rx_rl)) {
			uint64_t now = rl_now_ns(), wait;
			if (!rl_admit(&n->rx_rl, frame, now, &wait)) {
				n->rx_retry_at = now + wait;
				n->stats.rx_throttled++;
				return VIRTIO_HANDLER_AGAIN;
			}
		}
		uint16_t one = 1; /* num_buffers: one buffer without MRG_RXBUF */
		memcpy(n->pend + 10, &one, 2);
		vq_copy_to(c, 0, n->pend, n->pend_len);
		int w = (int)n->pend_len;
		n->pend_len = 0;
		n->stats.rx_packets++;
		n->stats.rx_bytes += frame;
		return w;
	}
}

/* MRG_RXBUF: how many receive chains, starting with the one popped (c), the
 * pending frame needs. Looks at the following chains and puts them back. 0:
 * not enough buffers yet (a kick is requested), -1: the frame can never fit,
 * -2: a malformed chain (the device needs a reset). */
static int mrg_plan(struct virtio_net *n, const struct vq_chain *c)
{
	struct vq *q = &n->t->q[NET_RXQ];
	for (;;) {
		uint64_t cap = c->in_len;
		unsigned nb = 1;
		int r = 1;
		while (cap < n->pend_len && nb < q->s.size) {
			r = vq_pop(q, &n->peek);
			if (r <= 0)
				break;
			if (n->peek.nout || n->peek.in_len < NET_HDR_LEN) {
				r = -1; /* the same check as for the first chain */
				vq_unpop(q);
				break;
			}
			cap += n->peek.in_len;
			nb++;
		}
		/* ask for a kick beyond what we have seen before putting it back */
		int more = cap < n->pend_len && r == 0 && vq_enable_kick(q);
		for (unsigned i = 1; i < nb; i++)
			vq_unpop(q);
		if (r < 0)
			return -2;
		if (cap >= n->pend_len)
			return (int)nb;
		if (nb >= q->s.size)
			return -1;
		if (!more)
			return 0;
	}
}

static int rx_handle_mrg(void *dev, struct vq_chain *c)
{
	struct virtio_net *n = dev;
	if (c->nout || c->in_len < NET_HDR_LEN)
		return -1; /* every buffer must be writable and hold a header */
	while (!n->mrg_left) {
		if (!fill_pending(n))
			return VIRTIO_HANDLER_AGAIN;
		int nb = rx_hdr_ok(n, n->pend) ? mrg_plan(n, c) : -1;
		if (nb == -2)
			return -1;
		if (nb < 0) {
			n->stats.rx_dropped++;
			n->pend_len = 0;
			continue;
		}
		if (nb == 0)
			return VIRTIO_HANDLER_AGAIN; /* the driver's kick brings us back */
		if (rl_enabled(&n->rx_rl)) {
			uint64_t now = rl_now_ns(), wait;
			if (!rl_admit(&n->rx_rl, n->pend_len - NET_HDR_LEN, now, &wait)) {
				n->rx_retry_at = now + wait;
				n->stats.rx_throttled++;
				return VIRTIO_HANDLER_AGAIN;
			}
		}
		uint16_t v = (uint16_t)nb;
		memcpy(n->pend + 10, &v, 2);
		n->mrg_left = (unsigned)nb;
		n->mrg_off = 0;
	}
	/* the guest may have changed its chains since the plan: copy what fits */
	size_t k = n->pend_len - n->mrg_off;
	if (k > c->in_len)
		k = c->in_len;
	vq_copy_to(c, 0, n->pend + n->mrg_off, k);
	n->mrg_off += k;
	if (--n->mrg_left == 0 || n->mrg_off == n->pend_len) {
		n->stats.rx_packets++;
		n->stats.rx_bytes += n->pend_len - NET_HDR_LEN;
		n->pend_len = 0;
		n->mrg_left = 0;
	}
	return (int)k;
}

/* Backend offloads follow what the driver accepted (tap: TUNSETOFFLOAD). */
static void apply_offloads(struct virtio_net *n)
{
	if (!n->be->ops->set_offload)
		return;
	struct virtio_mmio *t = n->t;
	uint64_t f = (t->status & VIRTIO_STATUS_FEATURES_OK) ? t->driver_features : 0;
	if (n->offload_set && f == n->offload_feat)
		return;
	unsigned fl = 0;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_CSUM)) {
		fl |= TUN_F_CSUM;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
			fl |= TUN_F_TSO4;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
			fl |= TUN_F_TSO6;
	}
	n->be->ops->set_offload(n->be, fl);
	n->offload_feat = f;
	n->offload_set = 1;
}

static void rx_run(struct virtio_net *n)
{
	struct virtio_mmio *t = n->t;
	if (!t->q[NET_RXQ].s.ready)
		return;
	if (n->rx_retry_at) {
		if (rl_now_ns() < n->rx_retry_at)
			return;
		n->rx_retry_at = 0;
	}
	virtio_queue_run(t, NET_RXQ,
	                 negotiated(n, VIRTIO_NET_F_MRG_RXBUF) ? rx_handle_mrg : rx_handle, n);
	/* no buffer from the driver: hold one frame (the kick brings us back) so
	 * that a readable backend does not wake us again and again */
	if (virtio_mmio_running(t))
		fill_pending(n);
}

static void process(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct virtio_net *n = dev;
	n->t = t;
	apply_offloads(n);
	if (q == NET_TXQ)
		virtio_queue_run(t, NET_TXQ, tx_handle, n);
	/* a transmitted frame may have an immediate answer (slirp's ARP) */
	if (virtio_mmio_running(t))
		rx_run(n);
}

static unsigned backend_fds(void *dev, struct pollfd *p, unsigned max, int *timeout_ms)
{
	struct virtio_net *n = dev;
	int want_rx = n->t && virtio_mmio_running(n->t) && !n->pend_len && !n->rx_retry_at;
	unsigned k = n->be->ops->fds(n->be, p, max, timeout_ms, want_rx);
	if (n->rx_retry_at) {
		uint64_t now = rl_now_ns();
		int ms =
		    n->rx_retry_at <= now ? 0 : (int)((n->rx_retry_at - now + 999999) / 1000000);
		if (*timeout_ms < 0 || ms < *timeout_ms)
			*timeout_ms = ms;
	}
	/* an answer to a frame just sent usually comes within microseconds:
	 * look for it without sleeping for a while (poll_us) */
	if (n->poll_until && rl_now_ns() < n->poll_until)
		*timeout_ms = 0;
	else
		n->poll_until = 0;
	return k;
}

static void backend_event(void *dev, struct virtio_mmio *t, const struct pollfd *p, unsigned k)
{
	struct virtio_net *n = dev;
	n->t = t;
	n->be->ops->event(n->be, p, k);
	if (virtio_mmio_running(t)) {
		apply_offloads(n);
		rx_run(n);
	}
}

static void config_read(void *dev, uint32_t off, uint8_t *data, unsigned size)
{
	struct virtio_net *n = dev;
	uint8_t cfg[8];
	memcpy(cfg, n->mac, 6);
	cfg[6] = STATUS_LINKUP;
	cfg[7] = 0;
	if (off < sizeof(cfg) && size <= sizeof(cfg) - off)
		memcpy(data, cfg + off, size);
}

static void reset(void *dev)
{
	struct virtio_net *n = dev;
	n->pend_len = 0;
	n->mrg_left = 0;
	n->rx_retry_at = 0;
	n->offload_set = 0; /* back to no offloads at the next look */
}

void virtio_net_set_limits(struct virtio_net *n, const struct virtio_net_limits *lim)
{
	uint64_t now = rl_now_ns();
	tb_init(&n->rx_rl.bytes, lim->rx_bps, lim->rx_bps_burst, now);
	tb_init(&n->rx_rl.ops, lim->rx_ops, lim->rx_ops_burst, now);
	tb_init(&n->tx_rl.bytes, lim->tx_bps, lim->tx_bps_burst, now);
	tb_init(&n->tx_rl.ops, lim->tx_ops, lim->tx_ops_burst, now);
}

void virtio_net_init(struct virtio_net *n, struct net_backend *be, const uint8_t mac[6],
                     const struct virtio_net_limits *lim)
{
	memset(n, 0, offsetof(struct virtio_net, pend));
	n->be = be;
	memcpy(n->mac, mac, 6);
	struct virtio_net_limits none = {0};
	virtio_net_set_limits(n, lim ? lim : &none);
	n->ops = (struct virtio_device_ops){
	    .name = "net",
	    .device_id = VIRTIO_ID_NET,
	    .nqueues = 2,
	    .queue_max = QUEUE_MAX,
	    .features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
	                (1ULL << VIRTIO_NET_F_MRG_RXBUF) | be->features,
	    .config_read = config_read,
	    .process = process,
	    .reset = reset,
	    .backend_fds = backend_fds,
	    .backend_event = backend_event,
	};
}

void virtio_net_save(struct virtio_net *n, struct virtio_net_state *st)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->mac, n->mac, 6);
	st->stats = n->stats;
}

int virtio_net_restore(struct virtio_net *n, const struct virtio_net_state *st, struct err *e)
{
	if (st->mac[0] & 1)
		return err_set(e, ERR_INPUT, "virtio net: saved MAC address is not unicast");
	memcpy(n->mac, st->mac, 6);
	n->stats = st->stats;
	n->pend_len = 0;
	n->mrg_left = 0;
	n->rx_retry_at = 0;
	n->offload_set = 0;
	return 0;
}
