/* SPDX-License-Identifier: Apache-2.0 */
/* User-mode networking through libslirp: a NAT with no privileges. The guest
 * is 10.0.2.15 (DHCP offers it), 10.0.2.2 is the gateway and reaches the
 * host's loopback, 10.0.2.3 answers DNS when enabled. Nothing leaves the
 * machine: frames to any other address are dropped before slirp sees them,
 * there is no DNS (forwarding to the host's resolver could leave it), and
 * port forwards listen on 127.0.0.1 only. */
#ifndef CAPSA_NET_SLIRP_H
#define CAPSA_NET_SLIRP_H

#include "lib/err.h"
#include "net/backend.h"

#define NET_SLIRP_MAX_FWD 16

struct net_hostfwd {
	int udp;
	uint16_t host_port, guest_port; /* host side is 127.0.0.1, guest 10.0.2.15 */
};

struct net_slirp_config {
	struct net_hostfwd fwd[NET_SLIRP_MAX_FWD];
	unsigned nfwd;
};

int net_slirp_open(struct net_backend **out, const struct net_slirp_config *c, struct err *e);

/* Would this frame from the guest stay on the machine (exposed for tests)? */
int net_slirp_allowed(const uint8_t *frame, size_t len);

#endif
