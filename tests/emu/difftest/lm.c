/* SPDX-License-Identifier: Apache-2.0 */
#include "lm.h"

#include <string.h>

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x23
#define SEL_UCODE 0x2b
#define SEL_TSS   0x30

/* Vectors that push an error code. */
static int has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

static void stub(uint8_t b[DT_STUB_SIZE], unsigned v, enum dt_stub kind, uint64_t counter)
{
	unsigned n = 0;
	uint32_t a = (uint32_t)counter;
	memset(b, 0x90, DT_STUB_SIZE);
	if (kind == DT_STUB_OUT) {
		b[n++] = 0xe6; /* out imm8, al */
		b[n++] = (uint8_t)(DT_PORT_VECTOR + (v & 0x3f));
		b[n++] = 0xeb; /* jmp $ */
		b[n++] = 0xfe;
	} else if (kind == DT_STUB_HLT) {
		b[n++] = 0xf4; /* hlt; jmp back to it */
		b[n++] = 0xeb;
		b[n++] = 0xfd;
	} else {
		/* lock incq counter (absolute disp32 through SIB) */
		static const uint8_t inc[] = {0xf0, 0x48, 0xff, 0x04, 0x25};
		memcpy(b + n, inc, sizeof(inc));
		n += sizeof(inc);
		memcpy(b + n, &a, 4);
		n += 4;
		/* cmpq $DT_STUB_MAX, counter; jae hlt: a fault that repeats
		 * forever (the handler returns to it) ends in HLT */
		static const uint8_t cmp[] = {0x48, 0x83, 0x3c, 0x25};
		memcpy(b + n, cmp, sizeof(cmp));
		n += sizeof(cmp);
		memcpy(b + n, &a, 4);
		n += 4;
		b[n++] = DT_STUB_MAX;
		b[n] = 0x73; /* jae to the hlt at the end */
		b[n + 1] = (uint8_t)(DT_STUB_SIZE - 3 - (n + 2));
		n += 2;
		if (has_error_code(v)) {
			b[n++] = 0x48; /* add $8, %rsp */
			b[n++] = 0x83;
			b[n++] = 0xc4;
			b[n++] = 0x08;
		}
		b[n++] = 0x48; /* iretq */
		b[n++] = 0xcf;
		b[DT_STUB_SIZE - 3] = 0xf4; /* hlt; jmp back to it */
		b[DT_STUB_SIZE - 2] = 0xeb;
		b[DT_STUB_SIZE - 1] = 0xfd;
	}
}

int dt_lm_tables(const struct guest_mem *gm, const struct dt_lm *l, enum dt_stub kind)
{
	uint64_t gdt[8] = {
	    0,
	    0x00af9b000000ffffULL, /* 0x08 kernel code, 64-bit */
	    0x00cf93000000ffffULL, /* 0x10 kernel data */
	    0x00cffb000000ffffULL, /* 0x18 user code, 32-bit */
	    0x00cff3000000ffffULL, /* 0x20 user data */
	    0x00affb000000ffffULL, /* 0x28 user code, 64-bit */
	};
	uint64_t b = l->tss;
	gdt[6] = 0x67 | ((b & 0xffffff) << 16) | (0x8bULL << 40) | ((b >> 24 & 0xff) << 56);
	gdt[7] = b >> 32;
	if (gm_write(gm, l->gdt, gdt, sizeof(gdt)))
		return -1;
	uint8_t tss[104] = {0};
	memcpy(tss + 4, &l->rsp0, 8);
	tss[0x66] = 104; /* no I/O bitmap */
	if (gm_write(gm, l->tss, tss, sizeof(tss)))
		return -1;
	for (unsigned v = 0; v < 256; v++) {
		uint8_t code[DT_STUB_SIZE];
		stub(code, v, kind, l->counter);
		uint64_t h = l->stubs + DT_STUB_SIZE * v;
		uint64_t gate[2];
		/* #BP and #OF may be raised from user mode (INT3/INT 3), as
		 * under Linux; every other gate is DPL 0 (INT n: #GP). */
		uint64_t type = v == 3 || v == 4 ? 0xeeULL : 0x8eULL;
		gate[0] = (h & 0xffff) | ((uint64_t)SEL_KCODE << 16) | (type << 40) |
		          ((h >> 16 & 0xffff) << 48);
		gate[1] = h >> 32;
		if (gm_write(gm, h, code, DT_STUB_SIZE) || gm_write(gm, l->idt + 16 * v, gate, 16))
			return -1;
	}
	return 0;
}

static struct x86_segment flat(uint16_t sel, uint8_t type, int dpl, int code64)
{
	return (struct x86_segment){.limit = 0xffffffff,
	                            .selector = sel,
	                            .type = type,
	                            .s = 1,
	                            .dpl = (uint8_t)dpl,
	                            .present = 1,
	                            .l = (uint8_t)code64,
	                            .db = (uint8_t)!code64,
	                            .g = 1};
}

void dt_lm_state(struct x86_vcpu_state *s, const struct dt_lm *l, int cpl)
{
	x86_state_reset(s, 0);
	uint16_t cs = cpl ? SEL_UCODE : SEL_KCODE, ds = cpl ? SEL_UDATA : SEL_KDATA;
	s->seg[X86_CS] = flat(cs, 0xb, cpl, 1);
	for (int i = 0; i < X86_TR; i++)
		if (i != X86_CS)
			s->seg[i] = flat(ds, 0x3, cpl, 0);
	s->seg[X86_TR] = (struct x86_segment){
	    .base = l->tss, .limit = 0x67, .selector = SEL_TSS, .type = 0xb, .present = 1};
	s->seg[X86_LDTR] = (struct x86_segment){.type = 0x2, .unusable = 1};
	s->gdt = (struct x86_dtable){.base = l->gdt, .limit = 8 * 8 - 1};
	s->idt = (struct x86_dtable){.base = l->idt, .limit = 256 * 16 - 1};
	s->cr0 = 0x80010033ULL; /* PG WP NE ET MP PE */
	s->cr3 = l->pml4;
	s->cr4 = 0x6a0;     /* OSXMMEXCPT OSFXSR PGE PAE */
	s->efer = 0xd01;    /* NXE LMA LME SCE */
	s->rflags = 0x3002; /* IOPL 3: user code may signal with OUT */
	s->gpr[X86_RSP] = l->rsp0;
}
