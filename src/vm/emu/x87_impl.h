/* SPDX-License-Identifier: Apache-2.0 */
/* Shared pieces of the x87 files (x87*.c): access to the x87 state in the
 * FXSAVE image, the register stack, exception bookkeeping and the host
 * kernels.
 *
 * The state: FCW at byte 0, FSW at 2 (TOP in bits 11-13), the abridged tag
 * (bit j: physical register j is not empty) at 4, FOP at 6, FIP at 8, FDP
 * at 16, and ST(i) at 32 + 16 * i: the image is in stack order, so a push
 * or pop rotates the eight register slots.
 *
 * Arithmetic runs as the host x87 instruction on 80-bit copies of the
 * operands (x87_host.c): the host is x86-64, whose x87 unit is the
 * architecture's, so results, condition codes, precision control and
 * rounding are exact. The host runs with the guest's FCW but every
 * exception masked; the flags it raises are merged into the guest FSW. An
 * exception the guest leaves unmasked sets ES and B, and for invalid
 * operation, denormal and divide-by-zero the instruction changes nothing
 * else (the processor leaves the stack and the operands unchanged); the
 * next waiting instruction raises #MF. Unmasked overflow/underflow store
 * the masked result rather than the processor's exponent-biased one. */
#ifndef CAPSA_VM_EMU_X87_IMPL_H
#define CAPSA_VM_EMU_X87_IMPL_H

#include "vm/emu/x87.h"

#define X87_IE 0x0001u
#define X87_DE 0x0002u
#define X87_ZE 0x0004u
#define X87_SF 0x0040u
#define X87_ES 0x0080u
#define X87_C0 0x0100u
#define X87_C1 0x0200u
#define X87_C2 0x0400u
#define X87_C3 0x4000u
#define X87_B  0x8000u
#define X87_CC (X87_C0 | X87_C1 | X87_C2 | X87_C3)
/* in x87_exec's cc_mask: a comparison, whose condition codes are set even
 * when an unmasked exception stops it (other instructions leave them) */
#define X87_CMPCC 0x0800u

/* stack fault kinds for x87_exec */
#define X87_UNDER 1
#define X87_OVER  2

/* operands and results of one host kernel: ST0 and ST1 are loaded from r0
 * and r1 and stored back there afterwards; m is the memory operand (input
 * or output) */
struct x87k {
	uint8_t r0[10], r1[10];
	uint8_t m[10];
	uint16_t cw;
	uint16_t hsw; /* the host's status word after the operation (x87_exec) */
};
typedef uint16_t (*x87_kfn)(struct x87k *k);

extern const uint8_t x87_indefinite[10];

static inline uint16_t x87_get16(const struct emu_cpu *c, unsigned off)
{
	return (uint16_t)(c->s.fx.bytes[off] | c->s.fx.bytes[off + 1] << 8);
}
static inline void x87_put16(struct emu_cpu *c, unsigned off, uint16_t v)
{
	c->s.fx.bytes[off] = (uint8_t)v;
	c->s.fx.bytes[off + 1] = (uint8_t)(v >> 8);
}
static inline uint16_t x87_cw(const struct emu_cpu *c)
{
	return x87_get16(c, 0);
}
static inline uint16_t x87_sw(const struct emu_cpu *c)
{
	return x87_get16(c, 2);
}
static inline void x87_set_sw(struct emu_cpu *c, uint16_t v)
{
	x87_put16(c, 2, v);
}
static inline unsigned x87_top(const struct emu_cpu *c)
{
	return (x87_sw(c) >> 11) & 7;
}
static inline uint8_t *x87_st(struct emu_cpu *c, unsigned i)
{
	return &c->s.fx.bytes[32 + 16 * (i & 7)];
}
static inline int x87_empty(const struct emu_cpu *c, unsigned i)
{
	return !((c->s.fx.bytes[4] >> ((x87_top(c) + i) & 7)) & 1);
}
static inline void x87_set_tag(struct emu_cpu *c, unsigned i, int valid)
{
	unsigned bit = 1u << ((x87_top(c) + i) & 7);
	if (valid)
		c->s.fx.bytes[4] |= (uint8_t)bit;
	else
		c->s.fx.bytes[4] &= (uint8_t)~bit;
}
static inline void x87_put(struct emu_cpu *c, unsigned i, const uint8_t v[10])
{
	memcpy(x87_st(c, i), v, 10);
	memset(x87_st(c, i) + 10, 0, 6);
	x87_set_tag(c, i, 1);
}

/* TOP -= 1 / += 1, rotating the register image; tags are not changed. */
void x87_dec_top(struct emu_cpu *c);
void x87_inc_top(struct emu_cpu *c);
/* Make TOP `top`, rotating the image so that the physical registers keep
 * their contents (FLDENV, FNINIT). */
void x87_set_top(struct emu_cpu *c, unsigned top);
/* FNINIT's state */
void x87_init(struct emu_cpu *c);
/* Push v (a slot must be free: check with x87_empty(c, 7) first). */
void x87_push(struct emu_cpu *c, const uint8_t v[10]);
/* Mark ST0 empty and pop. */
void x87_pop(struct emu_cpu *c);

/* A non-control instruction starts: #NM/#MF checks, FOP/FIP/FDP. */
void x87_begin(struct emu_cpu *c, const struct emu_insn *i);
/* Run kernel fn; merge flags and the condition codes in cc_mask into FSW;
 * `fault` is X87_UNDER/X87_OVER for a stack fault found by the caller.
 * Returns 1 if the instruction completes (no unmasked IE, DE or ZE). */
int x87_exec(struct emu_cpu *c, x87_kfn fn, struct x87k *k, unsigned fault, uint16_t cc_mask);
/* A stack fault without a host operation; returns 1 if IE is masked. */
int x87_stack_fault(struct emu_cpu *c, unsigned fault);

/* host kernels (x87_host.c) */
extern const x87_kfn x87_k_reg[3][8]; /* D8/DC/DE /r with ST(1) */
extern const x87_kfn x87_k_mem[4][8]; /* D8 m32, DC m64, DA m32int, DE m16int */
extern const x87_kfn x87_k_d9[32];    /* D9 E0..FF */
extern const x87_kfn x87_k_fcom, x87_k_fucom;
/* loads into ST0 from m: m32, m64, m16int, m32int, m64int, m80bcd */
enum { X87_LD_F32, X87_LD_F64, X87_LD_I16, X87_LD_I32, X87_LD_I64, X87_LD_BCD, X87_NLD };
extern const x87_kfn x87_k_ld[X87_NLD];
/* stores of ST0 to m */
enum {
	X87_ST_F32,
	X87_ST_F64,
	X87_ST_I16,
	X87_ST_I32,
	X87_ST_I64,
	X87_ST_T16,
	X87_ST_T32,
	X87_ST_T64,
	X87_ST_BCD,
	X87_NST
};
extern const x87_kfn x87_k_st[X87_NST];

emu_fn x87_arith_pick(const struct emu_insn *i);
emu_fn x87_ldst_pick(const struct emu_insn *i);
emu_fn x87_ctl_pick(const struct emu_insn *i);

#endif
