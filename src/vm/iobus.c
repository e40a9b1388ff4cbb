/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/iobus.h"

#include <string.h>

void iobus_init(struct iobus *b)
{
	memset(b, 0, sizeof(*b));
}

int iobus_register(struct iobus *b, uint64_t base, uint64_t len, const struct io_ops *ops,
                   void *dev, pthread_mutex_t *lock, struct err *e)
{
	if (len == 0 || base + len < base)
		return err_set(e, ERR_INTERNAL, "bus: bad range %#llx+%#llx",
		               (unsigned long long)base, (unsigned long long)len);
	if (b->n == IOBUS_MAX)
		return err_set(e, ERR_INTERNAL, "bus: too many devices");
	unsigned at = 0;
	while (at < b->n && b->r[at].base < base)
		at++;
	if ((at > 0 && b->r[at - 1].base + b->r[at - 1].len > base) ||
	    (at < b->n && base + len > b->r[at].base))
		return err_set(e, ERR_INTERNAL, "bus: range %#llx+%#llx overlaps another device",
		               (unsigned long long)base, (unsigned long long)len);
	memmove(&b->r[at + 1], &b->r[at], (b->n - at) * sizeof(b->r[0]));
	b->r[at] = (struct iobus_range){base, len, ops, dev, lock};
	b->n++;
	return 0;
}

static const struct iobus_range *lookup(const struct iobus *b, uint64_t addr, unsigned size)
{
	unsigned lo = 0, hi = b->n;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct iobus_range *r = &b->r[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return size <= r->len - (addr - r->base) ? r : NULL;
	}
	return NULL;
}

int iobus_read(struct iobus *b, uint64_t addr, uint8_t *data, unsigned size)
{
	const struct iobus_range *r = lookup(b, addr, size);
	if (!r || !r->ops->read) {
		memset(data, 0xff, size);
		__atomic_add_fetch(&b->unclaimed, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (r->lock)
		pthread_mutex_lock(r->lock);
	r->ops->read(r->dev, addr - r->base, data, size);
	if (r->lock)
		pthread_mutex_unlock(r->lock);
	return 1;
}

int iobus_write(struct iobus *b, uint64_t addr, const uint8_t *data, unsigned size)
{
	const struct iobus_range *r = lookup(b, addr, size);
	if (!r || !r->ops->write) {
		__atomic_add_fetch(&b->unclaimed, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (r->lock)
		pthread_mutex_lock(r->lock);
	r->ops->write(r->dev, addr - r->base, data, size);
	if (r->lock)
		pthread_mutex_unlock(r->lock);
	return 1;
}
