/* SPDX-License-Identifier: Apache-2.0 */
/* Tap backend: a Linux tap device with the virtio-net header (IFF_VNET_HDR,
 * TUNSETVNETHDRSZ 12), so checksum and segmentation offloads pass through
 * (TUNSETOFFLOAD follows what the guest driver accepted). */
#ifndef CAPSA_NET_TAP_H
#define CAPSA_NET_TAP_H

#include "lib/err.h"
#include "net/backend.h"

/* Attach to (or create, if allowed) the tap interface `name`. */
int net_tap_open(struct net_backend **out, const char *name, struct err *e);
/* A backend over an existing descriptor that carries one frame (header
 * first) per read/write, e.g. a SOCK_SEQPACKET socket in tests; it takes
 * the descriptor over. Offloads are requested only from a real tap. */
int net_tap_from_fd(struct net_backend **out, int fd, struct err *e);

#endif
