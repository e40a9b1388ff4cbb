/* SPDX-License-Identifier: Apache-2.0 */
/* Network devices of a VM: --net options and the creation of each virtio-net
 * device with its backend (tap or user-mode networking). */
#ifndef CAPSA_VM_VM_NET_H
#define CAPSA_VM_VM_NET_H

#include "devices/virtio/net.h"
#include "lib/err.h"
#include "net/slirp.h"

#define VM_NET_MAX     8
#define VM_NET_POLL_US 50 /* default poll_us */

enum vm_net_kind { VM_NET_TAP, VM_NET_USER };

struct vm_net_dev {
	enum vm_net_kind kind;
	char ifname[16]; /* tap */
	struct net_slirp_config user;
	uint8_t mac[6];
	int mac_set;
	struct virtio_net_limits lim;
	uint64_t poll_us; /* after sending, poll the backend this long (0: never) */
};

struct vm_net_config {
	struct vm_net_dev d[VM_NET_MAX];
	unsigned n;
};

/* Parse "tap=NAME|user[,hostfwd=tcp:127.0.0.1:HP-:GP]...[,mac=M]
 * [,bps=N][,ops=N][,rx_bps=N][,tx_bps=N][,rx_ops=N][,tx_ops=N][,*_burst=N]
 * [,poll_us=N]"
 * and add the device. */
int vm_net_add(struct vm_net_config *c, const char *spec, struct err *e);
/* "aa:bb:cc:dd:ee:ff", unicast only. */
int vm_net_parse_mac(const char *s, uint8_t mac[6], struct err *e);
/* The MAC of the index-th network device when none is given: locally
 * administered, unicast, different per device. */
void vm_net_default_mac(unsigned index, uint8_t mac[6]);

/* A device model with its backend, ready for virtio_mmio_init(&n->ops, n). */
int vm_net_create(struct virtio_net **out, const struct vm_net_dev *d, struct err *e);
void vm_net_free(struct virtio_net *n);
/* SANDBOX_* permissions the device's I/O thread needs (vm/sandbox.h). */
unsigned vm_net_sandbox(const struct vm_net_dev *d);

#endif
