/* SPDX-License-Identifier: Apache-2.0 */
/* A small x86-64 instruction encoder: a growable code buffer, the REX /
 * ModRM / SIB forms the compiler needs, and labels with 32-bit fixups. */
#ifndef CAPSA_WASM_JIT_X64_H
#define CAPSA_WASM_JIT_X64_H

#include <stddef.h>
#include <stdint.h>

enum {
	RAX,
	RCX,
	RDX,
	RBX,
	RSP,
	RBP,
	RSI,
	RDI,
	R8,
	R9,
	R10,
	R11,
	R12,
	R13,
	R14,
	R15,
};
#define RIP_BASE (-2) /* memory operand base: RIP-relative */
#define NO_INDEX (-1)

/* Condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
enum {
	CC_O,
	CC_NO,
	CC_B,
	CC_AE,
	CC_E,
	CC_NE,
	CC_BE,
	CC_A,
	CC_S,
	CC_NS,
	CC_P,
	CC_NP,
	CC_L,
	CC_GE,
	CC_LE,
	CC_G,
};

/* Opcodes given as one to three bytes in one integer (0x0faf, 0x0f3a0a). */
enum {
	OP_ADD = 0,
	OP_OR = 1,
	OP_AND = 4,
	OP_SUB = 5,
	OP_XOR = 6,
	OP_CMP = 7, /* ALU /digit */
};

struct xm {
	int base, index, scale; /* scale 1, 2, 4 or 8 */
	int32_t disp;
	/* disp is provisional: encoded in 32 bits and its place noted in the
	 * buffer's lates, for the caller to complete once it is known */
	int late;
};

struct xbuf {
	uint8_t *p;
	size_t n, cap;
	int oom;
	/* p is not the buffer's own: past cap is out of memory, unless room
	 * (a mapping's size) is beyond it: then cap, a page boundary up to
	 * which the pages are faulted in, moves on toward room a window of
	 * pages at a time (x64.c) */
	int fixed;
	size_t room;
	int32_t *labels; /* code offset of each label, -1 while unbound */
	uint32_t nlabels, caplabels;
	struct xfix {
		uint32_t at, label; /* rel32 at this offset, relative to at + 4 */
	} * fixes;
	uint32_t nfixes, capfixes;
	uint32_t *lates; /* offsets of provisional disp32 fields (struct xm's late) */
	uint32_t nlates, caplates;
};

static inline struct xm xmem(int base, int32_t disp)
{
	return (struct xm){base, NO_INDEX, 1, disp, 0};
}
static inline struct xm xmemi(int base, int index, int scale, int32_t disp)
{
	return (struct xm){base, index, scale, disp, 0};
}

void xb_free(struct xbuf *b);
/* Room for this many labels and fixups at least (as much as memory
 * allows: they grow as needed anyway). */
void xb_presize(struct xbuf *b, uint32_t nlabels, uint32_t nfixes);
void xb_u8_slow(struct xbuf *b, uint8_t v);
static inline void xb_u8(struct xbuf *b, uint8_t v)
{
	if (b->n < b->cap)
		b->p[b->n++] = v;
	else
		xb_u8_slow(b, v);
}
void xb_u32_slow(struct xbuf *b, uint32_t v);
static inline void xb_u32(struct xbuf *b, uint32_t v)
{
	if (b->n + 4 <= b->cap) {
		__builtin_memcpy(b->p + b->n, &v, 4);
		b->n += 4;
	} else {
		xb_u32_slow(b, v);
	}
}
void xb_u64(struct xbuf *b, uint64_t v);

/* Register-register form: reg in ModRM.reg (or a /digit), rm in ModRM.rm.
 * pfx is 0 or a mandatory prefix (0x66, 0xf2, 0xf3); byteop forces a REX
 * so that registers 4-7 mean SPL..DIL. */
/* Byte writers of an instruction's parts at p (the buffer has room): each
 * returns where the next part goes. pfx 0 or a mandatory prefix; the REX
 * byte is left out when it would be a bare 0x40 unless force. */
static inline uint8_t *x_put_prefix_rex(uint8_t *p, int pfx, int w, int r, int x, int bb, int force)
{
	if (pfx)
		*p++ = (uint8_t)pfx;
	uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((r >> 3) & 1) << 2 | ((x >> 3) & 1) << 1 |
	                        ((bb >> 3) & 1));
	if (rex != 0x40 || force)
		*p++ = rex;
	return p;
}
static inline uint8_t *x_put_opcode(uint8_t *p, uint32_t op)
{
	if (op > 0xffff)
		*p++ = (uint8_t)(op >> 16);
	if (op > 0xff)
		*p++ = (uint8_t)(op >> 8);
	*p++ = (uint8_t)op;
	return p;
}
static inline uint8_t *x_put_u32(uint8_t *p, uint32_t v)
{
	__builtin_memcpy(p, &v, 4);
	return p + 4;
}

void x_rr_any(struct xbuf *b, int pfx, int w, uint32_t op, int reg, int rm, int byteop);
static inline void x_rr(struct xbuf *b, int pfx, int w, uint32_t op, int reg, int rm, int byteop)
{
	if (pfx || op > 0xff || byteop || b->n + 16 > b->cap) {
		x_rr_any(b, pfx, w, op, reg, rm, byteop);
		return;
	}
	uint8_t *p = x_put_prefix_rex(b->p + b->n, 0, w, reg, 0, rm, 0);
	*p++ = (uint8_t)op;
	*p++ = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
	b->n = (size_t)(p - b->p);
}
void x_rm_any(struct xbuf *b, int pfx, int w, uint32_t op, int reg, struct xm m, int byteop);
/* The common form inline: a one- or two-byte opcode on [base + disp] (most
 * are loads and stores of frame slots). */
