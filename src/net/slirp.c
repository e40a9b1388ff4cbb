/* SPDX-License-Identifier: Apache-2.0 */
#include "net/slirp.h"

#include "lib/clock.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <slirp/libslirp.h>
#include <stdlib.h>
#include <string.h>

#define RING       256        /* frames waiting for the guest */
#define RING_BYTES (1u << 20) /* and their bytes */
#define MAX_FRAME  65536

struct timer {
	struct timer *next;
	SlirpTimerCb cb;
	void *cb_opaque;
	int opaque_id; /* -1, or the SlirpTimerId of a timer_new_opaque timer */
	int armed;
	int64_t expire_ms;
};

struct frame {
	size_t len;
	uint8_t *data;
};

/* libslirp is loaded at run time (Debian ships it only as a shared library and
 * capsa's release binary is static): its entry points, resolved at load. */
struct slirp_lib {
	void *handle;
	Slirp *(*new_)(const SlirpConfig *, const SlirpCb *, void *);
	void (*cleanup)(Slirp *);
	void (*pollfds_fill)(Slirp *, uint32_t *, SlirpAddPollCb, void *);
	void (*pollfds_poll)(Slirp *, int, SlirpGetREventsCb, void *);
	void (*input)(Slirp *, const uint8_t *, int);
	void (*handle_timer)(Slirp *, SlirpTimerId, void *);
	int (*add_hostfwd)(Slirp *, int, struct in_addr, int, struct in_addr, int);
};

struct slirp_be {
	struct net_backend b;
	struct slirp_lib lib;
	Slirp *slirp;
	struct timer *timers;
	/* pollfds being filled (fds) or read back (event) */
	struct pollfd *p;
	unsigned max, n;
	const struct pollfd *rp;
	unsigned rn;
	/* frames for the guest */
	struct frame ring[RING];
	unsigned head, count;
	size_t bytes;
};

/* ---- frames from slirp to the guest ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_be *s = opaque;
	if (len == 0 || len > MAX_FRAME || s->count == RING || s->bytes + len > RING_BYTES) {
		s->b.dropped++;
		return (ssize_t)len;
	}
	uint8_t *d = malloc(len);
	if (!d) {
		s->b.dropped++;
		return (ssize_t)len;
	}
	memcpy(d, buf, len);
	s->ring[(s->head + s->count) % RING] = (struct frame){len, d};
	s->count++;
	s->bytes += len;
	return (ssize_t)len;
}

static ssize_t be_recv(struct net_backend *b, void *buf, size_t cap)
{
	struct slirp_be *s = (struct slirp_be *)b;
	while (s->count) {
		struct frame f = s->ring[s->head];
		s->head = (s->head + 1) % RING;
		s->count--;
		s->bytes -= f.len;
		if (f.len > cap) {
			b->dropped++;
			free(f.data);
			continue;
		}
		memcpy(buf, f.data, f.len);
		free(f.data);
		return (ssize_t)f.len;
	}
	return 0;
}

/* ---- frames from the guest to slirp ---- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define ADDR(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

int net_slirp_allowed(const uint8_t *f, size_t len)
{
	if (len < 14)
		return 0;
	unsigned type = (unsigned)f[12] << 8 | f[13];
	if (type == 0x0806)
		return 1; /* ARP: answered by slirp itself */
	if (type != 0x0800 || len < 14 + 20)
		return 0; /* IPv6 is off; anything else has no business here */
	const uint8_t *ip = f + 14;
	unsigned ihl = (ip[0] & 15u) * 4, tot = (unsigned)ip[2] << 8 | ip[3];
	uint32_t dst = be32(ip + 16);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || tot > len - 14)
		return 0; /* not a well-formed IPv4 header */
	if ((ip[6] & 0x3f) || ip[7])
		return 0; /* fragments: libslirp 4.7's reassembly crashes on hostile ones */
	if (dst == ADDR(10, 0, 2, 2))
		return 1; /* the host's loopback */
	if (dst == ADDR(255, 255, 255, 255) || dst == ADDR(10, 0, 2, 255)) {
		/* only DHCP, which slirp answers itself */
		if (ip[9] != 17 || ihl < 20 || len < 14 + ihl + 4)
			return 0;
		unsigned dport = (unsigned)ip[ihl + 2] << 8 | ip[ihl + 3];
		return dport == 67;
	}
	return 0;
}

