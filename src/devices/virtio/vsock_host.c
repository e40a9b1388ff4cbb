/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-vsock host side: the listening Unix socket, the "CONNECT <port>\n"
 * handshake, connections to "<uds>_<port>", and the host sockets' readiness
 * through one epoll descriptor the transport's I/O thread waits on. */
#include "devices/virtio/vsock_int.h"

#include "lib/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

uint64_t vsock_now_ns(void)
{
	return clock_mono_ns();
}

uint32_t vsock_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* Which host-socket events the connection needs now. Level-triggered, so a
 * socket we cannot serve (no guest credit, no data to write) is not watched. */
static uint32_t wanted(const struct vsock_conn *c)
{
	if (c->hup)
		return 0;
	if (c->state == C_CMD)
		return EPOLLIN;
	if (c->state != C_EST)
		return 0;
	uint32_t m = 0;
	if (!c->readable && !c->host_eof && !(c->guest_shut & SHUT_F_RCV) && vsock_credit(c))
		m |= EPOLLIN;
	if (c->len)
		m |= EPOLLOUT;
	return m;
}

void vsock_interest(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (c->state == C_FREE || c->fd < 0)
		return;
	uint32_t m = wanted(c);
	if (c->hup) {
		if (c->registered)
			epoll_ctl(v->ep, EPOLL_CTL_DEL, c->fd, NULL);
		c->registered = 0;
		return;
	}
	if (c->registered && m == c->ev_mask)
		return;
	struct epoll_event ev = {.events = m, .data.u32 = (uint32_t)(c - v->conns)};
	if (epoll_ctl(v->ep, c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) == 0) {
		c->registered = 1;
		c->ev_mask = m;
	}
}

static struct vsock_conn *conn_new(struct virtio_vsock *v, int fd, enum conn_state st)
{
	if (v->nconns >= v->max_conns)
		return NULL;
	for (unsigned i = 0; i < v->max_conns; i++) {
		struct vsock_conn *c = &v->conns[i];
		if (c->state != C_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->state = (uint8_t)st;
		v->nconns++;
		if (i + 1 > v->hiwater)
			v->hiwater = i + 1;
		vsock_interest(v, c);
		return c;
	}
	return NULL;
}

void vsock_conn_free(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (c->state == C_FREE)
		return;
	int fd = c->fd;
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	v->nconns--;
	v->accept_paused = 0;
	while (v->hiwater && v->conns[v->hiwater - 1].state == C_FREE)
		v->hiwater--;
	/* last: once the host program sees the close, the bookkeeping is done */
	if (fd >= 0)
		close(fd); /* also leaves the epoll set */
}

void vsock_drop_all(struct virtio_vsock *v)
{
	for (unsigned i = 0; i < v->hiwater; i++)
		vsock_conn_free(v, &v->conns[i]);
	v->rst_n = v->rst_head = 0;
}

void vsock_rst_push(struct virtio_vsock *v, uint32_t local, uint32_t peer, int hostile)
{
	unsigned room = hostile ? RST_RING / 2 : RST_RING;
	if (v->rst_n >= room) {
		v->st.dropped++;
		return;
	}
	unsigned i = (v->rst_head + v->rst_n++) % RST_RING;
	v->rst[i].local = local;
	v->rst[i].peer = peer;
}

void vsock_conn_rst(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (c->state == C_REQ || c->state == C_EST)
		vsock_rst_push(v, c->local_port, c->peer_port, 0);
	vsock_conn_free(v, c);
}

struct vsock_conn *vsock_find(struct virtio_vsock *v, uint32_t local, uint32_t peer)
{
	for (unsigned i = 0; i < v->hiwater; i++) {
		struct vsock_conn *c = &v->conns[i];
		if ((c->state == C_REQ || c->state == C_EST) && c->local_port == local &&
		    c->peer_port == peer)
			return c;
	}
	return NULL;
}

static uint32_t alloc_port(struct virtio_vsock *v)
{
	for (;;) {
		uint32_t p = v->next_port++;
		if (v->next_port < VSOCK_HOST_PORT_MIN || v->next_port >= VSOCK_HOST_PORT_END)
			v->next_port = VSOCK_HOST_PORT_MIN;
		int used = 0;
		for (unsigned i = 0; i < v->hiwater && !used; i++)
			used = v->conns[i].state >= C_REQ && v->conns[i].local_port == p;
		if (!used)
			return p;
	}
}

void vsock_accept(struct virtio_vsock *v)
{
	for (int k = 0; k < 64; k++) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* out of descriptors or memory: the pending connection stays in
			 * the backlog and would wake us forever; wait for a close, or
			 * 100 ms */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				v->accept_paused = vsock_now_ns() + 100000000ULL;
			return;
		}
		struct vsock_conn *c = conn_new(v, fd, C_CMD);
		if (!c) {
			/* over the limit: the host program sees EOF instead of "OK" */
			v->st.refused++;
			close(fd);
			continue;
		}
		c->deadline_ns = vsock_now_ns() + VSOCK_TIMEOUT_MS * 1000000ULL;
	}
}

