/* SPDX-License-Identifier: Apache-2.0 */
/* System behaviour of the software CPU: NMI delivery and its blocking until
 * IRET, the TSC MSR and RDTSC, MSRs the CPU does not know (#GP), SWAPGS
 * with the GS base MSRs, #NM for SSE with CR0.TS, and the CPUID model's
 * TSC frequency leaf. */
#include "emu_harness.h"

/* The NMI handler asks for a second NMI (port 0x99) while it runs: that one
 * must wait for its IRET. r9 = count seen inside the first handler. */
SNIP(s_nmi);
extern const uint8_t s_nmi_handler[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_nmi\ns_nmi:\n"
        "  nop\n  jmp 1f\n"
        "1: nop\n  jmp 2f\n"
        "2: mov %r8, %r10\n  hlt\n"
        ".globl s_nmi_handler\ns_nmi_handler:\n"
        "  inc %r8\n  out %al, $0x99\n  jmp 3f\n"
        "3: mov %r8, %r11\n  cmp $1, %r8\n  jne 4f\n  mov %r8, %r9\n"
        "4: iretq\n"
        ".globl s_nmi_end\ns_nmi_end:\n.popsection\n");

struct nmi_ctx {
	struct tmach *t;
	int sent;
};

static void nmi_pio(void *ctx, uint16_t port, uint8_t *data, unsigned len, int wr)
{
	struct nmi_ctx *n = ctx;
	(void)data;
	(void)len;
	if (wr && port == 0x99 && !n->sent) {
		n->sent = 1;
		emu_cpu_nmi(n->t->cpu);
	}
}

static void test_nmi_blocked_until_iret(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_nmi, s_nmi_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 2, SNIP_ADDR(TM_CODE, s_nmi, s_nmi_handler), 0, 0, 0xe);
	/* a second CPU object on the same memory with a bus that raises the NMI */
	struct nmi_ctx n = {.t = &t};
	struct emu_cpu *c2;
	struct emu_cpu_config cfg = {
	    .index = 0, .mem = t.mem, .clock = &t.clk, .bus = {.ctx = &n, .pio = nmi_pio}};
	struct err e;
	assert_int_equal(emu_cpu_create(&c2, &cfg, &e), 0);
	struct x86_vcpu_state s = tm_state(&t);
	assert_int_equal(emu_cpu_set_state(c2, &s, &e), 0);
	emu_cpu_destroy(t.cpu);
	t.cpu = c2;
	emu_cpu_nmi(t.cpu);
	s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_R9], 1);  /* the second NMI waited */
	assert_int_equal(s.gpr[X86_R8], 2);  /* and came after IRET */
	assert_int_equal(s.gpr[X86_R10], 2); /* both before the main code's end */
	tm_fini(&t);
}

/* WRMSR TSC then RDTSC; RDMSR of an unknown MSR (#GP); GS base MSR and
 * SWAPGS; CPUID 0x15. */
SNIP(s_msr);
extern const uint8_t s_msr_gp[], s_msr_rdmsr[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_msr\ns_msr:\n"
        "  mov $0x10, %ecx\n  mov $0x10, %edx\n  xor %eax, %eax\n  wrmsr\n" /* TSC = 2^36 */
        "  rdtsc\n  shl $32, %rdx\n  or %rax, %rdx\n  mov %rdx, %r8\n"
        "  mov $0xc0000101, %ecx\n  mov $0x1234, %eax\n  xor %edx, %edx\n  wrmsr\n"
        "  mov $0xc0000102, %ecx\n  mov $0x5678, %eax\n  wrmsr\n"
        "  swapgs\n  mov $0xc0000101, %ecx\n  rdmsr\n  mov %rax, %r9\n"
        "  mov $0x15, %eax\n  cpuid\n  mov %rcx, %r10\n"
        "  mov $0x12345678, %ecx\n"
        ".globl s_msr_rdmsr\ns_msr_rdmsr:\n"
        "  rdmsr\n  hlt\n"
        ".globl s_msr_gp\ns_msr_gp:\n"
        "  pop %r11\n  pop %r12\n  hlt\n"
        ".globl s_msr_end\ns_msr_end:\n.popsection\n");

static void test_msrs(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_msr, s_msr_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 13, SNIP_ADDR(TM_CODE, s_msr, s_msr_gp), 0, 0, 0xe);
	struct x86_vcpu_state s = tm_run_halt(&t);
	uint64_t tsc = 1ULL << 36;
	assert_true(s.gpr[X86_R8] >= tsc);
	assert_true(s.gpr[X86_R8] < tsc + 1000000000ULL); /* < 1 s at 1 GHz */
	assert_int_equal(s.gpr[X86_R9], 0x5678);          /* swapped in */
	assert_int_equal(s.msr.kernel_gs_base, 0x1234);
	assert_int_equal(s.gpr[X86_R10], 1000000000ULL); /* crystal Hz = TSC Hz */
	assert_int_equal(s.gpr[X86_R11], 0);             /* #GP(0) */
	assert_int_equal(s.gpr[X86_R12], SNIP_ADDR(TM_CODE, s_msr, s_msr_rdmsr));
	tm_fini(&t);
}