static int be_send(struct net_backend *b, const struct iovec *iov, int n)
{
	struct slirp_be *s = (struct slirp_be *)b;
	if (n != 1 || iov[0].iov_len > MAX_FRAME ||
	    !net_slirp_allowed(iov[0].iov_base, iov[0].iov_len)) {
		b->dropped++;
		return -1;
	}
	s->lib.input(s->slirp, iov[0].iov_base, (int)iov[0].iov_len);
	return 0;
}

/* ---- polling and timers ---- */

static int add_poll(int fd, int events, void *opaque)
{
	struct slirp_be *s = opaque;
	if (s->n >= s->max)
		return -1; /* over the limit: this socket waits for a later round */
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	s->p[s->n] = (struct pollfd){fd, ev, 0};
	return (int)s->n++;
}

static int get_revents(int idx, void *opaque)
{
	struct slirp_be *s = opaque;
	if (idx < 0 || (unsigned)idx >= s->rn)
		return 0;
	short r = s->rp[idx].revents;
	int ev = 0;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & (POLLERR | POLLNVAL))
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

static unsigned be_fds(struct net_backend *b, struct pollfd *p, unsigned max, int *timeout_ms,
                       int want_rx)
{
	struct slirp_be *s = (struct slirp_be *)b;
	(void)want_rx; /* slirp's sockets are served whatever the guest does */
	s->p = p;
	s->max = max;
	s->n = 0;
	uint32_t to = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
	s->lib.pollfds_fill(s->slirp, &to, add_poll, s);
	int64_t now_ms = (int64_t)clock_mono_ns() / 1000000;
	for (struct timer *t = s->timers; t; t = t->next) {
		if (!t->armed)
			continue;
		int64_t d = t->expire_ms - now_ms;
		uint32_t dm = d <= 0 ? 0 : d > INT_MAX ? INT_MAX : (uint32_t)d;
		if (dm < to)
			to = dm;
	}
	*timeout_ms = to > INT_MAX ? -1 : (int)to;
	return s->n;
}

static void be_event(struct net_backend *b, const struct pollfd *p, unsigned n)
{
	struct slirp_be *s = (struct slirp_be *)b;
	s->rp = p;
	s->rn = n;
	s->lib.pollfds_poll(s->slirp, 0, get_revents, s);
	s->rp = NULL;
	s->rn = 0;
	/* fire due timers; a callback may re-arm or free timers, so restart */
	for (int fired = 1; fired;) {
		fired = 0;
		int64_t now_ms = (int64_t)clock_mono_ns() / 1000000;
		for (struct timer *t = s->timers; t; t = t->next) {
			if (!t->armed || t->expire_ms > now_ms)
				continue;
			t->armed = 0;
			if (t->opaque_id >= 0)
				s->lib.handle_timer(s->slirp, (SlirpTimerId)t->opaque_id,
				                    t->cb_opaque);
			else
				t->cb(t->cb_opaque);
			fired = 1;
			break;
		}
	}
}

static void cb_guest_error(const char *msg, void *opaque)
{
	(void)msg; /* a guest's mistake is its own business: counted, not printed */
	struct slirp_be *s = opaque;
	s->b.dropped++;
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return (int64_t)clock_mono_ns();
}

static struct timer *timer_add(struct slirp_be *s)
{
	struct timer *t = calloc(1, sizeof(*t));
	if (!t)
		abort(); /* libslirp has no way to report this */
	t->opaque_id = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct timer *t = timer_add(opaque);
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct timer *t = timer_add(opaque);
	t->opaque_id = (int)id;
	t->cb_opaque = cb_opaque;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct slirp_be *s = opaque;
	for (struct timer **pp = &s->timers; *pp; pp = &(*pp)->next)
		if (*pp == timer) {
			*pp = ((struct timer *)timer)->next;
			free(timer);
			return;
		}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	struct timer *t = timer;
	t->expire_ms = expire_ms;
	t->armed = 1;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	(void)fd; /* descriptors are collected afresh before every poll */
	(void)opaque;
}