/* "CONNECT <port>\n", port a decimal number below 2^32. */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* "CONNECT <port>\n" as Firecracker reads it: the keyword in any case, words
 * separated by white space, a decimal port below 2^32, anything after the port
 * word ignored. */
static int parse_connect(const char *s, uint32_t *port)
{
	while (is_space(*s))
		s++;
	if (strncasecmp(s, "connect", 7) || !is_space(s[7]))
		return -1;
	s += 7;
	while (is_space(*s))
		s++;
	uint64_t p = 0;
	int digits = 0;
	while (*s >= '0' && *s <= '9' && digits < 11) {
		p = p * 10 + (uint64_t)(*s++ - '0');
		digits++;
	}
	if (!digits || p > UINT32_MAX || !is_space(*s))
		return -1;
	*port = (uint32_t)p;
	return 0;
}

/* Read the command a byte at a time: what follows the newline is stream data
 * for the guest and stays in the socket. */
static void read_command(struct virtio_vsock *v, struct vsock_conn *c)
{
	while (c->cmdlen < CMD_MAX - 1) {
		char ch;
		ssize_t r = recv(c->fd, &ch, 1, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0)
			break;
		c->cmd[c->cmdlen++] = ch;
		c->cmd[c->cmdlen] = '\0';
		if (ch != '\n')
			continue;
		uint32_t port;
		if (parse_connect(c->cmd, &port))
			break;
		c->peer_port = port;
		c->local_port = alloc_port(v);
		c->state = C_REQ;
		c->pend = P_REQUEST;
		c->deadline_ns = vsock_now_ns() + VSOCK_TIMEOUT_MS * 1000000ULL;
		vsock_interest(v, c);
		return;
	}
	vsock_conn_free(v, c); /* bad or overlong command, or EOF: close, no answer */
}

void vsock_host_event(struct virtio_vsock *v, struct vsock_conn *c, uint32_t events)
{
	if (c->state == C_CMD) {
		read_command(v, c);
		return;
	}
	if (events & EPOLLERR) {
		vsock_conn_rst(v, c);
		return;
	}
	if (c->state == C_REQ) {
		if (events & EPOLLHUP)
			vsock_conn_rst(v, c); /* the host program left before the guest answered */
		return;
	}
	if (events & EPOLLHUP) {
		/* both directions closed; what is still buffered is read first */
		c->hup = 1;
		c->readable = 1;
	}
	if (events & EPOLLIN)
		c->readable = 1;
	/* after a hang-up, held data cannot go anywhere: the flush fails and resets */
	if ((events & (EPOLLOUT | EPOLLHUP)) && c->len)
		vsock_flush(v, c);
	if (c->state != C_FREE)
		vsock_interest(v, c);
}

