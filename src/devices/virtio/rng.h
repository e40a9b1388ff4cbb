/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng: entropy from the host's getrandom(2). */
#ifndef CAPSA_DEVICES_VIRTIO_RNG_H
#define CAPSA_DEVICES_VIRTIO_RNG_H

#include "devices/virtio/mmio.h"

struct virtio_rng {
	uint64_t bytes;
};

extern const struct virtio_device_ops virtio_rng_ops;

#endif
