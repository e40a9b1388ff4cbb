/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the software x86-64 CPU shared by its source files.
 *
 * Execution model. Guest code is decoded once into blocks of `struct
 * emu_insn` (decode.c); a block starts at a guest physical address, ends at
 * a control transfer, a system instruction or the end of its page, and is
 * keyed by that address and the mode bits that change decoding (block.c).
 * The run loop (cpu.c) looks a block up, runs its instructions by calling
 * each one's handler, and between blocks checks for cross-thread requests
 * (kick, interrupts, NMI, INIT/SIPI) and the instruction budget.
 *
 * While a block runs, `c->rip` holds the address of the block's first
 * instruction; an instruction's own address is `c->rip + i->off` and the
 * next one's `c->rip + i->end` (emu_next_rip). A handler that transfers
 * control writes the new `c->rip` and returns 1 (the block ends); any other
 * handler returns 0. Exceptions unwind with longjmp (emu_raise): the fault's
 * RIP is computed from `c->cur`, the instruction being executed.
 *
 * Adding an instruction handler (sse.c / x87.c and the exec_*.c files):
 *
 *   static int op_foo(struct emu_cpu *c, struct emu_insn *i)
 *   {
 *           if (c->s.cr0 & EMU_CR0_TS) emu_raise(c, EMU_NM, EMU_NOERR, 0);  // or emu_fp_check(c)
 *           uint64_t la = emu_ea(c, i);           // only if i->mem: linear address of r/m
 *           uint32_t v = emu_rd32(c, la);         // may raise #PF/#GP: never returns then
 *           emu_wrn(c, la, buf, 16);              // any length; checks the whole range
 *           c->s.gpr[i->reg] = v;                 // ModRM.reg with REX.R (0..15)
 *           uint8_t *x = emu_xmm(c, i->reg);      // XMM register bytes (FXSAVE image)
 *           return 0;                             // fall through to the next instruction
 *                                                 // (EMU_NEXT(c, i) does so without a
 *                                                 // return to the dispatch loop)
 *   }
 *
 * Operands: i->reg is ModRM.reg (+REX.R), i->rm the register operand when
 * i->mem is 0 (+REX.B), i->ext the 3-bit ModRM.reg (group opcodes), i->imm
 * the immediate, i->pfx the EMU_PFX_* prefixes (66/F2/F3 select the SSE
 * form), i->op the last opcode byte and i->modrm the ModRM byte. Raise
 * exceptions with emu_raise(c, vector, has_error_code, code) or the
 * shorthands emu_ud(c), emu_gp0(c); they do not return. Guest memory is
 * accessed only through the emu_rd / emu_wr helpers (never via pointers
 * kept across instructions). SSE exceptions: raise EMU_XM if CR4.OSXMMEXCPT
 * else EMU_UD when an unmasked MXCSR exception occurs. */
#ifndef CAPSA_VM_EMU_INTERNAL_H
#define CAPSA_VM_EMU_INTERNAL_H

#include "mem/dirty.h"
#include "vm/emu/cpu.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define EMU_LIKELY(x)   __builtin_expect(!!(x), 1)
#define EMU_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- exceptions ---- */
enum {
	EMU_DE = 0,
	EMU_DB = 1,
	EMU_NMI = 2,
	EMU_BP = 3,
	EMU_OF = 4,
	EMU_BR = 5,
	EMU_UD = 6,
	EMU_NM = 7,
	EMU_DF = 8,
	EMU_TS = 10,
	EMU_NP = 11,
	EMU_SS = 12,
	EMU_GP = 13,
	EMU_PF = 14,
	EMU_MF = 16,
	EMU_AC = 17,
	EMU_MC = 18,
	EMU_XM = 19,
};
#define EMU_NOERR 0
#define EMU_ERR   1