/* MOVAPS with CR0.TS set: #NM, at the instruction */
SNIP(s_nm);
extern const uint8_t s_nm_insn[], s_nm_handler[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_nm\ns_nm:\n"
        "  mov %cr0, %rax\n  or $8, %rax\n  mov %rax, %cr0\n"
        ".globl s_nm_insn\ns_nm_insn:\n"
        "  movaps %xmm0, %xmm1\n  hlt\n"
        ".globl s_nm_handler\ns_nm_handler:\n"
        "  mov (%rsp), %rbx\n  clts\n  iretq\n"
        ".globl s_nm_end\ns_nm_end:\n.popsection\n");

static void test_nm_with_ts(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_nm, s_nm_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 7, SNIP_ADDR(TM_CODE, s_nm, s_nm_handler), 0, 0, 0xe);
	struct x86_vcpu_state s = tm_state(&t);
	memset(&s.fx.bytes[160], 0xab, 16); /* xmm0 */
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), 0);
	s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RBX], SNIP_ADDR(TM_CODE, s_nm, s_nm_insn));
	assert_int_equal(s.cr0 & 8, 0);
	assert_int_equal(s.fx.bytes[176], 0xab); /* the retried MOVAPS ran */
	tm_fini(&t);
}

/* LSL/LAR (the vDSO's getcpu reads the CPU number from a segment limit),
 * VERR/VERW: a DPL3 data segment with limit 0x1234 at GDT index 10. */
SNIP(s_lsl);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_lsl\ns_lsl:\n"
        "  mov $0x53, %eax\n  lsl %eax, %ebx\n  setz %r8b\n  lar %eax, %ecx\n"
        "  verr %ax\n  setz %r9b\n  verw %ax\n  setz %r10b\n"
        "  mov $0x08, %eax\n  verw %ax\n  setz %r11b\n"        /* code: not writable */
        "  mov $0x1f8, %eax\n  lsl %eax, %edx\n  setz %r12b\n" /* beyond the GDT limit */
        "  hlt\n"
        ".globl s_lsl_end\ns_lsl_end:\n.popsection\n");

static void test_lsl_lar_verr(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_lsl, s_lsl_end);
	tm_long_mode(&t, TM_CODE);
	/* limit 0x1234, byte granular, read/write data, DPL3, present */
	tm_w64(&t, TM_GDT + 0x50,
	       0x1234 | (0x3ULL << 40) | (1ULL << 44) | (3ULL << 45) | (1ULL << 47));
	struct x86_vcpu_state s = tm_state(&t);
	s.gdt.limit = 0x57;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), 0);
	s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RBX], 0x1234);
	assert_int_equal(s.gpr[X86_R8] & 0xff, 1);
	assert_int_equal(s.gpr[X86_RCX], 0xf300);
	assert_int_equal(s.gpr[X86_R9] & 0xff, 1);
	assert_int_equal(s.gpr[X86_R10] & 0xff, 1);
	assert_int_equal(s.gpr[X86_R11] & 0xff, 0);
	assert_int_equal(s.gpr[X86_R12] & 0xff, 0);
	tm_fini(&t);
}

/* Single-stepping: TF set by POPF traps after the next instruction, and
 * after every one until a POPF that clears it (which traps too). */
SNIP(s_step);
extern const uint8_t s_step_nop2[], s_step_handler[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_step\ns_step:\n"
        "  mov $0x48000, %r9\n"
        "  pushfq\n  orq $0x100, (%rsp)\n  popfq\n"
        "  nop\n"
        ".globl s_step_nop2\ns_step_nop2:\n"
        "  nop\n"
        "  pushfq\n  andq $~0x100, (%rsp)\n  popfq\n"
        "  nop\n  hlt\n"
        ".globl s_step_handler\ns_step_handler:\n"
        "  inc %r8\n  mov (%rsp), %rax\n  mov %rax, (%r9)\n  add $8, %r9\n  iretq\n"
        ".globl s_step_end\ns_step_end:\n.popsection\n");

static void test_single_step(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_step, s_step_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 1, SNIP_ADDR(TM_CODE, s_step, s_step_handler), 0, 0, 0xe);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_R8], 5); /* nop, nop, pushfq, andq, popfq */
	assert_int_equal(tm_r64(&t, 0x48000), SNIP_ADDR(TM_CODE, s_step, s_step_nop2));
	assert_true(s.dr[6] & (1u << 14));
	assert_int_equal(s.rflags & 0x100, 0);
	tm_fini(&t);
}

/* States the CPU cannot run are refused by emu_cpu_set_state. */
static void test_unsupported_states(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_long_mode(&t, TM_CODE);
	struct x86_vcpu_state s = tm_state(&t);
	s.efer &= ~0x400ULL; /* paging without long mode: 32-bit paging */
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), -1);
	assert_non_null(strstr(e.msg, "paging"));
	s = tm_state(&t);
	s.cr0 = 0x11;
	s.efer = 0;
	s.rflags |= 0x20000; /* VM */
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), -1);
	assert_non_null(strstr(e.msg, "virtual-8086"));
	tm_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nmi_blocked_until_iret),
	    cmocka_unit_test(test_msrs),
	    cmocka_unit_test(test_nm_with_ts),
	    cmocka_unit_test(test_unsupported_states),
	    cmocka_unit_test(test_lsl_lar_verr),
	    cmocka_unit_test(test_single_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