void vsock_timeouts(struct virtio_vsock *v, uint64_t now, int *timeout_ms)
{
	for (unsigned i = 0; i < v->hiwater; i++) {
		struct vsock_conn *c = &v->conns[i];
		if (c->state == C_FREE || !c->deadline_ns)
			continue;
		if (c->deadline_ns <= now) {
			vsock_conn_rst(v, c); /* no command, no answer, or no flush in time */
			continue;
		}
		if (timeout_ms) {
			uint64_t ms = (c->deadline_ns - now + 999999) / 1000000;
			if (*timeout_ms < 0 || ms < (uint64_t)*timeout_ms)
				*timeout_ms = (int)ms;
		}
	}
}

void vsock_guest_connect(struct virtio_vsock *v, const struct vsock_hdr *h)
{
	if (v->nconns >= v->max_conns) {
		v->st.refused++;
		vsock_rst_push(v, h->dst_port, h->src_port, 0);
		return;
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", v->uds, h->dst_port);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		/* nobody listening (or its backlog is full): refused */
		if (fd >= 0)
			close(fd);
		vsock_rst_push(v, h->dst_port, h->src_port, 0);
		return;
	}
	struct vsock_conn *c = conn_new(v, fd, C_EST);
	if (!c) {
		close(fd);
		vsock_rst_push(v, h->dst_port, h->src_port, 0);
		return;
	}
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->pend = P_RESPONSE;
	vsock_interest(v, c);
}