/* ---- control register / flag bits ---- */
#define EMU_CR0_PE         (1ULL << 0)
#define EMU_CR0_MP         (1ULL << 1)
#define EMU_CR0_EM         (1ULL << 2)
#define EMU_CR0_TS         (1ULL << 3)
#define EMU_CR0_ET         (1ULL << 4)
#define EMU_CR0_NE         (1ULL << 5)
#define EMU_CR0_WP         (1ULL << 16)
#define EMU_CR0_AM         (1ULL << 18)
#define EMU_CR0_PG         (1ULL << 31)
#define EMU_CR4_PSE        (1ULL << 4)
#define EMU_CR4_PAE        (1ULL << 5)
#define EMU_CR4_PGE        (1ULL << 7)
#define EMU_CR4_OSFXSR     (1ULL << 9)
#define EMU_CR4_OSXMMEXCPT (1ULL << 10)
#define EMU_EFER_SCE       (1ULL << 0)
#define EMU_EFER_LME       (1ULL << 8)
#define EMU_EFER_LMA       (1ULL << 10)
#define EMU_EFER_NXE       (1ULL << 11)

#define EMU_F_CF    0x0001u
#define EMU_F_PF    0x0004u
#define EMU_F_AF    0x0010u
#define EMU_F_ZF    0x0040u
#define EMU_F_SF    0x0080u
#define EMU_F_TF    0x0100u
#define EMU_F_IF    0x0200u
#define EMU_F_DF    0x0400u
#define EMU_F_OF    0x0800u
#define EMU_F_IOPL  0x3000u
#define EMU_F_NT    0x4000u
#define EMU_F_RF    0x10000u
#define EMU_F_VM    0x20000u
#define EMU_F_AC    0x40000u
#define EMU_F_VIF   0x80000u
#define EMU_F_VIP   0x100000u
#define EMU_F_ID    0x200000u
#define EMU_F_ARITH (EMU_F_CF | EMU_F_PF | EMU_F_AF | EMU_F_ZF | EMU_F_SF | EMU_F_OF)

/* ---- guest RAM shared by the vCPUs ---- */
struct emu_mem {
	struct guest_mem gm;
	uint64_t npages; /* pages covered by gen/code: up to the end of the highest region */
	/* Per 4 KiB physical page: a generation that changes whenever the page
	 * is written while decoded code exists for it, and a flag saying that
	 * some vCPU decoded code from it since the last such write. */
	_Atomic uint32_t *gen;
	_Atomic uint8_t *code;
	/* Serializes LOCKed accesses that cannot use a host atomic (crossing a
	 * page, or MMIO). */
	pthread_mutex_t lock;
	/* Pages written while dirty logging is on. Stores mark a page when a
	 * TLB entry first allows writing it; a resync (EMU_REQ_DIRTY) drops
	 * write permission from every entry, marking their pages, so the next
	 * store to each page goes through the TLB fill again. */
	struct gm_dirty dirty;
};

/* Host pointer for one guest-physical page of RAM, or NULL. */
static inline uint8_t *emu_mem_page(const struct emu_mem *m, uint64_t pa)
{
	return gm_ptr(&m->gm, pa & ~0xfffULL, 4096);
}
/* A vCPU wrote page `pfn` that has code: invalidate its blocks. */
void emu_mem_code_written(struct emu_mem *m, uint64_t pfn);

/* ---- decoded instructions and blocks ---- */
struct emu_cpu;
struct emu_insn;
typedef int (*emu_fn)(struct emu_cpu *c, struct emu_insn *i);

#define EMU_PFX_66   0x01u
#define EMU_PFX_F2   0x02u
#define EMU_PFX_F3   0x04u
#define EMU_PFX_LOCK 0x08u
#define EMU_PFX_REX  0x10u /* any REX prefix (byte registers SPL..DIL) */
#define EMU_PFX_REXW 0x20u

#define EMU_NOREG  0xffu
#define EMU_RIPREL 16u /* base = RIP (next instruction) */