static void cb_notify(void *opaque)
{
	(void)opaque; /* slirp only runs on the I/O thread, which polls again anyway */
}

static const SlirpCb callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_register_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

static void be_free(struct net_backend *b)
{
	struct slirp_be *s = (struct slirp_be *)b;
	if (s->slirp)
		s->lib.cleanup(s->slirp);
	while (s->timers)
		cb_timer_free(s->timers, s);
	while (s->count) {
		free(s->ring[s->head].data);
		s->head = (s->head + 1) % RING;
		s->count--;
	}
	if (s->lib.handle)
		dlclose(s->lib.handle);
	free(s);
}

static const struct net_backend_ops slirp_ops = {
    .send = be_send,
    .recv = be_recv,
    .fds = be_fds,
    .event = be_event,
    .free = be_free,
};

static int load_lib(struct slirp_lib *l, struct err *e)
{
	/* everything resolved now, before the I/O thread is confined */
	l->handle = dlopen("libslirp.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!l->handle)
		return err_set(e, ERR_SYSTEM,
		               "user-mode networking needs libslirp.so.0 (Debian: libslirp0): %s",
		               dlerror());
	struct {
		const char *name;
		void **fn;
	} syms[] = {
	    {"slirp_new", (void **)&l->new_},
	    {"slirp_cleanup", (void **)&l->cleanup},
	    {"slirp_pollfds_fill", (void **)&l->pollfds_fill},
	    {"slirp_pollfds_poll", (void **)&l->pollfds_poll},
	    {"slirp_input", (void **)&l->input},
	    {"slirp_handle_timer", (void **)&l->handle_timer},
	    {"slirp_add_hostfwd", (void **)&l->add_hostfwd},
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].fn = dlsym(l->handle, syms[i].name);
		if (!*syms[i].fn) {
			err_set(e, ERR_SYSTEM, "libslirp.so.0 has no %s", syms[i].name);
			dlclose(l->handle);
			l->handle = NULL;
			return -1;
		}
	}
	return 0;
}

static struct in_addr ip4(uint32_t a)
{
	return (struct in_addr){htonl(a)};
}

int net_slirp_open(struct net_backend **out, const struct net_slirp_config *c, struct err *e)
{
	struct slirp_be *s = calloc(1, sizeof(*s));
	if (!s)
		return err_sys(e, "allocating user-mode networking");
	s->b.ops = &slirp_ops;
	if (load_lib(&s->lib, e)) {
		free(s);
		return -1;
	}
	SlirpConfig cfg = {
	    .version = 4,
	    .in_enabled = true,
	    .vnetwork = ip4(ADDR(10, 0, 2, 0)),
	    .vnetmask = ip4(ADDR(255, 255, 255, 0)),
	    .vhost = ip4(ADDR(10, 0, 2, 2)),
	    .vdhcp_start = ip4(ADDR(10, 0, 2, 15)),
	    .vnameserver = ip4(ADDR(10, 0, 2, 3)),
	    .disable_dns = true, /* forwarding to the host's resolver could leave the machine */
	};
	s->slirp = s->lib.new_(&cfg, &callbacks, s);
	if (!s->slirp) {
		free(s);
		return err_set(e, ERR_SYSTEM, "user-mode networking: libslirp refused its setup");
	}
	for (unsigned i = 0; i < c->nfwd; i++) {
		const struct net_hostfwd *f = &c->fwd[i];
		errno = 0;
		if (s->lib.add_hostfwd(s->slirp, f->udp, ip4(ADDR(127, 0, 0, 1)), f->host_port,
		                       ip4(ADDR(10, 0, 2, 15)), f->guest_port) < 0) {
			int saved = errno;
			be_free(&s->b);
			return err_set(e, ERR_INPUT,
			               "hostfwd %s:127.0.0.1:%u: cannot listen there%s%s",
			               f->udp ? "udp" : "tcp", f->host_port, saved ? ": " : "",
			               saved ? strerror(saved) : " (port in use?)");
		}
	}
	*out = &s->b;
	return 0;
}
