/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/virtio/rng.h"

#include <errno.h>
#include <sys/random.h>

#define MAX_PER_REQUEST 65536

static int handle(void *dev, struct vq_chain *c)
{
	struct virtio_rng *r = dev;
	uint32_t want = c->in_len < MAX_PER_REQUEST ? c->in_len : MAX_PER_REQUEST;
	uint32_t done = 0;
	for (unsigned i = c->nout; i < c->nout + c->nin && done < want; i++) {
		size_t len = c->iov[i].iov_len;
		if (len > want - done)
			len = want - done;
		size_t got = 0;
		while (got < len) {
			ssize_t k = getrandom((char *)c->iov[i].iov_base + got, len - got, 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return (int)(done + got); /* give what we have */
			got += (size_t)k;
		}
		done += (uint32_t)len;
	}
	r->bytes += done;
	return (int)done;
}

static void process(void *dev, struct virtio_mmio *t, unsigned q)
{
	virtio_queue_run(t, q, handle, dev);
}

const struct virtio_device_ops virtio_rng_ops = {
    .name = "rng",
    .device_id = VIRTIO_ID_RNG,
    .nqueues = 1,
    .queue_max = 64,
    .features = 0,
    .process = process,
};
