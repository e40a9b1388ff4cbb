/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/x86/state.h"

#include <string.h>

static void real_seg(struct x86_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct x86_segment){.base = (uint64_t)sel << 4,
	                          .limit = 0xffff,
	                          .selector = sel,
	                          .type = type,
	                          .s = 1,
	                          .present = 1};
}

void x86_state_reset(struct x86_vcpu_state *s, unsigned apic_id)
{
	memset(s, 0, sizeof(*s));
	s->gpr[X86_RDX] = 0x600; /* family 6 signature in EDX at reset */
	s->rip = 0xfff0;
	s->rflags = 0x2;
	for (int i = 0; i < X86_TR; i++)
		real_seg(&s->seg[i], 0, 0x3);   /* read/write data, accessed */
	real_seg(&s->seg[X86_CS], 0xf000, 0xb); /* execute/read code, accessed */
	s->seg[X86_CS].base = 0xffff0000;
	s->seg[X86_TR] = (struct x86_segment){.limit = 0xffff, .type = 0xb, .present = 1};
	s->seg[X86_LDTR] = (struct x86_segment){.limit = 0xffff, .type = 0x2, .present = 1};
	s->gdt.limit = s->idt.limit = 0xffff;
	s->cr0 = 0x60000010; /* CD, NW, ET */
	s->dr[6] = 0xffff0ff0;
	s->dr[7] = 0x400;
	s->xcr0 = 1;
	s->msr.pat = 0x0007040600070406ULL;
	s->msr.misc_enable = 1; /* fast strings */
	s->msr.apic_base = 0xfee00000ULL | (1u << 11) | (apic_id == 0 ? 1u << 8 : 0);
	/* FXSAVE image of the reset x87/SSE state: FCW 0x37f, MXCSR 0x1f80. */
	s->fx.bytes[0] = 0x7f;
	s->fx.bytes[1] = 0x03;
	s->fx.bytes[24] = 0x80;
	s->fx.bytes[25] = 0x1f;
	s->fx.bytes[28] = 0xff; /* MXCSR_MASK 0xffff */
	s->fx.bytes[29] = 0xff;
	s->ev.run_state = apic_id == 0 ? X86_RUNNABLE : X86_WAIT_FOR_SIPI;
}

static void set_lvt_mode(uint8_t *lapic, unsigned reg, uint32_t mode)
{
	uint32_t lvt;
	memcpy(&lvt, lapic + reg, 4);
	lvt = (lvt & ~0x700u) | (mode << 8);
	memcpy(lapic + reg, &lvt, 4);
}

void x86_lapic_wire_lints(uint8_t lapic[X86_LAPIC_REGS_SIZE])
{
	set_lvt_mode(lapic, 0x350, 7); /* LVT LINT0: ExtINT */
	set_lvt_mode(lapic, 0x360, 4); /* LVT LINT1: NMI */
}
