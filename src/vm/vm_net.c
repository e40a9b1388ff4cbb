/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/vm_net.h"

#include "lib/size.h"
#include "net/tap.h"
#include "vm/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

int vm_net_parse_mac(const char *s, uint8_t mac[6], struct err *e)
{
	size_t len = strlen(s);
	int ok = len == 17;
	for (unsigned i = 0; ok && i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			ok = 0;
		else
			mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!ok)
		return err_set(e, ERR_INPUT,
		               "--net mac=%s: expected six hex bytes like 02:00:00:00:00:01", s);
	if (mac[0] & 1)
		return err_set(e, ERR_INPUT, "--net mac=%s: a multicast address (first byte odd)",
		               s);
	static const uint8_t zero[6];
	if (!memcmp(mac, zero, 6))
		return err_set(e, ERR_INPUT, "--net mac=%s: the all-zero address", s);
	return 0;
}

void vm_net_default_mac(unsigned index, uint8_t mac[6])
{
	/* 0x02: locally administered, unicast; then "CPSA" and the device index */
	static const uint8_t base[6] = {0x02, 0x43, 0x50, 0x53, 0x41, 0x00};
	memcpy(mac, base, 6);
	mac[5] = (uint8_t)(index + 1);
}

/* "tcp:127.0.0.1:HP-:GP", also "tcp::HP-:GP", "udp:...", guest "10.0.2.15:GP". */
static int parse_fwd(struct net_slirp_config *u, const char *v, struct err *e)
{
	if (u->nfwd >= NET_SLIRP_MAX_FWD)
		return err_set(e, ERR_INPUT, "--net hostfwd=%s: at most %d forwards", v,
		               NET_SLIRP_MAX_FWD);
	struct net_hostfwd *f = &u->fwd[u->nfwd];
	const char *p = v;
	if (!strncmp(p, "tcp:", 4)) {
		f->udp = 0;
		p += 4;
	} else if (!strncmp(p, "udp:", 4)) {
		f->udp = 1;
		p += 4;
	} else {
		goto bad;
	}
	if (!strncmp(p, "127.0.0.1:", 10))
		p += 10;
	else if (*p == ':')
		p++;
	else
		return err_set(e, ERR_INPUT,
		               "--net hostfwd=%s: the host side must be 127.0.0.1 (nothing else is "
		               "exposed)",
		               v);
	char *end;
	unsigned long hp = strtoul(p, &end, 10);
	if (end == p || *end != '-' || hp == 0 || hp > 65535)
		goto bad;
	p = end + 1;
	if (!strncmp(p, "10.0.2.15:", 10))
		p += 10;
	else if (*p == ':')
		p++;
	else
		goto bad;
	unsigned long gp = strtoul(p, &end, 10);
	if (end == p || *end || gp == 0 || gp > 65535)
		goto bad;
	f->host_port = (uint16_t)hp;
	f->guest_port = (uint16_t)gp;
	u->nfwd++;
	return 0;
bad:
	return err_set(e, ERR_INPUT, "--net hostfwd=%s: expected tcp:127.0.0.1:HOSTPORT-:GUESTPORT",
	               v);
}

static int limit_key(struct virtio_net_limits *l, const char *k, const char *v, struct err *e)
{
	static const struct {
		const char *name;
		size_t off1, off2; /* off2: the other direction for bps/ops, else same */
	} keys[] = {
#define L(f) offsetof(struct virtio_net_limits, f)
	    {"bps", L(rx_bps), L(tx_bps)},    {"bps_burst", L(rx_bps_burst), L(tx_bps_burst)},
	    {"ops", L(rx_ops), L(tx_ops)},    {"ops_burst", L(rx_ops_burst), L(tx_ops_burst)},
	    {"rx_bps", L(rx_bps), L(rx_bps)}, {"rx_bps_burst", L(rx_bps_burst), L(rx_bps_burst)},
	    {"rx_ops", L(rx_ops), L(rx_ops)}, {"rx_ops_burst", L(rx_ops_burst), L(rx_ops_burst)},
	    {"tx_bps", L(tx_bps), L(tx_bps)}, {"tx_bps_burst", L(tx_bps_burst), L(tx_bps_burst)},
	    {"tx_ops", L(tx_ops), L(tx_ops)}, {"tx_ops_burst", L(tx_ops_burst), L(tx_ops_burst)},
#undef L
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(k, keys[i].name))
			continue;
		char what[48];
		snprintf(what, sizeof(what), "--net %s", k);
		uint64_t x;
		if (!v || parse_size(v, what, &x, e))
			return v ? -1 : err_set(e, ERR_INPUT, "--net %s: needs a value", k);
		*(uint64_t *)((char *)l + keys[i].off1) = x;
		*(uint64_t *)((char *)l + keys[i].off2) = x;
		return 1;
	}
	return 0;
}