struct emu_insn {
	emu_fn fn;
	uint64_t imm;  /* immediate (sign- or zero-extended as the opcode says) */
	int32_t disp;  /* memory displacement */
	uint16_t off;  /* offset of this instruction from the block start */
	uint16_t end;  /* offset of the next instruction */
	uint16_t imm2; /* second immediate: ENTER level, far pointer selector */
	uint8_t op;    /* last opcode byte */
	uint8_t modrm;
	uint8_t ext;   /* ModRM.reg (3 bits) */
	uint8_t reg;   /* ModRM.reg + REX.R (or register in the opcode) */
	uint8_t rm;    /* ModRM.rm + REX.B when mod == 3 */
	uint8_t reg8;  /* byte offset of the 8-bit register `reg` in gpr[] */
	uint8_t rm8;   /* byte offset of the 8-bit register `rm` in gpr[] */
	uint8_t mem;   /* 1: the r/m operand is in memory */
	uint8_t base;  /* EMU_NOREG, EMU_RIPREL or a GPR */
	uint8_t index; /* EMU_NOREG or a GPR */
	uint8_t scale; /* shift 0..3 */
	uint8_t seg;   /* effective segment (x86_sreg) */
	uint8_t osz;   /* operand size in bytes: 1, 2, 4, 8 */
	uint8_t asz;   /* address size in bytes: 2, 4, 8 */
	uint8_t pfx;   /* EMU_PFX_* */
	uint8_t map;   /* 0: one-byte map, 1: 0F, 2: 0F38, 3: 0F3A */
	uint8_t csz;   /* code size of the block: 2, 4, 8 */
};

/* Decoding depends on these: code size (16/32/64) and CPL-is-3 bits, and
 * single-stepping (RFLAGS.TF: blocks of one instruction). */
#define EMU_KEY_CPL3 16u
#define EMU_KEY_STEP 32u
struct emu_block {
	uint64_t pa;  /* physical address of the first byte */
	uint32_t key; /* mode bits at decode time */
	uint32_t gen0, gen1;
	uint64_t pfn0, pfn1;     /* pages the code lies in (pfn1 == pfn0 if one) */
	uint32_t ninsn;          /* guest instructions (without the end marker) */
	uint32_t len;            /* bytes */
	struct emu_block *hnext; /* hash chain */
	/* the last two blocks that followed this one (block chaining; each
	 * use is checked like a jump-cache hit) */
	struct {
		uint64_t la;
		uint32_t key;
		struct emu_block *b;
	} succ[2];
	uint32_t succ_next; /* slot to replace */
	/* the block that follows this one's final CALL when the callee
	 * returns (found through the return-address stack) */
	struct emu_block *ret_block;
	uint64_t ret_la;
	struct emu_insn insn[]; /* ninsn + 1 (end marker) */
};

/* ---- software TLB ---- */
#define EMU_TLB_BITS    8
#define EMU_TLB_SIZE    (1u << EMU_TLB_BITS)
#define EMU_TLB_INVALID 1ULL /* never equals a page-aligned address */

/* One entry maps a linear page for reads, writes and instruction fetch
 * separately (a tag is the page address if that access may use `addend`). */
struct emu_tlb_entry {
	uint64_t r, w, x;
	uintptr_t addend;      /* host = linear + addend */
	_Atomic uint8_t *code; /* the page's "has code" flag (stores check it) */
	uint64_t pa;           /* physical page */
	uint8_t global;
};

/* Access kinds for the slow paths and the page walk. */
enum emu_acc { EMU_ACC_R = 0, EMU_ACC_W = 1, EMU_ACC_X = 2 };

/* ---- the CPU ---- */
#define EMU_JC_SIZE 16384u

#define EMU_REQ_KICK  0x01u
#define EMU_REQ_INTR  0x02u
#define EMU_REQ_NMI   0x04u
#define EMU_REQ_INIT  0x08u
#define EMU_REQ_SIPI  0x10u
#define EMU_REQ_DIRTY 0x20u

/* Lazy flags: the last flag-setting operation. */
enum emu_lf {
	EMU_LF_NONE = 0, /* the arithmetic flags are in s.rflags */
	EMU_LF_ADD,
	EMU_LF_ADC,
	EMU_LF_SUB,
	EMU_LF_SBB,
	EMU_LF_LOGIC,
	EMU_LF_INC,
	EMU_LF_DEC,
	EMU_LF_SHL, /* lf_a: operand, lf_b: count (1..) */
	EMU_LF_SHR,
	EMU_LF_SAR,
	EMU_LF_MUL, /* lf_b: CF=OF value */
	/* a rotate after a lazy operation: SF/ZF/AF/PF are that operation's
	 * (kept in lf_sz/lf_res and the lf2_* copy), lf_b = CF | OF << 1 */
	EMU_LF_ROT,
};

