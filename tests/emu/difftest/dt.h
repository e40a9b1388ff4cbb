/* SPDX-License-Identifier: Apache-2.0 */
/* Differential tester for the software x86-64 CPU: random user-mode
 * instruction sequences run natively (the host CPU is the oracle) and in
 * the emulator, then registers, defined flags and memory are compared.
 *
 * Both runs use the same virtual addresses: the code page at DT_CODE and
 * the data buffer at DT_DATA (a fixed mapping in the native child, an
 * identity-mapped user region in the emulator). */
#ifndef CAPSA_TESTS_EMU_DT_H
#define CAPSA_TESTS_EMU_DT_H

#include <stddef.h>
#include <stdint.h>

#define DT_CODE      0x30000000ULL
#define DT_CODE_SIZE 0x8000ULL
#define DT_DATA      (DT_CODE + DT_CODE_SIZE)
#define DT_DATA_SIZE 0x8000ULL
/* The sequence starts here; the native prologue/epilogue live elsewhere. */
#define DT_SEQ      (DT_CODE + 0x1000)
#define DT_SEQ_MAX  0x4000
#define DT_BASE_OFF 0x2000 /* base register of memory operands: DT_DATA + this */
#define DT_STACK    (DT_DATA + 0x6000)

/* RFLAGS bits the tester sets and compares. */
#define DT_CF    0x001u
#define DT_PF    0x004u
#define DT_AF    0x010u
#define DT_ZF    0x040u
#define DT_SF    0x080u
#define DT_DF    0x400u
#define DT_OF    0x800u
#define DT_ARITH (DT_CF | DT_PF | DT_AF | DT_ZF | DT_SF | DT_OF)

/* Register state as the native epilogue stores it. */
struct dt_regs {
	uint64_t gpr[16];
	uint64_t rflags;
	uint64_t rip; /* at an exception: the faulting instruction */
	uint32_t mxcsr;
	uint32_t pad;
	uint8_t xmm[16][16];
};

enum dt_end {
	DT_END_DONE,   /* reached the end of the sequence */
	DT_END_EXCEPT, /* an exception (vector) stopped it */
	DT_END_OTHER,  /* anything else (native child died, emulator exit): msg */
};

struct dt_result {
	enum dt_end end;
	int vector;
	uint64_t err, cr2; /* page faults: error code and address */
	struct dt_regs r;
	uint8_t data[DT_DATA_SIZE];
	char msg[200];
};

/* Instruction classes, for statistics and the table of classes the CPU
 * is expected to get right. */
enum dt_class {
	DT_C_ALU,
	DT_C_FLAGS, /* ADC/SBB/SETcc/CMOVcc/Jcc/CLC.. */
	DT_C_SHIFT,
	DT_C_MULDIV,
	DT_C_BIT,
	DT_C_XCHG,
	DT_C_MOV, /* MOV/MOVSX/MOVZX/CBW../LEA */
	DT_C_STRING,
	DT_C_STACK,
	DT_C_SSE_INT,
	DT_C_SSE_FP,
	DT_C_FAULT,  /* instructions that fault on purpose */
	DT_C_CTL,    /* CALL/RET/JMP, LOOP/JRCXZ */
	DT_C_SYS,    /* privileged instructions, INT n, the 15-byte limit: faults */
	DT_C_STROVL, /* MOVS between overlapping ranges */
	DT_C_SSE_XM, /* SSE FP with some MXCSR exceptions unmasked */
	DT_C_NCLASS
};
extern const char *const dt_class_names[DT_C_NCLASS];

#define DT_MAX_ITEMS 64
#define DT_MAX_INSNS 256

/* One generated instruction: where it is and what the generator knew. */
struct dt_insn {
	uint32_t off; /* from DT_SEQ */
	uint8_t len;
	uint8_t cls;
	uint8_t size;          /* operand size in bytes, 0 if none */
	uint8_t mem;           /* has a memory operand */
	uint16_t undef_before; /* RFLAGS bits undefined before it runs */
	const char *name;
};

