/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/legacy.h"

#include <string.h>

static void pci_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct pci_nodev *p = dev;
	if (off < 4 && off + size <= 4) {
		uint32_t v = p->address;
		memcpy(data, (uint8_t *)&v + off, size);
	} else {
		memset(data, 0xff, size); /* no device answers: vendor ID 0xffff */
	}
}

static void pci_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct pci_nodev *p = dev;
	if (off == 0 && size == 4)
		memcpy(&p->address, data, 4);
}

const struct io_ops pci_nodev_ops = {pci_read, pci_write};

static void post_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	(void)dev, (void)off;
	memset(data, 0xff, size);
}

static void post_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	(void)dev, (void)off, (void)data, (void)size;
}

const struct io_ops post_ops = {post_read, post_write};

static void debug_exit_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	const struct vm_control *ctl = dev;
	(void)off, (void)size;
	ctl->request_end(ctl->ctx, VM_END_DEBUG_EXIT, data[0]);
}

const struct io_ops debug_exit_ops = {post_read, debug_exit_write};
