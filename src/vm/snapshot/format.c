/* SPDX-License-Identifier: Apache-2.0 */
/* See format.h. Everything read from the file is checked before it is
 * used: a truncated, corrupted or foreign file is refused with one line. */
#include "vm/snapshot/format.h"

#include "devices/x86/irqchip.h"
#include "vm/x86/state.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

_Static_assert(sizeof(struct snap_header) <= SNAP_HEADER_SIZE, "snapshot header too large");

uint32_t snap_header_crc(const struct snap_header *h)
{
	return (uint32_t)crc32(0, (const Bytef *)h, offsetof(struct snap_header, header_crc));
}

const struct snap_section *snap_find(const struct snap_header *h, uint32_t type)
{
	for (uint32_t i = 0; i < h->nsections && i < SNAP_MAX_SECTIONS; i++)
		if (h->sec[i].type == type)
			return &h->sec[i];
	return NULL;
}

int snap_header_ident_check(const struct snap_header *h, struct err *e)
{
	if (memcmp(h->magic, SNAP_MAGIC, 8))
		return err_set(e, ERR_INPUT, "not a capsa snapshot (bad magic or too short)");
	if (h->version < 1 || h->version > SNAP_VERSION)
		return err_set(e, ERR_INPUT, "snapshot format version %u, this capsa reads 1 to %u",
		               h->version, SNAP_VERSION);
	if (h->header_size != sizeof(*h) || snap_header_crc(h) != h->header_crc)
		return err_set(e, ERR_INPUT, "snapshot header is corrupt (checksum mismatch)");
	if (h->vcpu_state_size != sizeof(struct x86_vcpu_state) ||
	    h->irqchip_size != sizeof(struct x86_irqchip_state))
		return err_set(e, ERR_INPUT, "snapshot state layout differs from this capsa's");
	return 0;
}

/* Exactly one memory section, in a form the header's version has. */
static int memory_check(const struct snap_header *h, struct err *e)
{
	const struct snap_section *m = snap_find(h, SNAP_SEC_MEMORY);
	const struct snap_section *z = snap_find(h, SNAP_SEC_MEMZ);
	const struct snap_section *f = snap_find(h, SNAP_SEC_MEMFILE);
	if (!!m + !!z + !!f != 1 || (h->version < 3 && !m))
		return err_set(e, ERR_INPUT, "snapshot lacks a memory section or has several");
	if (m && (m->offset % SNAP_PAGE || m->size != h->memory))
		return err_set(e, ERR_INPUT, "snapshot memory section is misplaced");
	if (f && f->size != sizeof(struct snap_memfile))
		return err_set(e, ERR_INPUT, "snapshot memory file section has the wrong size");
	return 0;
}

int snap_header_check(const struct snap_header *h, uint64_t file_size, struct err *e)
{
	if (file_size < sizeof(*h))
		return err_set(e, ERR_INPUT, "not a capsa snapshot (bad magic or too short)");
	if (snap_header_ident_check(h, e))
		return -1;
	if (h->file_size != file_size)
		return err_set(e, ERR_INPUT,
		               "snapshot file is %llu bytes, its header says %llu (truncated?)",
		               (unsigned long long)file_size, (unsigned long long)h->file_size);
	if (h->nsections > SNAP_MAX_SECTIONS)
		return err_set(e, ERR_INPUT, "snapshot has %u sections, at most %d allowed",
		               h->nsections, SNAP_MAX_SECTIONS);
	for (uint32_t i = 0; i < h->nsections; i++) {
		const struct snap_section *s = &h->sec[i];
		if (s->offset < SNAP_HEADER_SIZE || s->offset > file_size ||
		    s->size > file_size - s->offset)
			return err_set(e, ERR_INPUT, "snapshot section %u lies outside the file",
			               i);
	}
	static const uint32_t need[] = {SNAP_SEC_CONFIG, SNAP_SEC_VCPUS, SNAP_SEC_IRQCHIP,
	                                SNAP_SEC_LEGACY, SNAP_SEC_CPUID};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!snap_find(h, need[i]))
			return err_set(e, ERR_INPUT, "snapshot lacks section type %u", need[i]);
	return memory_check(h, e);
}

int snap_read_section(int fd, const struct snap_header *h, uint32_t type, void *buf, size_t size,
                      struct err *e)
{
	const struct snap_section *s = snap_find(h, type);
	if (!s || s->size != size)
		return err_set(e, ERR_INPUT, "snapshot section type %u has the wrong size", type);
	if (snap_pread_all(fd, buf, size, s->offset, e))
		return -1;
	if ((uint32_t)crc32(0, buf, (uInt)size) != s->crc)
		return err_set(e, ERR_INPUT,
		               "snapshot section type %u is corrupt (checksum mismatch)", type);
	return 0;
}

int snap_pread_all(int fd, void *buf, size_t len, uint64_t off, struct err *e)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(e, "reading the snapshot");
		if (n == 0)
			return err_set(e, ERR_INPUT, "snapshot is truncated");
		got += (size_t)n;
	}
	return 0;
}

int snap_pwrite_all(int fd, const void *buf, size_t len, uint64_t off, struct err *e)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_sys(e, "writing the snapshot");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int snap_crc_range(int fd, uint64_t off, uint64_t len, uint32_t *crc, struct err *e)
{
	enum { CHUNK = 1 << 20 };
	char *buf = malloc(CHUNK);
	if (!buf)
		return err_sys(e, "allocating");
	uLong c = crc32(0, NULL, 0);
	while (len) {
		size_t want = len < CHUNK ? (size_t)len : CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? err_sys(e, "reading the snapshot")
			             : err_set(e, ERR_INPUT, "snapshot is truncated");
		}
		c = crc32(c, (const Bytef *)buf, (uInt)n);
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	free(buf);
	*crc = (uint32_t)c;
	return 0;
}
