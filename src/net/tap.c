/* SPDX-License-Identifier: Apache-2.0 */
#include "net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct tap {
	struct net_backend b;
	int fd;
	int is_tun; /* a real tap: offloads can be set */
};

static int tap_send(struct net_backend *b, const struct iovec *iov, int n)
{
	struct tap *t = (struct tap *)b;
	ssize_t w;
	do
		w = writev(t->fd, iov, n);
	while (w < 0 && errno == EINTR);
	/* EAGAIN (queue full), EINVAL (header the kernel refuses), EIO (down): drop */
	return w < 0 ? -1 : 0;
}

static ssize_t tap_recv(struct net_backend *b, void *buf, size_t cap)
{
	struct tap *t = (struct tap *)b;
	for (int tries = 0; tries < 64; tries++) {
		ssize_t r = read(t->fd, buf, cap);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r > NET_HDR_LEN)
			return r;
		if (r == 0)
			return 0; /* end of file (a test's socket closed) */
		/* an error (e.g. a frame that did not fit: it is gone) or a header alone */
		b->dropped++;
	}
	return 0;
}

static unsigned tap_fds(struct net_backend *b, struct pollfd *p, unsigned max, int *timeout_ms,
                        int want_rx)
{
	struct tap *t = (struct tap *)b;
	(void)timeout_ms;
	if (!want_rx || max < 1)
		return 0;
	p[0] = (struct pollfd){t->fd, POLLIN, 0};
	return 1;
}

static void tap_event(struct net_backend *b, const struct pollfd *p, unsigned n)
{
	(void)b; /* frames are read when the device has room for them */
	(void)p;
	(void)n;
}

static int tap_set_offload(struct net_backend *b, unsigned flags)
{
	struct tap *t = (struct tap *)b;
	if (!t->is_tun)
		return 0;
	return ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)flags);
}

static void tap_free(struct net_backend *b)
{
	struct tap *t = (struct tap *)b;
	close(t->fd);
	free(t);
}

static const struct net_backend_ops tap_ops = {
    .send = tap_send,
    .recv = tap_recv,
    .fds = tap_fds,
    .event = tap_event,
    .set_offload = tap_set_offload,
    .free = tap_free,
};

#define TAP_FEATURES                                                                               \
	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |                         \
	 (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |                     \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6))

static struct tap *tap_new(int fd, struct err *e)
{
	struct tap *t = calloc(1, sizeof(*t));
	if (!t) {
		err_sys(e, "allocating a tap backend");
		return NULL;
	}
	t->b.ops = &tap_ops;
	t->b.vnet_hdr = 1;
	t->b.features = TAP_FEATURES;
	t->fd = fd;
	return t;
}

int net_tap_from_fd(struct net_backend **out, int fd, struct err *e)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return err_sys(e, "tap: descriptor %d", fd);
	struct tap *t = tap_new(fd, e);
	if (!t)
		return -1;
	*out = &t->b;
	return 0;
}

int net_tap_open(struct net_backend **out, const char *name, struct err *e)
{
	struct ifreq ifr;
	if (!name[0] || strlen(name) >= sizeof(ifr.ifr_name))
		return err_set(e, ERR_INPUT, "tap '%s': interface names have 1 to %zu characters",
		               name, sizeof(ifr.ifr_name) - 1);
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "tap %s: opening /dev/net/tun", name);
	unsigned feat = 0;
	if (ioctl(fd, TUNGETFEATURES, &feat) < 0 || !(feat & IFF_VNET_HDR)) {
		close(fd);
		return err_set(e, ERR_SYSTEM, "tap %s: the kernel's tun has no IFF_VNET_HDR", name);
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		err_sys(e, "tap %s: attaching (TUNSETIFF)", name);
		if (saved == EPERM || saved == EBUSY || saved == EINVAL)
			e->kind = ERR_INPUT;
		return -1;
	}
	int hdr = NET_HDR_LEN;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		close(fd);
		return err_sys(e, "tap %s: TUNSETVNETHDRSZ", name);
	}
	struct tap *t = tap_new(fd, e);
	if (!t) {
		close(fd);
		return -1;
	}
	t->is_tun = 1;
	/* offer the offloads this tap can take; none until the driver accepts them */
	unsigned all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)all) < 0)
		t->b.features = 0;
	(void)ioctl(fd, TUNSETOFFLOAD, 0UL);
	*out = &t->b;
	return 0;
}
