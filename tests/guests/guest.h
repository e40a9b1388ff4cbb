/* SPDX-License-Identifier: Apache-2.0 */
/* Internal interfaces of the freestanding capsa test guest. */
#ifndef CAPSA_GUEST_H
#define CAPSA_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"

#define EXIT_PORT  0x501 /* writing V ends the VM with status V */
#define COM1_PORT  0x3f8
#define MAX_MEMMAP 64

struct memmap_entry {
	uint64_t start, size;
	uint32_t type;
};

/* What the loader told us, from either boot protocol. */
struct bootinfo {
	uint32_t kind; /* BOOT_* */
	uint64_t info_paddr;
	const char *cmdline; /* never NULL */
	uint32_t nmem;
	struct memmap_entry mem[MAX_MEMMAP];
	uint32_t mem_total; /* entries the loader listed (may exceed MAX_MEMMAP) */
	uint64_t initrd_addr, initrd_size;
	const char *problem; /* set when the boot information looked wrong */
};

void bootinfo_parse(uint32_t kind, uint64_t info, struct bootinfo *bi);
const char *boot_kind_name(uint32_t kind);

/* print.c: serial output (COM1), safe to call from every CPU and from CPL3. */
void gputs(const char *s);
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* lib.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
/* Value of key=VALUE in a command line (copied to out, NUL-terminated); 0 if absent. */
int cmdline_get(const char *cmdline, const char *key, char *out, size_t outsz);
/* Numeric key=N (decimal or 0x hex); dflt if absent or malformed. */
uint64_t cmdline_num(const char *cmdline, const char *key, uint64_t dflt);

/* exit.c: ending the VM. */
void guest_exit(uint32_t code) __attribute__((noreturn)); /* CPL0 or CPL3 */
void guest_reset(void) __attribute__((noreturn));         /* CPL0 */
void triple_fault(void) __attribute__((noreturn));        /* CPL0 */
void halt_forever(void) __attribute__((noreturn));        /* CPL0 */

/* entry.S */
void enter_user(void (*fn)(uint64_t), uint64_t arg, void *stack_top) __attribute__((noreturn));
extern char ap_tramp_start[], ap_tramp_end[], ap_stacks[];
extern volatile uint32_t ap_next_slot;

/* Tests. */
void test_bootinfo(const struct bootinfo *bi) __attribute__((noreturn));
void test_ports(void) __attribute__((noreturn));
void test_cpl3(uint64_t iters) __attribute__((noreturn));
void test_cpuid(void) __attribute__((noreturn));
void test_count(uint64_t lines, uint64_t work, const char *cmdline)
    __attribute__((noreturn));                   /* count.c */
void test_dirty(void) __attribute__((noreturn)); /* dirty.c */
void test_smp(const struct bootinfo *bi, int halt) __attribute__((noreturn));
void ap_main(void);
/* virtio.c: returns only if `test` is not one of its tests */
void test_virtio(const char *cmdline, const char *test);
/* The first virtio-blk device for other tests (at CPL3): 0 when ready; then
 * one request at a time, the device's status byte returned (0: done). */
int guest_blk_open(const char *cmdline);
int guest_blk_io(int write, uint64_t sector, void *buf, uint32_t len);
void test_virtio_net(const char *cmdline, const char *test); /* virtio_net.c */
/* Run fn(arg) at CPL3 on the user stack; never returns. */
void run_user(void (*fn)(uint64_t), uint64_t arg) __attribute__((noreturn));

#endif