/* A sequence: items are what shrinking cuts at (an instruction with its
 * setup, or a Jcc with the block it skips). */
struct dt_seq {
	uint64_t seed;
	uint8_t code[DT_SEQ_MAX];
	uint32_t len;
	struct dt_insn insn[DT_MAX_INSNS];
	unsigned ninsn;
	uint32_t item_end[DT_MAX_ITEMS];   /* code length after item i */
	uint16_t item_undef[DT_MAX_ITEMS]; /* undefined flags after item i */
	unsigned item_insns[DT_MAX_ITEMS]; /* ninsn after item i */
	unsigned nitems;
	uint16_t undef_end; /* undefined flags at the end */
	struct dt_regs init;
	uint8_t data[DT_DATA_SIZE];
};

/* Generator options. */
#define DT_GEN_NO_SSE 1u /* integer instructions only */
/* Generate sequence `seed` with up to `items` items (1..DT_MAX_ITEMS). */
void dt_generate(struct dt_seq *s, uint64_t seed, unsigned items, unsigned opts);
/* The item count the loop uses for a seed. */
unsigned dt_items_for(uint64_t seed);
/* Cut to the first n items. */
void dt_truncate(struct dt_seq *s, unsigned n);
/* The instruction containing seq offset off, or NULL. */
const struct dt_insn *dt_insn_at(const struct dt_seq *s, uint64_t off);

/* Native runner: a sandboxed child process (seccomp strict) that keeps
 * running sequences. */
struct dt_native;
struct dt_native *dt_native_start(char *why, size_t whylen);
int dt_native_run(struct dt_native *n, const struct dt_seq *s, struct dt_result *out);
/* The same in two halves, so the emulator can run while the child does. */
void dt_native_submit(struct dt_native *n, const struct dt_seq *s);
int dt_native_collect(struct dt_native *n, struct dt_result *out);
void dt_native_stop(struct dt_native *n);

/* Emulator runner. */
struct dt_emul;
struct dt_emul *dt_emul_create(char *why, size_t whylen);
int dt_emul_run(struct dt_emul *em, const struct dt_seq *s, struct dt_result *out);
void dt_emul_destroy(struct dt_emul *em);
/* Instructions the emulator retired in total. */
uint64_t dt_emul_instructions(const struct dt_emul *em);

/* Compare: 0 if equal, else 1 and a description of the first difference. */
int dt_compare(const struct dt_seq *s, const struct dt_result *nat, const struct dt_result *emu,
               char *what, size_t len);

/* Budgeted loop over sequences with statistics and mismatch reports
 * (printed to `log`, which may be NULL). */
struct dt_stats {
	uint64_t seqs, insns, mismatches, native_exceptions;
	uint64_t cls_insns[DT_C_NCLASS];
	uint64_t cls_mismatch[DT_C_NCLASS];
	uint64_t other_mismatch; /* not attributable to one instruction */
};
struct dt_loop {
	uint64_t seed;
	uint64_t max_seqs;
	double max_secs;
	unsigned max_report; /* print at most this many mismatches in full */
	unsigned gen_opts;   /* DT_GEN_* */
	unsigned prio;       /* classes blamed first (dt_report) */
	void *log;           /* FILE * */
};
int dt_loop_run(const struct dt_loop *cfg, struct dt_stats *st, char *why, size_t whylen);
/* Print the mismatch of sequence s (shrunk) to log; returns the class it
 * is blamed on, or -1: the instruction where either side faulted, else an
 * instruction of a class in the `prio` mask (1 << class) inside the last
 * item of the shortest mismatching prefix (an item may be a branch with
 * the items it skips), else the last instruction. */
int dt_report(struct dt_native *n, struct dt_emul *em, const struct dt_seq *s, void *log,
              unsigned prio);

#endif
