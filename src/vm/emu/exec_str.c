/* SPDX-License-Identifier: Apache-2.0 */
/* String instructions (MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS) with
 * REP/REPE/REPNE. Registers are updated after every element so that a
 * fault leaves a restartable state; REP MOVS/STOS with DF=0 over RAM copy
 * or fill whole page-bounded chunks at once. A REP instruction yields after
 * a bounded amount of work (RIP stays on it) so that interrupts and kicks
 * are seen. */
#include "vm/emu/ops.h"

#define STR_CHUNK_ELEMS 16384u

static uint64_t amask(const struct emu_insn *i)
{
	return i->asz == 8 ? ~0ULL : i->asz == 4 ? 0xffffffffULL : 0xffffULL;
}
static uint64_t areg(struct emu_cpu *c, const struct emu_insn *i, unsigned r)
{
	return c->s.gpr[r] & amask(i);
}
static void set_areg(struct emu_cpu *c, const struct emu_insn *i, unsigned r, uint64_t v)
{
	uint64_t m = amask(i);
	if (i->asz == 4)
		c->s.gpr[r] = (uint32_t)v;
	else
		c->s.gpr[r] = (c->s.gpr[r] & ~m) | (v & m);
}
static uint64_t src_la(struct emu_cpu *c, const struct emu_insn *i)
{
	return (areg(c, i, X86_RSI) + c->segbase[i->seg]) & c->la_mask;
}
static uint64_t dst_la(struct emu_cpu *c, const struct emu_insn *i)
{
	return (areg(c, i, X86_RDI) + c->segbase[X86_ES]) & c->la_mask;
}
static int64_t step(struct emu_cpu *c, const struct emu_insn *i)
{
	return (c->s.rflags & EMU_F_DF) ? -(int64_t)i->osz : (int64_t)i->osz;
}

static void pio(struct emu_cpu *c, uint16_t port, uint8_t *data, unsigned len, int wr)
{
	if (c->bus.pio)
		c->bus.pio(c->bus.ctx, port, data, len, wr);
	else if (!wr)
		memset(data, 0xff, len);
}

/* One element of the string operation; returns 1 if REPE/REPNE must stop. */
static int element(struct emu_cpu *c, struct emu_insn *i)
{
	unsigned sz = i->osz;
	int64_t d = step(c, i);
	uint64_t a, b;
	switch (i->op) {
	case 0xa4:
	case 0xa5:
		emu_wr(c, dst_la(c, i), sz, emu_rd(c, src_la(c, i), sz));
		set_areg(c, i, X86_RSI, areg(c, i, X86_RSI) + (uint64_t)d);
		set_areg(c, i, X86_RDI, areg(c, i, X86_RDI) + (uint64_t)d);
		return 0;
	case 0xaa:
	case 0xab:
		emu_wr(c, dst_la(c, i), sz, c->s.gpr[X86_RAX]);
		set_areg(c, i, X86_RDI, areg(c, i, X86_RDI) + (uint64_t)d);
		return 0;
	case 0xac:
	case 0xad:
		a = emu_rd(c, src_la(c, i), sz);
		if (sz == 1)
			*emu_r8p(c, 0) = (uint8_t)a;
		else
			emu_setreg(c, X86_RAX, sz, a);
		set_areg(c, i, X86_RSI, areg(c, i, X86_RSI) + (uint64_t)d);
		return 0;
	case 0xa6:
	case 0xa7:
		a = emu_rd(c, src_la(c, i), sz);
		b = emu_rd(c, dst_la(c, i), sz);
		emu_lf_set(c, EMU_LF_SUB, sz, a - b, a, b);
		set_areg(c, i, X86_RSI, areg(c, i, X86_RSI) + (uint64_t)d);
		set_areg(c, i, X86_RDI, areg(c, i, X86_RDI) + (uint64_t)d);
		break;
	case 0xae:
	case 0xaf:
		a = c->s.gpr[X86_RAX];
		b = emu_rd(c, dst_la(c, i), sz);
		emu_lf_set(c, EMU_LF_SUB, sz, a - b, a, b);
		set_areg(c, i, X86_RDI, areg(c, i, X86_RDI) + (uint64_t)d);
		break;
	case 0x6c:
	case 0x6d: {
		uint8_t buf[8] = {0};
		uint16_t port = (uint16_t)c->s.gpr[X86_RDX];
		emu_io_check(c, port, sz);
		uint64_t la = dst_la(c, i);
		emu_wr(c, la, sz, 0); /* fault before the port is read */
		pio(c, port, buf, sz, 0);
		uint64_t v;
		memcpy(&v, buf, 8);
		emu_wr(c, la, sz, v);
		set_areg(c, i, X86_RDI, areg(c, i, X86_RDI) + (uint64_t)d);
		return 0;
	}
	default: { /* 6E 6F OUTS */
		uint16_t port = (uint16_t)c->s.gpr[X86_RDX];
		emu_io_check(c, port, sz);
		uint64_t v = emu_rd(c, src_la(c, i), sz);
		uint8_t buf[8];
		memcpy(buf, &v, 8);
		pio(c, port, buf, sz, 1);
		set_areg(c, i, X86_RSI, areg(c, i, X86_RSI) + (uint64_t)d);
		return 0;
	}
	}
	/* CMPS/SCAS under REPE (F3) stop when not equal, REPNE (F2) when equal */
	int eq = c->lf_res << (64 - 8 * sz) == 0;
	if (i->pfx & EMU_PFX_F3)
		return !eq;
	if (i->pfx & EMU_PFX_F2)
		return eq;
	return 0;
}

