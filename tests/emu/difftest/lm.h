/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal 64-bit machine for the software CPU's tests: GDT, TSS, an IDT
 * whose 256 handlers are small stubs, and a long-mode register state at
 * CPL 0 or 3. Used by the differential tester and the CPU fuzz target. */
#ifndef CAPSA_TESTS_EMU_DT_LM_H
#define CAPSA_TESTS_EMU_DT_LM_H

#include "mem/guest_mem.h"
#include "vm/x86/state.h"

#include <stdint.h>

/* Where the tables live (guest physical = linear addresses). */
struct dt_lm {
	uint64_t pml4;    /* CR3 */
	uint64_t gdt;     /* 8 entries */
	uint64_t idt;     /* 256 gates */
	uint64_t tss;     /* 104 bytes */
	uint64_t stubs;   /* 256 handlers of DT_STUB_SIZE bytes */
	uint64_t rsp0;    /* kernel stack top (TSS.RSP0) */
	uint64_t counter; /* DT_STUB_IRET: 8-byte counter each handler increments */
};

enum dt_stub {
	DT_STUB_OUT,  /* out (0x80 + vector & 0x3f), al; jmp $ */
	DT_STUB_IRET, /* count, drop the error code, iretq; hlt after DT_STUB_MAX */
	DT_STUB_HLT,  /* hlt in a loop */
};
#define DT_STUB_SIZE   32
#define DT_STUB_MAX    64
#define DT_PORT_DONE   0xf4
#define DT_PORT_VECTOR 0x80

/* Write GDT, TSS, IDT and stubs; -1 if outside guest memory. */
int dt_lm_tables(const struct guest_mem *gm, const struct dt_lm *l, enum dt_stub kind);
/* Long mode, paging on (CR3 = l->pml4), flat segments at `cpl`, IOPL 3. */
void dt_lm_state(struct x86_vcpu_state *s, const struct dt_lm *l, int cpl);

#endif