static int net_key(struct vm_net_dev *d, const char *k, const char *v, struct err *e)
{
	int r = limit_key(&d->lim, k, v, e);
	if (r)
		return r < 0 ? -1 : 0;
	if (!strcmp(k, "mac") && v) {
		if (vm_net_parse_mac(v, d->mac, e))
			return -1;
		d->mac_set = 1;
	} else if (!strcmp(k, "poll_us") && v) {
		return parse_uint(v, "--net poll_us", 0, 1000000, &d->poll_us, e);
	} else if (!strcmp(k, "hostfwd") && v && d->kind == VM_NET_USER) {
		return parse_fwd(&d->user, v, e);
	} else {
		return err_set(
		    e, ERR_INPUT, "--net: bad option '%s%s%s'%s", k, v ? "=" : "", v ? v : "",
		    d->kind == VM_NET_TAP && !strcmp(k, "hostfwd") ? " (only for user)" : "");
	}
	return 0;
}

int vm_net_add(struct vm_net_config *c, const char *spec, struct err *e)
{
	if (c->n >= VM_NET_MAX)
		return err_set(e, ERR_INPUT, "--net %s: too many network devices (at most %d)",
		               spec, VM_NET_MAX);
	char buf[1024];
	if (strlen(spec) >= sizeof(buf))
		return err_set(e, ERR_INPUT, "--net: option too long");
	snprintf(buf, sizeof(buf), "%s", spec);
	struct vm_net_dev *d = &c->d[c->n];
	memset(d, 0, sizeof(*d));
	d->poll_us = VM_NET_POLL_US;
	char *save = NULL;
	char *tok = strtok_r(buf, ",", &save);
	if (tok && !strcmp(tok, "user")) {
		d->kind = VM_NET_USER;
	} else if (tok && !strncmp(tok, "tap=", 4) && tok[4] &&
	           strlen(tok + 4) < sizeof(d->ifname)) {
		d->kind = VM_NET_TAP;
		snprintf(d->ifname, sizeof(d->ifname), "%s", tok + 4);
	} else {
		return err_set(e, ERR_INPUT,
		               "--net %s: expected tap=NAME (1 to 15 characters) or user first",
		               spec);
	}
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq = '\0';
		if (net_key(d, tok, eq ? eq + 1 : NULL, e))
			return -1;
	}
	if (!d->mac_set)
		vm_net_default_mac(c->n, d->mac);

	c->n++;
	return 0;
}

int vm_net_create(struct virtio_net **out, const struct vm_net_dev *d, struct err *e)
{
	struct net_backend *be;
	int rc = d->kind == VM_NET_TAP ? net_tap_open(&be, d->ifname, e)
	                               : net_slirp_open(&be, &d->user, e);
	if (rc)
		return err_prefix(e, "--net %s", d->kind == VM_NET_TAP ? d->ifname : "user");
	struct virtio_net *n = malloc(sizeof(*n));
	if (!n) {
		net_backend_free(be);
		return err_sys(e, "allocating a network device");
	}
	virtio_net_init(n, be, d->mac, &d->lim);
	n->poll_ns = d->poll_us * 1000;
	*out = n;
	return 0;
}

void vm_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	net_backend_free(n->be);
	free(n);
}

unsigned vm_net_sandbox(const struct vm_net_dev *d)
{
	/* slirp opens, connects and closes host sockets as the guest asks */
	return SANDBOX_NET | (d->kind == VM_NET_USER ? SANDBOX_SOCKETS : 0);
}
