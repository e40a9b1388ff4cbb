/* SPDX-License-Identifier: Apache-2.0 */
/* The snapshot file: a running VM as one file (docs/vm.md, SNAPSHOTS).
 *
 * Layout (little-endian, every offset from the file's start):
 *   0      struct snap_header (4 KiB reserved): magic, format version, the
 *          machine (vCPUs, memory, accelerator it was taken on, CPU vendor
 *          and feature words), a table of sections, and a CRC-32 of the
 *          header itself.
 *   ...    sections, each at the offset and with the size and CRC-32 the
 *          table gives: SNAP_SEC_CONFIG, _VCPUS, _IRQCHIP, _LEGACY, _CPUID,
 *          and for VMs with virtio devices _DEVICES and _DISKS (devices.h);
 *          a snapshot taken with its disks has each disk's data as a
 *          page-aligned raw image before memory.
 *   ...    guest RAM in one of three forms (exactly one section):
 *          SNAP_SEC_MEMZ (version 3, the default): the RAM in fixed-size
 *          chunks, each compressed on its own, and an index that gives a
 *          chunk's kind (zero, raw, zstd; version 4 also LZ4), place,
 *          length, CRC-32 and (version 4) whether it is hot: in the guest's
 *          working set when the snapshot was taken (memz.h); (version 5)
 *          whether it is mapped: stored raw at a page-aligned offset.
 *          Version 3 has an entry for every chunk, before the chunks;
 *          versions 4 and 5 one for every chunk that is not all zero,
 *          after them.
 *          Restore maps the mapped chunks privately from the file over
 *          guest memory (adjacent ones with one mmap), registers the rest
 *          with userfaultfd, starts filling the other hot chunks at once
 *          (while the VM is set up and then between faults) and
 *          decompresses any other chunk when something first touches it;
 *          the mapped chunks' CRCs are checked by the fill thread while no
 *          fault waits. Without userfaultfd everything is read at once.
 *          Version 3 wrote 256 KiB zstd chunks; version 4 16 KiB chunks,
 *          hot ones as LZ4 (quicker to decompress), the others as zstd
 *          (smaller); version 5 writes the hot ones raw and mapped, in
 *          chunk order from a page boundary on, before the others.
 *          SNAP_SEC_MEMORY (the raw form, page aligned): one image of the
 *          full size; all-zero pages are holes (not written), so they take
 *          no space and read back as zero. Restore maps it privately, so
 *          pages load on first touch and the guest never writes the file.
 *          The migration stream's state image names this form too.
 *          SNAP_SEC_MEMFILE (version 3): the RAM is a raw image in a file of
 *          its own (Firecracker's mem_file_path), named when loading; the
 *          section records its size.
 *
 * The header, every section except memory and the memory index are
 * verified on every load; the raw image's CRC or the chunks' CRCs only on
 * request (`capsa vm snapshot verify`); a chunk's CRC also whenever a
 * restore decompresses it, and a mapped chunk's once the restored VM runs. A separate memory file
 * has no checksum. */
#ifndef CAPSA_VM_SNAPSHOT_FORMAT_H
#define CAPSA_VM_SNAPSHOT_FORMAT_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC "CAPSAVM\0"
#define SNAP_VERSION                                                                               \
	5 /* 5: hot chunks raw and page aligned, mapped on restore; 4: LZ4 chunks                  \
	     and hot chunks in the memory index; 3: compressed or separate memory;                 \
	     2: device and disk sections; 1 to 4 are read too */
#define SNAP_HEADER_SIZE  4096
#define SNAP_PAGE         4096
#define SNAP_MAX_SECTIONS 8
#define SNAP_MAX_CPUID    256 /* entries */

enum snap_section_type {
	SNAP_SEC_CONFIG = 1,   /* struct snap_config */
	SNAP_SEC_VCPUS = 2,    /* cpus x struct x86_vcpu_state */
	SNAP_SEC_IRQCHIP = 3,  /* struct x86_irqchip_state */
	SNAP_SEC_LEGACY = 4,   /* struct snap_legacy */
	SNAP_SEC_MEMORY = 5,   /* guest RAM, page aligned */
	SNAP_SEC_CPUID = 6,    /* vCPU 0's CPUID table (struct cpuid_entry[]) */
	SNAP_SEC_DEVICES = 7,  /* virtio configuration and device states (devices.h) */
	SNAP_SEC_DISKS = 8,    /* disk identities and data places (devices.h) */
	SNAP_SEC_MEMZ = 9,     /* guest RAM in compressed chunks (memz.h) */
	SNAP_SEC_MEMFILE = 10, /* struct snap_memfile: guest RAM is in another file */
};

struct snap_memfile {
	uint64_t size; /* bytes of RAM the file holds (the header's memory) */
	uint64_t pad;
};

struct snap_section {
	uint32_t type;
	uint32_t crc; /* CRC-32 (zlib) of the section's bytes */
	uint64_t offset, size;
};

struct snap_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size; /* sizeof(struct snap_header) when written */
	uint64_t file_size;
	uint32_t cpus;
	uint32_t accel; /* enum accel_kind the snapshot was taken on */
	uint64_t memory;
	char cpu_vendor[16]; /* CPUID 0 vendor string the guest saw */
	uint32_t cpu_sig;    /* CPUID 1 eax */
	uint32_t feat1_ecx, feat1_edx, feat7_ebx, feat7_ecx, feat7_edx;
	uint32_t vcpu_state_size, irqchip_size; /* layout checks */
	uint32_t nsections;
	uint32_t pad;
	struct snap_section sec[SNAP_MAX_SECTIONS];
	uint32_t header_crc; /* CRC-32 of every byte before this field */
};

/* Check a header read from a file of `file_size` bytes: magic, version,
 * CRC, section bounds and the layout sizes this build uses. ERR_INPUT
 * naming what is wrong. */
int snap_header_check(const struct snap_header *h, uint64_t file_size, struct err *e);
/* The checks of snap_header_check that need no file: magic, version,
 * header CRC, layout sizes (a migration stream's header). */
int snap_header_ident_check(const struct snap_header *h, struct err *e);
/* The section of `type`, or NULL. */
const struct snap_section *snap_find(const struct snap_header *h, uint32_t type);
/* Read a section into buf (exactly `size` bytes expected) and verify its CRC. */
int snap_read_section(int fd, const struct snap_header *h, uint32_t type, void *buf, size_t size,
                      struct err *e);
/* CRC-32 of the header's bytes before header_crc. */
uint32_t snap_header_crc(const struct snap_header *h);
/* Write / read exactly len bytes at off (EINTR retried); a short read is
 * ERR_INPUT "snapshot is truncated". */
int snap_pwrite_all(int fd, const void *buf, size_t len, uint64_t off, struct err *e);
int snap_pread_all(int fd, void *buf, size_t len, uint64_t off, struct err *e);
/* CRC-32 of `len` bytes of fd at `off` (memory verification). */
int snap_crc_range(int fd, uint64_t off, uint64_t len, uint32_t *crc, struct err *e);

#endif