static inline void x_rm(struct xbuf *b, int pfx, int w, uint32_t op, int reg, struct xm m,
                        int byteop)
{
	if (op > 0xffff || byteop || m.index != NO_INDEX || m.base < 0 || m.late ||
	    b->n + 16 > b->cap) {
		x_rm_any(b, pfx, w, op, reg, m, byteop);
		return;
	}
	uint8_t *p = x_put_prefix_rex(b->p + b->n, pfx, w, reg, 0, m.base, 0);
	p = x_put_opcode(p, op);
	int r = (reg & 7) << 3, base = m.base & 7;
	int mod = m.disp == 0 && base != RBP ? 0 : m.disp >= -128 && m.disp <= 127 ? 1 : 2;
	*p++ = (uint8_t)(mod << 6 | r | base);
	if (base == RSP)
		*p++ = 0x24; /* SIB: no index, the base */
	if (mod == 1) {
		*p++ = (uint8_t)(int8_t)m.disp;
	} else if (mod == 2) {
		p = x_put_u32(p, (uint32_t)m.disp);
	}
	b->n = (size_t)(p - b->p);
}

/* The most frequent instructions, inline. */
static inline void x_mov_rr(struct xbuf *b, int w, int dst, int src)
{
	if (dst != src || !w)
		x_rr(b, 0, w, 0x8b, dst, src, 0);
}
static inline void x_load(struct xbuf *b, int w, int dst, struct xm m)
{
	x_rm(b, 0, w, 0x8b, dst, m, 0);
}
static inline void x_store(struct xbuf *b, int w, struct xm m, int src)
{
	x_rm(b, 0, w, 0x89, src, m, 0);
}
static inline void x_lea(struct xbuf *b, int w, int dst, struct xm m)
{
	x_rm(b, 0, w, 0x8d, dst, m, 0);
}
void x_mov_ri(struct xbuf *b, int w, int dst, uint64_t v); /* flags untouched */
void x_store_i32(struct xbuf *b, int w, struct xm m, int32_t v);
void x_alu_rr(struct xbuf *b, int w, int op, int dst, int src);
void x_alu_rm(struct xbuf *b, int w, int op, int dst, struct xm m);
void x_alu_ri(struct xbuf *b, int w, int op, int dst, int32_t v);
void x_alu_mi(struct xbuf *b, int w, int op, struct xm m, int32_t v);
void x_shift_ri(struct xbuf *b, int w, int digit, int dst, uint8_t n);
void x_setcc(struct xbuf *b, int cc, int dst); /* dst = cc ? 1 : 0 (32-bit) */
void x_push(struct xbuf *b, int r);
void x_pop(struct xbuf *b, int r);
void x_call_abs(struct xbuf *b, const void *fn); /* via RAX */
void x_ret(struct xbuf *b);

/* Labels and branches (always rel32); a new label and a rel32 field
 * inline while their arrays have room. */
uint32_t x_label_grow(struct xbuf *b);
void x_rel32_grow(struct xbuf *b, uint32_t l);
static inline uint32_t x_label(struct xbuf *b)
{
	if (b->nlabels >= b->caplabels)
		return x_label_grow(b);
	b->labels[b->nlabels] = -1;
	return b->nlabels++;
}
void x_bind(struct xbuf *b, uint32_t l);
/* Pads with no-ops to a multiple of 16 bytes (a loop head). */
void x_align16(struct xbuf *b);
void x_jmp(struct xbuf *b, uint32_t l);
void x_jcc(struct xbuf *b, int cc, uint32_t l);
void x_call_label(struct xbuf *b, uint32_t l);
static inline void x_rel32(struct xbuf *b, uint32_t l) /* a bare rel32 field */
{
	if (b->nfixes >= b->capfixes || b->n + 4 > b->cap) {
		x_rel32_grow(b, l);
		return;
	}
	b->fixes[b->nfixes++] = (struct xfix){(uint32_t)b->n, l};
	__builtin_memset(b->p + b->n, 0, 4);
	b->n += 4;
}
/* Patch every fixup; -1 if a label is unbound. */
int x_resolve(struct xbuf *b);
/* Patches the fixups to labels from nshared on (the buffer's own: their
 * distances stay when its code moves), keeps those to the first nshared
 * (another buffer's) and forgets the own labels: x_append then has only
 * those left to move. 0, or -1 if an own label is unbound. */
int x_settle(struct xbuf *b, uint32_t nshared);
/* Appends the code of src (made in parallel with b's) at the end of b and
 * returns the offset it starts at, or -1 out of memory. src's first nshared
 * labels are b's: those src bound are bound in b to their new place; its
 * other labels become new labels of b, and its fixups follow. */
int64_t x_append(struct xbuf *b, const struct xbuf *src, uint32_t nshared);
/* The same for src's code already in place at offset base (16-aligned, at
 * or past b's end) of b's memory: b ends where src's code does, the bytes
 * between are b's caller's (not written). */
int64_t x_adopt(struct xbuf *b, const struct xbuf *src, uint32_t nshared, uint32_t base);

/* SSE scalar helpers: op like 0x0f58 with prefix 0xf3 (single) or 0xf2 (double). */
static inline void x_sse_rr(struct xbuf *b, int pfx, uint32_t op, int dst, int src)
{
	x_rr(b, pfx, 0, op, dst, src, 0);
}
static inline void x_sse_rm(struct xbuf *b, int pfx, uint32_t op, int dst, struct xm m)
{
	x_rm(b, pfx, 0, op, dst, m, 0);
}

#endif