/* REP MOVS/STOS with DF=0: whole chunks inside one source and one
 * destination page. Returns elements done (0 if the fast path does not
 * apply, e.g. MMIO or a page that must fault first). */
static uint64_t fast_chunk(struct emu_cpu *c, struct emu_insn *i, uint64_t n)
{
	unsigned sz = i->osz;
	uint64_t dla = dst_la(c, i);
	uint64_t room = (0x1000 - (dla & 0xfff)) / sz;
	if (room == 0 || (dla & (sz - 1)))
		return 0;
	uint8_t *dp = emu_page_ptr(c, dla, EMU_ACC_W);
	if (!dp)
		return 0;
	if (n > room)
		n = room;
	if (i->op == 0xa4 || i->op == 0xa5) {
		uint64_t sla = src_la(c, i);
		uint64_t sroom = (0x1000 - (sla & 0xfff)) / sz;
		if (sroom == 0)
			return 0;
		const uint8_t *sp = emu_page_ptr(c, sla, EMU_ACC_R);
		if (!sp)
			return 0;
		if (n > sroom)
			n = sroom;
		/* Overlapping ranges: element by element, forward, each element
		 * read whole before it is written, as the processor does (a byte
		 * loop differs when the ranges are less than an element apart). */
		if (sp < dp && sp + n * sz > dp) {
			for (uint64_t k = 0; k < n; k++) {
				uint8_t e[8];
				memcpy(e, sp + k * sz, sz);
				memcpy(dp + k * sz, e, sz);
			}
		} else {
			memmove(dp, sp, n * sz);
		}
		set_areg(c, i, X86_RSI, areg(c, i, X86_RSI) + n * sz);
	} else {
		uint64_t v = c->s.gpr[X86_RAX];
		if (sz == 1) {
			memset(dp, (int)(uint8_t)v, n);
		} else {
			for (uint64_t k = 0; k < n; k++)
				memcpy(dp + k * sz, &v, sz);
		}
	}
	set_areg(c, i, X86_RDI, areg(c, i, X86_RDI) + n * sz);
	return n;
}

static int op_string(struct emu_cpu *c, struct emu_insn *i)
{
	if (!(i->pfx & (EMU_PFX_F2 | EMU_PFX_F3))) {
		element(c, i);
		return 0;
	}
	int fast = (i->op == 0xa4 || i->op == 0xa5 || i->op == 0xaa || i->op == 0xab) &&
	           !(c->s.rflags & EMU_F_DF);
	uint64_t budget = STR_CHUNK_ELEMS;
	for (;;) {
		uint64_t n = areg(c, i, X86_RCX);
		if (n == 0)
			break;
		if (budget == 0) {
			/* yield: the instruction resumes where it left off */
			c->rip += i->off;
			return 1;
		}
		if (fast) {
			uint64_t done = fast_chunk(c, i, n < budget ? n : budget);
			if (done) {
				set_areg(c, i, X86_RCX, n - done);
				budget -= done < budget ? done : budget;
				continue;
			}
		}
		int stop = element(c, i);
		set_areg(c, i, X86_RCX, n - 1);
		budget--;
		if (stop)
			break;
	}
	return 0;
}

emu_fn emu_str_pick(struct emu_insn *i)
{
	if (i->map != 0 || (i->pfx & EMU_PFX_LOCK))
		return NULL;
	switch (i->op) {
	case 0x6c ... 0x6f:
	case 0xa4 ... 0xa7:
	case 0xaa ... 0xaf:
		if ((i->op == 0x6d || i->op == 0x6f) && i->osz == 8)
			i->osz = 4;
		return op_string;
	}
	return NULL;
}