/* pages used recently (recent.c) */
#define EMU_RECENT_MAX   2048 /* pages in the ring of recent ones */
#define EMU_RECENT_SHIFT 19   /* an epoch: 2^19 instructions */

struct emu_cpu {
	/* rip: the current block's first instruction while a block runs, else
	 * the next instruction (s.rip is only written by emu_cpu_get_state) */
	uint64_t rip;
	struct x86_vcpu_state s; /* rflags' arithmetic bits are stale unless lf_op is NONE */

	/* lazy flags: op, operand size in bytes, result and operands; for
	 * INC/DEC lf_b is the carry flag before the operation */
	uint32_t lf_op, lf_sz;
	uint64_t lf_res, lf_a, lf_b;
	uint32_t lf2_op; /* the operation under an EMU_LF_ROT */
	uint64_t lf2_a, lf2_b;

	/* current instruction while a block runs */
	struct emu_insn *cur;
	struct emu_block *blk;

	/* derived mode */
	uint8_t cpl;
	uint8_t code_sz;     /* 2, 4, 8 */
	uint8_t stack_sz;    /* 2, 4, 8: SS.B / long mode */
	uint8_t long_mode;   /* EFER.LMA */
	uint64_t la_mask;    /* 0xffffffff outside 64-bit mode */
	uint64_t segbase[6]; /* effective bases (0 for CS/DS/ES/SS in 64-bit mode) */

	/* TLBs: [0] supervisor accesses, [1] user accesses; tlb points at the one for the CPL */
	struct emu_tlb_entry tlbs[2][EMU_TLB_SIZE];
	struct emu_tlb_entry *tlb;
	uint8_t tlb_large; /* some entry came from a 2 MiB / 1 GiB page */
	/* pages TLB fills reached lately (recent.c): a ring of page numbers,
	 * and per page the epoch of its last entry in the ring */
	uint32_t recent[EMU_RECENT_MAX];
	unsigned recent_head;
	uint8_t *recent_stamp;
	uint64_t recent_npages;

	/* block cache */
	struct emu_block **hash; /* 1 << hash_bits chains, grown as blocks are added */
	unsigned hash_bits;
	uint32_t hash_blocks; /* blocks in the chains */
	uint8_t *arena;
	size_t arena_used, arena_cap;
	uint32_t arena_flushes; /* blocks decoded before a flush are gone */
	/* return-address stack: near CALLs push (return address, calling
	 * block); a RET that matches the top reuses the caller's ret_block */
	struct {
		uint64_t la;
		struct emu_block *b;
		uint32_t flushes;
	} rs[16];
	unsigned rs_top;
	uint8_t ret_pending;
	/* jump cache: linear RIP -> block, checked against the TLB on use */
	struct {
		uint64_t rip;
		uint32_t key;
		struct emu_block *b;
	} jc[EMU_JC_SIZE];

	/* exceptions in flight */
	jmp_buf jb;
	int exc_vec; /* being raised */
	int exc_has_err;
	uint32_t exc_err;
	int delivering;     /* vector being delivered, or -1 */
	int exc_trap;       /* rip already points after the instruction */
	uint64_t fault_rip; /* INT n: the instruction itself (for a #GP in delivery) */
	char shutdown_msg[48];

	/* RMW bounce buffer for accesses that cannot use a host pointer */
	uint8_t bounce[16] __attribute__((aligned(16)));
	uint64_t bounce_la;
	unsigned bounce_len;
	int bounce_locked;

	/* exits and requests */
	int exit_pending; /* an exit reason is set in exit_reason */
	enum emu_exit_reason exit_reason;
	char exit_msg[192];
	_Atomic uint32_t req; /* EMU_REQ_* from other threads */
	_Atomic uint8_t sipi_vec;
	uint64_t icount;
	uint64_t tsc_offset; /* guest TSC = clock + tsc_offset */
	uint64_t mtrr[28];   /* read back only: variable, fixed, default type */