int vsock_host_ok(struct virtio_vsock *v, struct vsock_conn *c)
{
	char line[24];
	int n = snprintf(line, sizeof(line), "OK %u\n", c->local_port);
	/* a fresh socket with nothing queued takes a short line whole */
	if (send(c->fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
		return -1;
	c->state = C_EST;
	c->deadline_ns = 0;
	vsock_interest(v, c);
	return 0;
}

static ssize_t send_iov(int fd, const struct iovec *iov, unsigned n)
{
	struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = n};
	ssize_t r;
	do
		r = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return 0;
	return r;
}

/* Done with everything kept: carry out the guest's SHUTDOWN. */
static void after_flush(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (c->len)
		return;
	if (c->close_when_flushed) {
		vsock_conn_rst(v, c);
		return;
	}
	if (c->guest_shut & SHUT_F_SEND)
		shutdown(c->fd, SHUT_WR);
	/* tell the guest about the room it has again, before it has to ask */
	if (c->fwd_cnt != c->fwd_told)
		c->pend |= P_CREDIT;
}

int vsock_to_host(struct virtio_vsock *v, struct vsock_conn *c, const struct iovec *iov, unsigned n,
                  uint32_t len)
{
	if (len > VSOCK_BUF_ALLOC - c->len)
		return -1; /* the guest sent past the credit we gave it */
	size_t done = 0;
	if (!c->len) {
		ssize_t w = send_iov(c->fd, iov, n);
		if (w < 0)
			return -1;
		done = (size_t)w;
		c->fwd_cnt += (uint32_t)w;
	}
	if (done < len) {
		if (!c->buf && !(c->buf = malloc(VSOCK_BUF_ALLOC)))
			return -1;
		if (c->head + c->len + (len - done) > VSOCK_BUF_ALLOC) {
			memmove(c->buf, c->buf + c->head, c->len);
			c->head = 0;
		}
		size_t skip = done;
		for (unsigned i = 0; i < n; i++) {
			size_t l = iov[i].iov_len;
			if (skip >= l) {
				skip -= l;
				continue;
			}
			memcpy(c->buf + c->head + c->len, (uint8_t *)iov[i].iov_base + skip,
			       l - skip);
			c->len += (uint32_t)(l - skip);
			skip = 0;
		}
	}
	if (c->fwd_cnt - c->fwd_told >= VSOCK_BUF_ALLOC / 2)
		c->pend |= P_CREDIT;
	vsock_interest(v, c);
	return 0;
}

void vsock_flush(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (c->len) {
		struct iovec iov = {c->buf + c->head, c->len};
		ssize_t w = send_iov(c->fd, &iov, 1);
		if (w < 0) {
			vsock_conn_rst(v, c);
			return;
		}
		c->head += (uint32_t)w;
		c->len -= (uint32_t)w;
		c->fwd_cnt += (uint32_t)w;
		if (!c->len)
			c->head = 0;
		if (c->fwd_cnt - c->fwd_told >= VSOCK_BUF_ALLOC / 2)
			c->pend |= P_CREDIT;
	}
	after_flush(v, c);
}

void vsock_guest_shutdown(struct virtio_vsock *v, struct vsock_conn *c, uint32_t flags)
{
	c->guest_shut |= (uint8_t)(flags & (SHUT_F_RCV | SHUT_F_SEND));
	if (c->guest_shut == (SHUT_F_RCV | SHUT_F_SEND)) {
		/* the guest is closing: flush, then answer with RST (it waits for one) */
		c->close_when_flushed = 1;
		if (!c->deadline_ns)
			c->deadline_ns = vsock_now_ns() + VSOCK_TIMEOUT_MS * 1000000ULL;
	}
	after_flush(v, c);
	if (c->state != C_FREE)
		vsock_interest(v, c);
}

/* ---- creation ---- */

int vsock_check_cid(uint64_t cid, struct err *e)
{
	if (cid < 3 || cid >= UINT32_MAX)
		return err_set(e, ERR_INPUT,
		               "vsock cid %llu out of range (3 to 4294967294; 0-2 are reserved)",
		               (unsigned long long)cid);
	return 0;
}

struct virtio_vsock *virtio_vsock_new(uint64_t cid, const char *uds, unsigned max_conns,
                                      struct err *e)
{
	if (vsock_check_cid(cid, e))
		return NULL;
	size_t ul = strlen(uds);
	if (ul == 0 || ul > VSOCK_UDS_MAX) {
		err_set(e, ERR_INPUT, "vsock uds '%s': path empty or longer than %d bytes", uds,
		        VSOCK_UDS_MAX);
		return NULL;
	}
	if (max_conns == 0 || max_conns > 65536) {
		err_set(e, ERR_INTERNAL, "vsock: bad connection limit %u", max_conns);
		return NULL;
	}
	struct virtio_vsock *v = calloc(1, sizeof(*v));
	struct vsock_conn *conns = calloc(max_conns, sizeof(*conns));
	if (!v || !conns) {
		free(v);
		free(conns);
		err_sys(e, "vsock: allocating the device");
		return NULL;
	}
	v->conns = conns;
	for (unsigned i = 0; i < max_conns; i++)
		conns[i].fd = -1;
	v->cid = cid;
	v->max_conns = max_conns;
	v->next_port = VSOCK_HOST_PORT_MIN;
	memcpy(v->uds, uds, ul + 1);
	v->listen_fd = v->ep = -1;
	v->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->wake_fd < 0) {
		err_sys(e, "vsock: eventfd");
		goto fail;
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path, uds, ul + 1);
	struct stat sb;
	if (lstat(uds, &sb) == 0) {
		err_set(e, ERR_INPUT, "vsock uds %s: already exists (remove it first)", uds);
		goto fail;
	}
	v->ep = epoll_create1(EPOLL_CLOEXEC);
	v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (v->ep < 0 || v->listen_fd < 0) {
		err_sys(e, "vsock: creating sockets");
		goto fail;
	}
	if (bind(v->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		err_sys(e, "vsock uds %s: cannot bind", uds);
		if (errno == ENOENT || errno == EACCES || errno == ENOTDIR)
			e->kind = ERR_INPUT;
		close(v->listen_fd);
		v->listen_fd = -1;
		goto fail;
	}
	if (listen(v->listen_fd, 128) < 0) {
		err_sys(e, "vsock uds %s: listen", uds);
		goto fail;
	}
	return v;
fail:
	virtio_vsock_free(v);
	return NULL;
}

void virtio_vsock_free(struct virtio_vsock *v)
{
	if (!v)
		return;
	vsock_drop_all(v);
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->uds);
	}
	if (v->ep >= 0)
		close(v->ep);
	if (v->wake_fd >= 0)
		close(v->wake_fd);
	free(v->conns);
	free(v);
}
