/* SPDX-License-Identifier: Apache-2.0 */
/* The live-migration stream (docs/vm.md, MIGRATION): one TCP connection,
 * opened by the source. The source first sends a preamble (magic
 * "CAPSAMIG" and the stream version, 16 bytes); after it both sides send
 * records: a header (type, payload length, CRC-32 of the payload) and the
 * payload. All numbers are little-endian.
 *
 *   source -> target  MIG_HELLO    the machine: a snapshot header (format.h),
 *                                  the VM's configuration section, struct
 *                                  mig_hello_devices with the snapshot's
 *                                  device section (configuration only, no
 *                                  device records) and disk section
 *                                  (identities) or two zero lengths, and
 *                                  vCPU 0's CPUID table
 *   target -> source  MIG_ACCEPT   a VM of that machine exists here, or
 *                     MIG_REFUSE   why not (text)
 *   source -> target  MIG_PAGES    page records: a 64-bit word (offset in
 *                                  guest RAM | flags), then the 4 KiB of
 *                                  data unless MIG_PAGE_ZERO is set
 *   source -> target  MIG_SYNC     (no payload) answer once every record
 *                                  before this one is applied
 *   target -> source  MIG_SYNC     (no payload) the answer
 *   source -> target  MIG_STATE    the state sections as a snapshot file
 *                                  holds them (header and sections, memory
 *                                  excluded), after the last pages
 *   target -> source  MIG_RUNNING  the VM runs on the target, or
 *                     MIG_FAILED   why it cannot (text)
 */
#ifndef CAPSA_VM_MIGRATE_STREAM_H
#define CAPSA_VM_MIGRATE_STREAM_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define MIG_MAGIC      "CAPSAMIG"
#define MIG_VERSION    3
#define MIG_PAGE       4096
#define MIG_PAGE_ZERO  1ULL /* flag in a page word: the page is all zero */
#define MIG_MAX_RECORD (64u << 20)

enum mig_record {
	MIG_HELLO = 1,
	MIG_ACCEPT,
	MIG_REFUSE,
	MIG_PAGES,
	MIG_STATE,
	MIG_RUNNING,
	MIG_FAILED,
	MIG_SYNC,
};

/* In MIG_HELLO after the configuration section: the lengths of the device
 * and disk sections that follow (both zero for a VM without devices). */
struct mig_hello_devices {
	uint32_t dev_len;
	uint32_t disk_len;
};

struct mig_record_header {
	uint32_t type;
	uint32_t len;
	uint32_t crc; /* CRC-32 (zlib) of the payload */
	uint32_t pad;
};

/* "tcp:HOST:PORT" (HOST a name or IPv4 address, or [IPv6]) into *sa;
 * ERR_INPUT naming `what` (the option) and the value when it is not one. */
int mig_parse_addr(const char *spec, const char *what, struct sockaddr_storage *sa,
                   socklen_t *salen, struct err *e);
/* Connect with a timeout (seconds) and set the stream's socket options. */
int mig_connect(const struct sockaddr_storage *sa, socklen_t salen, double timeout, int *fd,
                struct err *e);
/* Small records (the answers, the last pages) go out at once (no Nagle
 * delay). */
void mig_set_nodelay(int fd);
/* Every later read or write on fd gives up after `seconds`. */
void mig_set_timeout(int fd, double seconds);

int mig_send_preamble(int fd, struct err *e);
/* ERR_INPUT if the peer did not send a capsa stream of this version. */
int mig_recv_preamble(int fd, struct err *e);

int mig_send(int fd, uint32_t type, const void *buf, size_t len, struct err *e);
/* Receive one record of at most `max` bytes: *buf malloc'd (NUL-terminated
 * one byte past *len). A short read, a bad checksum or length is
 * ERR_INPUT naming it; a closed or timed-out connection ERR_SYSTEM. */
int mig_recv(int fd, uint32_t *type, void **buf, size_t *len, size_t max, struct err *e);

#endif