	struct emu_mem *mem;
	struct emu_bus bus;
	const struct x86_clock *clock;
	unsigned index;
	struct cpuid_entry *cpuid;
	size_t ncpuid;
};

/* ---- exceptions (except.c) ---- */
_Noreturn void emu_raise(struct emu_cpu *c, int vec, int has_err, uint32_t err);
/* Deliver a trap-like event (INT n, INT3, INTO, single step): RIP is
 * already the next instruction. */
_Noreturn void emu_raise_trap(struct emu_cpu *c, int vec, int soft);
/* A state the CPU cannot represent: ends the run with EMU_EXIT_INTERNAL. */
_Noreturn void emu_internal(struct emu_cpu *c, const char *msg);
static inline _Noreturn void emu_ud(struct emu_cpu *c)
{
	emu_raise(c, EMU_UD, EMU_NOERR, 0);
}
static inline _Noreturn void emu_gp0(struct emu_cpu *c)
{
	emu_raise(c, EMU_GP, EMU_ERR, 0);
}
/* Deliver vector `vec` through the IDT now (used by the run loop).
 * `soft`: INT n (DPL check); `ext`: external event (EXT bit). */
void emu_deliver(struct emu_cpu *c, int vec, int has_err, uint32_t err, int soft, int ext);
/* Handle the exception recorded by emu_raise (run loop, after longjmp). */
void emu_exception(struct emu_cpu *c);

/* ---- memory (mmu.c) ---- */
uint64_t emu_ld_slow(struct emu_cpu *c, uint64_t la, unsigned len);
void emu_st_slow(struct emu_cpu *c, uint64_t la, unsigned len, uint64_t v);
void emu_rdn(struct emu_cpu *c, uint64_t la, void *dst, unsigned n);
void emu_wrn(struct emu_cpu *c, uint64_t la, const void *src, unsigned n);
/* Supervisor (implicit) accesses: descriptor tables, TSS, IDT. */
void emu_rd_sys(struct emu_cpu *c, uint64_t la, void *dst, unsigned n);
void emu_wr_sys(struct emu_cpu *c, uint64_t la, const void *src, unsigned n);
/* Host pointer of a writable RAM range in one page for a read-modify-write,
 * or the bounce buffer (filled) for anything else; emu_rmw_end writes the
 * bounce buffer back. LOCKed RMWs on the bounce buffer hold mem->lock. */
void *emu_rmw_begin_slow(struct emu_cpu *c, uint64_t la, unsigned len, int locked);
void emu_rmw_end_slow(struct emu_cpu *c);
/* Host pointer of the code page holding `la` (exec permission; raises
 * #PF) and its physical address. */
void emu_tlb_flush(struct emu_cpu *c, int keep_global);
void emu_tlb_flush_page(struct emu_cpu *c, uint64_t la);
/* Take write permission from every TLB entry, marking the pages they
 * allowed writing as dirty (EMU_REQ_DIRTY). */
void emu_tlb_drop_writes(struct emu_cpu *c);
const uint8_t *emu_fetch_page(struct emu_cpu *c, uint64_t la, uint64_t *pa_out);
/* Host pointer of the byte at `la` for an access of this kind by the
 * current CPL (valid to the end of its page), or NULL if it is not RAM.
 * A write pointer invalidates decoded code in the page first. */
uint8_t *emu_page_ptr(struct emu_cpu *c, uint64_t la, enum emu_acc acc);

/* ---- pages used recently (recent.c) ---- */
int emu_recent_init(struct emu_cpu *c);
void emu_recent_free(struct emu_cpu *c);
void emu_recent_add(struct emu_cpu *c, uint64_t pfn, uint8_t stamp);
/* Append the pages reached in this epoch and the one before to
 * pa[n..max); returns the new n. */
