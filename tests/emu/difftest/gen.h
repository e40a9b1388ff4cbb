/* SPDX-License-Identifier: Apache-2.0 */
/* The generator's encoder: one instruction described by its parts
 * (prefixes, REX, opcode, ModRM operand, immediate) becomes bytes at the
 * end of the sequence, and its address-dependent parts (RIP-relative
 * displacements) are resolved against the sequence's fixed address. */
#ifndef CAPSA_TESTS_EMU_DT_GEN_H
#define CAPSA_TESTS_EMU_DT_GEN_H

#include "dt.h"

/* Memory operand forms. */
enum dt_mkind {
	DT_MK_BASE,     /* [base + disp] */
	DT_MK_BASE_IDX, /* [base + index*scale + disp] */
	DT_MK_RIP,      /* [rip + disp32] */
	DT_MK_IDX_ONLY, /* [index*scale + disp32] */
	DT_MK_ABS,      /* [disp32] through a SIB byte */
};

struct dt_rm {
	int is_mem;
	int reg; /* register operand: code 0..15 */
	int mk;
	int base, index, scale; /* scale 1, 2, 4, 8 */
	int dsize;              /* displacement bytes: 0, 1, 4 */
	int32_t disp;
	uint64_t target; /* RIP-relative: the address wanted */
	int a32;         /* 0x67 prefix */
};

struct dt_enc {
	uint8_t lock, rep, p66, mand; /* rep: 0xf2/0xf3; mand: SSE prefix */
	int w, rex40, rexb;           /* rexb: B bit of a +r opcode */
	uint8_t op[3];
	int nop;
	int has_modrm;
	int reg; /* ModRM.reg: register code or /digit */
	struct dt_rm rm;
	int noseg;    /* no random segment override (its length is fixed) */
	int imm_size; /* 0, 1, 2, 4, 8 */
	uint64_t imm;
};

struct dt_gen {
	struct dt_seq *s;
	uint64_t rng;
	uint16_t undef; /* RFLAGS bits currently undefined */
	int rb, ri;     /* base and index registers of memory operands */
	uint64_t ri_val;
	int hi; /* this byte instruction uses AH..BH (no REX) */
	int nojcc;
	int nosse;
	int failed; /* out of code space */
};

uint64_t dt_rnd(struct dt_gen *g);
unsigned dt_rn(struct dt_gen *g, unsigned n);
int dt_chance(struct dt_gen *g, unsigned pct);

/* Append one instruction, recording it (name, class, size) in the
 * sequence; returns its length. */
int dt_emit(struct dt_gen *g, const struct dt_enc *e, const char *name, int cls, int size);
/* Operand size: 66 prefix or REX.W. */
void dt_set_size(struct dt_enc *e, int size);
/* Pick a memory operand of `size` bytes inside the data buffer. align16
 * keeps it 16-byte aligned. */
void dt_pick_mem(struct dt_gen *g, struct dt_rm *rm, int align16);
/* Pick a memory operand with random registers (LEA: no access). */
void dt_pick_lea(struct dt_gen *g, struct dt_rm *rm);
int dt_mem_needs_rex(const struct dt_rm *rm);
/* Can the generator write 64-bit register r? */
int dt_writable(const struct dt_gen *g, int r);
/* Register codes: a destination the generator may write, any source;
 * for size 1 they follow g->hi (codes 4..7 are AH..BH when set). */
int dt_wreg(struct dt_gen *g, int size);
int dt_anyreg(struct dt_gen *g, int size);
/* Choose g->hi for a byte instruction given its memory operand (if any). */
void dt_byte_mode(struct dt_gen *g, struct dt_enc *e, int size);
/* Flags bookkeeping. */
void dt_flags(struct dt_gen *g, uint16_t def, uint16_t undef);
/* Make the flags in `reads` defined (emits a CMP if some are not). */
void dt_need_flags(struct dt_gen *g, uint16_t reads);
/* Flags a condition code reads. */
uint16_t dt_cc_flags(int cc);
/* mov reg, imm (setup); size 1/4/8. */
void dt_mov_imm(struct dt_gen *g, int reg, int size, uint64_t imm);

#endif