size_t emu_recent_pages(const struct emu_cpu *c, uint64_t *pa, size_t n, size_t max);
/* An epoch's stamp: 1 to 255 (0: never reached). */
static inline uint8_t emu_recent_stamp(uint64_t epoch)
{
	return (uint8_t)(1 + epoch % 255);
}
/* A TLB fill reached physical page pfn. */
static inline void emu_recent_note(struct emu_cpu *c, uint64_t pfn)
{
	uint8_t now = emu_recent_stamp(c->icount >> EMU_RECENT_SHIFT);
	if (EMU_LIKELY(pfn < c->recent_npages) && c->recent_stamp[pfn] != now)
		emu_recent_add(c, pfn, now);
}

static inline struct emu_tlb_entry *emu_tlbe(struct emu_cpu *c, uint64_t la)
{
	return &c->tlb[(la >> 12) & (EMU_TLB_SIZE - 1)];
}

#define EMU_DEF_RD(bits)                                                                           \
	static inline uint##bits##_t emu_rd##bits(struct emu_cpu *c, uint64_t la)                  \
	{                                                                                          \
		struct emu_tlb_entry *e = emu_tlbe(c, la);                                         \
		if (EMU_LIKELY(e->r == (la & ~0xfffULL) && (la & 0xfff) <= 0x1000 - (bits) / 8)) { \
			uint##bits##_t v;                                                          \
			memcpy(&v, (const void *)(e->addend + la), sizeof(v));                     \
			return v;                                                                  \
		}                                                                                  \
		return (uint##bits##_t)emu_ld_slow(c, la, (bits) / 8);                             \
	}
EMU_DEF_RD(8)
EMU_DEF_RD(16)
EMU_DEF_RD(32)
EMU_DEF_RD(64)

#define EMU_DEF_WR(bits)                                                                           \
	static inline void emu_wr##bits(struct emu_cpu *c, uint64_t la, uint##bits##_t v)          \
	{                                                                                          \
		struct emu_tlb_entry *e = emu_tlbe(c, la);                                         \
		if (EMU_LIKELY(e->w == (la & ~0xfffULL) && (la & 0xfff) <= 0x1000 - (bits) / 8 &&  \
		               !atomic_load_explicit(e->code, memory_order_relaxed))) {            \
			memcpy((void *)(e->addend + la), &v, sizeof(v));                           \
			return;                                                                    \
		}                                                                                  \
		emu_st_slow(c, la, (bits) / 8, v);                                                 \
	}
EMU_DEF_WR(8)
EMU_DEF_WR(16)
EMU_DEF_WR(32)
EMU_DEF_WR(64)

/* Read of `len` (1,2,4,8) bytes, zero-extended. */
static inline uint64_t emu_rd(struct emu_cpu *c, uint64_t la, unsigned len)
{
	switch (len) {
	case 1:
		return emu_rd8(c, la);
	case 2:
		return emu_rd16(c, la);
	case 4:
		return emu_rd32(c, la);
	default:
		return emu_rd64(c, la);
	}
}
static inline void emu_wr(struct emu_cpu *c, uint64_t la, unsigned len, uint64_t v)
{
	switch (len) {
	case 1:
		emu_wr8(c, la, (uint8_t)v);
		break;
	case 2:
		emu_wr16(c, la, (uint16_t)v);
		break;
	case 4:
		emu_wr32(c, la, (uint32_t)v);
		break;
	default:
		emu_wr64(c, la, v);
		break;
	}
}

static inline void *emu_rmw_begin(struct emu_cpu *c, uint64_t la, unsigned len, int locked)
{
	struct emu_tlb_entry *e = emu_tlbe(c, la);
	if (EMU_LIKELY(e->w == (la & ~0xfffULL) && (la & 0xfff) <= 0x1000 - len &&
	               !atomic_load_explicit(e->code, memory_order_relaxed)))
		return (void *)(e->addend + la);
	return emu_rmw_begin_slow(c, la, len, locked);
}
static inline void emu_rmw_end(struct emu_cpu *c, void *p)
{
	if (EMU_UNLIKELY(p == (void *)c->bounce))
		emu_rmw_end_slow(c);
}

/* Offset of the memory operand within its segment (what LEA computes),
 * cut to the address size. */
static inline uint64_t emu_offset(struct emu_cpu *c, const struct emu_insn *i)
{
	uint64_t a = (uint64_t)(int64_t)i->disp;
	if (i->base < 16)
		a += c->s.gpr[i->base];
	else if (i->base == EMU_RIPREL)
		a += c->rip + i->end;
	if (i->index != EMU_NOREG)
		a += c->s.gpr[i->index] << i->scale;
	if (i->asz == 4)
		a = (uint32_t)a;
	else if (i->asz == 2)
		a = (uint16_t)a;
	return a;
}

/* Effective (linear) address of the memory operand. */
static inline uint64_t emu_ea(struct emu_cpu *c, const struct emu_insn *i)
{
	return (emu_offset(c, i) + c->segbase[i->seg]) & c->la_mask;
}

/* End of a handler that falls through: run the next instruction of the
 * block directly (a tail call), instead of returning to the dispatch loop. */
#define EMU_NEXT(c, i)                                                                             \
	do {                                                                                       \
		struct emu_insn *next_ = (i) + 1;                                                  \
		(c)->cur = next_;                                                                  \
		return next_->fn((c), next_);                                                      \
	} while (0)

/* emu_ea for [base + disp] in 64-bit mode with a 64-bit address (chosen at
 * decode time by the handlers that use it) */
static inline uint64_t emu_ea_b64(struct emu_cpu *c, const struct emu_insn *i)
{
	return c->s.gpr[i->base] + (uint64_t)(int64_t)i->disp + c->segbase[i->seg];
}

static inline uint64_t emu_next_rip(const struct emu_cpu *c, const struct emu_insn *i)
{
	return c->rip + i->end;
}

/* A near CALL to `ret` (an offset in CS) was made from the running block. */
static inline void emu_rs_push(struct emu_cpu *c, uint64_t ret)
{
	unsigned k = c->rs_top++ & 15;
	c->rs[k].la = (ret + c->segbase[X86_CS]) & c->la_mask;
	c->rs[k].b = c->blk;
	c->rs[k].flushes = c->arena_flushes;
}

/* ---- registers ---- */
static inline uint8_t *emu_r8p(struct emu_cpu *c, unsigned off)
{
	return (uint8_t *)c->s.gpr + off;
}
static inline uint64_t emu_getreg(const struct emu_cpu *c, unsigned r, unsigned sz)
{
	uint64_t v = c->s.gpr[r];
	switch (sz) {
	case 2:
		return (uint16_t)v;
	case 4:
		return (uint32_t)v;
	default:
		return v;
	}
}
/* Write with x86 semantics: 32-bit writes zero the upper half, 16-bit keep it. */
static inline void emu_setreg(struct emu_cpu *c, unsigned r, unsigned sz, uint64_t v)
{
	switch (sz) {
	case 2:
		c->s.gpr[r] = (c->s.gpr[r] & ~0xffffULL) | (uint16_t)v;
		break;
	case 4:
		c->s.gpr[r] = (uint32_t)v;
		break;
	default:
		c->s.gpr[r] = v;
		break;
	}
}
static inline uint8_t *emu_xmm(struct emu_cpu *c, unsigned n)
{
	return &c->s.fx.bytes[160 + 16 * n];
}

/* ---- flags (flags.c) ---- */
uint64_t emu_flags(struct emu_cpu *c); /* full RFLAGS, materialized */
void emu_flags_materialize(struct emu_cpu *c);
int emu_cond_slow(struct emu_cpu *c, unsigned cc);
int emu_cf(struct emu_cpu *c); /* current carry flag */

void emu_set_flags(struct emu_cpu *c, uint64_t v); /* all of RFLAGS, no checks */
static inline void emu_lf_set(struct emu_cpu *c, uint32_t op, uint32_t sz, uint64_t res, uint64_t a,
                              uint64_t b)
{
	c->lf_op = op;
	c->lf_sz = sz;
	c->lf_res = res;
	c->lf_a = a;
	c->lf_b = b;
}
/* Rotates: set CF and OF, keep the other flags (lazily: the operation
 * that set them moves to lf2_* and lf_b holds CF | OF << 1). */
static inline void emu_set_cf_of(struct emu_cpu *c, int cf, int of)
{
	uint64_t v = (uint64_t)(cf != 0) | (uint64_t)(of != 0) << 1;
	if (EMU_UNLIKELY(c->lf_op == EMU_LF_NONE)) {
		c->s.rflags = (c->s.rflags & ~(uint64_t)(EMU_F_CF | EMU_F_OF)) |
		              ((v & 1) ? EMU_F_CF : 0) | ((v & 2) ? EMU_F_OF : 0);
		return;
	}
	if (c->lf_op != EMU_LF_ROT) {
		c->lf2_op = c->lf_op;
		c->lf2_a = c->lf_a;
		/* two 8-byte copies: one 16-byte load of the operands the last
		 * instruction just stored would stall on store forwarding */
		__asm__("" ::: "memory");
		c->lf2_b = c->lf_b;
		c->lf_op = EMU_LF_ROT;
	}
	c->lf_b = v;
}

/* Logical operations: CF = OF = 0, the operands are not needed. */
static inline void emu_lf_logic(struct emu_cpu *c, uint32_t sz, uint64_t res)
{
	c->lf_op = EMU_LF_LOGIC;
	c->lf_sz = sz;
	c->lf_res = res;
}
/* Condition code cc (0..15 as in Jcc) true? */
static inline __attribute__((always_inline)) int emu_cond(struct emu_cpu *c, unsigned cc)
{
	if (c->lf_op == EMU_LF_NONE)
		return emu_cond_slow(c, cc);
	unsigned sh = 64 - 8 * c->lf_sz;
	/* ZF and SF come from the result for every operation */
	switch (cc) {
	case 4:
		return (c->lf_res << sh) == 0;
	case 5:
		return (c->lf_res << sh) != 0;
	case 8:
		return (int64_t)(c->lf_res << sh) < 0;
	case 9:
		return (int64_t)(c->lf_res << sh) >= 0;
	}
	if (c->lf_op == EMU_LF_SUB) {
		uint64_t a = c->lf_a << sh, b = c->lf_b << sh;
		switch (cc) {
		case 2:
			return a < b;
		case 3:
			return a >= b;
		case 6:
			return a <= b;
		case 7:
			return a > b;
		case 0xc:
			return (int64_t)a < (int64_t)b;
		case 0xd:
			return (int64_t)a >= (int64_t)b;
		case 0xe:
			return (int64_t)a <= (int64_t)b;
		case 0xf:
			return (int64_t)a > (int64_t)b;
		}
	} else if (c->lf_op == EMU_LF_LOGIC) {
		int64_t r = (int64_t)(c->lf_res << sh);
		switch (cc) {
		case 0:
		case 2:
		case 0xc:
			return r < 0 && cc == 0xc;
		case 1:
		case 3:
		case 0xd:
			return cc == 0xd ? r >= 0 : 1;
		case 6:
			return r == 0;
		case 7:
			return r != 0;
		case 0xe:
			return r <= 0;
		case 0xf:
			return r > 0;
		}
	}
	return emu_cond_slow(c, cc);
}

/* ---- system pieces ---- */
/* Recompute cpl/code_sz/segbase/la_mask/tlb after CS/SS/EFER/CR0 changes. */
void emu_update_mode(struct emu_cpu *c);
/* FPU/SSE availability: #NM when CR0.TS (or CR0.EM for x87). */
static inline void emu_fp_check(struct emu_cpu *c, int x87)
{
	if ((c->s.cr0 & EMU_CR0_TS) || (x87 && (c->s.cr0 & EMU_CR0_EM)))
		emu_raise(c, EMU_NM, EMU_NOERR, 0);
	if (!x87 && (c->s.cr0 & EMU_CR0_EM))
		emu_ud(c);
}
static inline uint64_t emu_tsc(const struct emu_cpu *c)
{
	return x86_clock_tsc(c->clock) + c->tsc_offset;
}

#endif
