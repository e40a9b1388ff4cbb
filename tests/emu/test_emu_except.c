/* SPDX-License-Identifier: Apache-2.0 */
/* Exceptions and privilege transitions under the software CPU: IRETQ to
 * CPL3, INT n through a DPL3 gate with the TSS stack, SYSCALL/SYSRET, a
 * user-mode #PF, port I/O against the TSS I/O bitmap, #DF on an IST stack,
 * and a triple fault ending the run. */
#include "emu_harness.h"

SNIP(s_user);
extern const uint8_t s_user_code[], s_user_after_sys[], s_user_out70[], s_user_k80[], s_user_ksys[],
    s_user_kgp[], s_user_kpf[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_user\ns_user:\n"
        /* STAR: kernel CS 0x08, user base 0x18; LSTAR = s_user_ksys */
        "  mov $0xc0000081, %ecx\n  xor %eax, %eax\n  mov $0x00180008, %edx\n  wrmsr\n"
        "  mov $0xc0000082, %ecx\n  lea s_user_ksys(%rip), %rax\n  mov %rax, %rdx\n"
        "  shr $32, %rdx\n  wrmsr\n"
        "  push $0x23\n  push $0xa0000\n  push $0x2\n  push $0x2b\n"
        "  lea s_user_code(%rip), %rax\n  push %rax\n  iretq\n"
        ".globl s_user_code\ns_user_code:\n"
        "  mov %cs, %r8\n"
        "  int $0x80\n  mov %rax, %r9\n"
        "  mov $0x55, %eax\n  syscall\n"
        ".globl s_user_after_sys\ns_user_after_sys:\n"
        "  mov %rax, %r10\n"
        "  mov $0x46000, %rdx\n  mov (%rdx), %dl\n"
        "  out %al, $0x80\n"
        ".globl s_user_out70\ns_user_out70:\n"
        "  out %al, $0x70\n"
        "  ud2\n"
        ".globl s_user_k80\ns_user_k80:\n"
        "  mov %rsp, %r13\n  mov 8(%rsp), %r14\n  mov $0x80, %eax\n  iretq\n"
        ".globl s_user_ksys\ns_user_ksys:\n"
        "  mov %rcx, %r15\n  mov %r11, %rbx\n  mov $0x66, %eax\n  sysretq\n"
        ".globl s_user_kpf\ns_user_kpf:\n"
        "  pop %rdi\n  addq $2, (%rsp)\n  iretq\n"
        ".globl s_user_kgp\ns_user_kgp:\n"
        "  pop %r12\n  mov (%rsp), %rsi\n  hlt\n"
        ".globl s_user_end\ns_user_end:\n.popsection\n");

static void test_user_kernel(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_user, s_user_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 0x80, SNIP_ADDR(TM_CODE, s_user, s_user_k80), 0, 3, 0xe);
	tm_gate(&t, 13, SNIP_ADDR(TM_CODE, s_user, s_user_kgp), 0, 0, 0xe);
	tm_gate(&t, 14, SNIP_ADDR(TM_CODE, s_user, s_user_kpf), 0, 0, 0xe);
	*tm_pte(&t, 0x46000) &= ~4ULL;                       /* supervisor-only page */
	t.ram[TM_TSS + 0x68 + 0x70 / 8] |= 1u << (0x70 & 7); /* deny port 0x70 */
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_R8], 0x2b);
	assert_int_equal(s.gpr[X86_R9], 0x80);
	assert_int_equal(s.gpr[X86_R13], TM_KSTACK - 40);
	assert_int_equal(s.gpr[X86_R14], 0x2b);
	assert_int_equal(s.gpr[X86_R10], 0x66);
	assert_int_equal(s.gpr[X86_R15], SNIP_ADDR(TM_CODE, s_user, s_user_after_sys));
	assert_int_equal(s.gpr[X86_RBX], 0x2);
	assert_int_equal(s.gpr[X86_RDI], 5); /* user read of a supervisor page: P|U */
	assert_int_equal(s.cr2, 0x46000);
	assert_int_equal(t.nout, 1); /* port 0x80 went out, 0x70 did not */
	assert_int_equal(t.out_port[0], 0x80);
	assert_int_equal(s.gpr[X86_R12], 0);
	assert_int_equal(s.gpr[X86_RSI], SNIP_ADDR(TM_CODE, s_user, s_user_out70));
	assert_int_equal(s.seg[X86_CS].selector, TM_KCODE);
	tm_fini(&t);
}

/* A #GP whose gate is not present becomes #NP, and #GP then #NP is a
 * double fault, delivered on IST1. */
SNIP(s_df);
extern const uint8_t s_df_handler[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_df\ns_df:\n"
        "  mov $0x8000000000000000, %rcx\n  mov (%rcx), %rax\n  hlt\n"
        ".globl s_df_handler\ns_df_handler:\n"
        "  mov %rsp, %rax\n  pop %rbx\n  hlt\n"
        ".globl s_df_end\ns_df_end:\n.popsection\n");

static void test_double_fault_ist(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_df, s_df_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 8, SNIP_ADDR(TM_CODE, s_df, s_df_handler), 1, 0, 0xe);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RAX], TM_ISTACK - 48);
	assert_int_equal(s.gpr[X86_RBX], 0);
	tm_fini(&t);
}

SNIP(s_triple);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_triple\ns_triple:\n"
        "  ud2\n"
        ".globl s_triple_end\ns_triple_end:\n.popsection\n");

static void test_triple_fault(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_triple, s_triple_end);
	tm_long_mode(&t, TM_CODE);
	struct x86_vcpu_state s = tm_state(&t);
	s.idt.limit = 0;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), 0);
	struct emu_exit x = tm_run(&t, 1000);
	assert_int_equal(x.reason, EMU_EXIT_SHUTDOWN);
	assert_non_null(strstr(x.msg, "triple fault"));
	tm_fini(&t);
}

/* #DE from a divide by zero and from an overflowing IDIV; error-code-less */
SNIP(s_de);
extern const uint8_t s_de_handler[], s_de_div[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_de\ns_de:\n"
        "  xor %ecx, %ecx\n  mov $1, %eax\n"
        ".globl s_de_div\ns_de_div:\n"
        "  div %ecx\n  hlt\n"
        ".globl s_de_handler\ns_de_handler:\n"
        "  mov (%rsp), %rbx\n  mov %rsp, %rdx\n  hlt\n"
        ".globl s_de_end\ns_de_end:\n.popsection\n");

static void test_divide_error(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_de, s_de_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 0, SNIP_ADDR(TM_CODE, s_de, s_de_handler), 0, 0, 0xe);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RBX], SNIP_ADDR(TM_CODE, s_de, s_de_div));
	assert_int_equal(s.gpr[X86_RDX], TM_KSTACK - 40);
	tm_fini(&t);
}

/* Compatibility mode at CPL3: INT n to a 64-bit handler whose IDT and
 * stack lie above 4 GiB (the delivery must use 64-bit addresses although
 * 32-bit code was running), IRETQ back to 32-bit code. */
/* its low 32 bits (1 GiB + x) are not mapped: a truncated address faults */
#define HIGH 0xffffff8040000000ULL
SNIP(s_compat);
extern const uint8_t s_compat_code[], s_compat_k80[], s_compat_k81[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_compat\ns_compat:\n"
        "  push $0x23\n  push $0xa0000\n  push $0x2\n  push $0x1b\n"
        "  lea s_compat_code(%rip), %rax\n  push %rax\n  iretq\n"
        ".code32\n"
        ".globl s_compat_code\ns_compat_code:\n"
        "  mov $7, %ebx\n  int $0x80\n  add $1, %eax\n  int $0x81\n"
        ".code64\n"
        ".globl s_compat_k80\ns_compat_k80:\n"
        "  mov %rsp, %r13\n  mov 8(%rsp), %r14\n  mov $0x100, %eax\n  iretq\n"
        ".globl s_compat_k81\ns_compat_k81:\n"
        "  hlt\n"
        ".globl s_compat_end\ns_compat_end:\n.popsection\n");

static void test_compat_mode_int(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_compat, s_compat_end);
	tm_long_mode(&t, TM_CODE);
	tm_w64(&t, TM_PML4 + 511 * 8, 0x9000 | 3); /* HIGH + x maps x, supervisor only */
	tm_w64(&t, 0x9000 + 8, TM_PD | 3);
	tm_gate(&t, 0x80, HIGH + SNIP_ADDR(TM_CODE, s_compat, s_compat_k80), 0, 3, 0xe);
	tm_gate(&t, 0x81, HIGH + SNIP_ADDR(TM_CODE, s_compat, s_compat_k81), 0, 3, 0xe);
	tm_w64(&t, TM_TSS + 4, HIGH + TM_KSTACK);
	struct x86_vcpu_state s = tm_state(&t);
	s.idt.base = HIGH + TM_IDT;
	s.gdt.base = HIGH + TM_GDT;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), 0);
	s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_R13], HIGH + TM_KSTACK - 40);
	assert_int_equal(s.gpr[X86_R14], 0x1b);
	assert_int_equal(s.gpr[X86_RAX], 0x101);
	assert_int_equal(s.gpr[X86_RBX], 7);
	tm_fini(&t);
}

/* INT 13 from CPL3 through a DPL0 gate: #GP(13*8+2) for the INT itself,
 * not a double fault; then an instruction longer than 15 bytes: #GP(0). */
SNIP(s_intgp);
extern const uint8_t s_intgp_user[], s_intgp_int[], s_intgp_kgp[], s_intgp_long[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_intgp\ns_intgp:\n"
        "  push $0x23\n  push $0xa0000\n  push $0x2\n  push $0x2b\n"
        "  lea s_intgp_user(%rip), %rax\n  push %rax\n  iretq\n"
        ".globl s_intgp_user\ns_intgp_user:\n"
        ".globl s_intgp_int\ns_intgp_int:\n"
        "  int $13\n"
        ".globl s_intgp_kgp\ns_intgp_kgp:\n"
        "  pop %rbx\n  pop %rcx\n  inc %r8\n  cmp $2, %r8\n  je 1f\n"
        /* second round at CPL0: 15 DS prefixes + add %ebx, %eax (17 bytes) */
        "  mov %rsp, %rdx\n"
        ".globl s_intgp_long\ns_intgp_long:\n"
        "  .byte 0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e\n"
        "  add %ebx, %eax\n"
        "1: mov %rbx, %r9\n  mov %rcx, %r10\n  hlt\n"
        ".globl s_intgp_end\ns_intgp_end:\n.popsection\n");

static void test_int_gp_and_long_insn(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_intgp, s_intgp_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 13, SNIP_ADDR(TM_CODE, s_intgp, s_intgp_kgp), 0, 0, 0xe);
	struct emu_exit x = tm_run(&t, 100000);
	/* first #GP: from INT 13 at CPL3 */
	if (x.reason != EMU_EXIT_HALT)
		fail_msg("exit %d (%s)", (int)x.reason, x.msg);
	struct x86_vcpu_state s = tm_state(&t);
	assert_int_equal(s.gpr[X86_R8], 2);
	assert_int_equal(s.gpr[X86_R9], 0); /* the long instruction: #GP(0) */
	assert_int_equal(s.gpr[X86_R10], SNIP_ADDR(TM_CODE, s_intgp, s_intgp_long));
	tm_fini(&t);
}

static void test_int_gp_error_code(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_intgp, s_intgp_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 13, SNIP_ADDR(TM_CODE, s_intgp, s_intgp_kgp), 0, 0, 0xe);
	/* stop in the handler the first time: r8 = 1 there, set it to 1 so the
	 * handler halts right away */
	struct x86_vcpu_state s = tm_state(&t);
	s.gpr[X86_R8] = 1;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), 0);
	s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_R9], 13 * 8 + 2);
	assert_int_equal(s.gpr[X86_R10], SNIP_ADDR(TM_CODE, s_intgp, s_intgp_int));
	tm_fini(&t);
}

/* With IOPL 3, CPL3 port I/O does not consult the bitmap; CLI works too. */
SNIP(s_iopl);
extern const uint8_t s_iopl_user[], s_iopl_k80[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_iopl\ns_iopl:\n"
        "  push $0x23\n  push $0xa0000\n  push $0x3202\n  push $0x2b\n"
        "  lea s_iopl_user(%rip), %rax\n  push %rax\n  iretq\n"
        ".globl s_iopl_user\ns_iopl_user:\n"
        "  mov $0x42, %al\n  out %al, $0x70\n  cli\n  pushfq\n  pop %rbx\n  int $0x80\n"
        ".globl s_iopl_k80\ns_iopl_k80:\n"
        "  hlt\n"
        ".globl s_iopl_end\ns_iopl_end:\n.popsection\n");

static void test_iopl3_io(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_iopl, s_iopl_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 0x80, SNIP_ADDR(TM_CODE, s_iopl, s_iopl_k80), 0, 3, 0xe);
	t.ram[TM_TSS + 0x68 + 0x70 / 8] |= 1u << (0x70 & 7); /* denied by the bitmap */
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(t.nout, 1);
	assert_int_equal(t.out_port[0], 0x70);
	assert_int_equal(t.out_val[0], 0x42);
	assert_int_equal(s.gpr[X86_RBX] & 0x3200, 0x3000); /* IOPL 3, IF cleared by CLI */
	tm_fini(&t);
}

/* SYSENTER from compatibility mode into a 64-bit kernel, SYSEXIT (REX.W)
 * to 64-bit user code. */
SNIP(s_sysenter);
extern const uint8_t s_sysenter_user[], s_sysenter_k[], s_sysenter_user64[], s_sysenter_k80[];
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_sysenter\ns_sysenter:\n"
        "  mov $0x174, %ecx\n  mov $0x08, %eax\n  xor %edx, %edx\n  wrmsr\n"
        "  mov $0x175, %ecx\n  mov $0x7f000, %eax\n  wrmsr\n"
        "  mov $0x176, %ecx\n  lea s_sysenter_k(%rip), %rax\n  wrmsr\n"
        "  push $0x23\n  push $0xa0000\n  push $0x2\n  push $0x1b\n"
        "  lea s_sysenter_user(%rip), %rax\n  push %rax\n  iretq\n"
        ".code32\n"
        ".globl s_sysenter_user\ns_sysenter_user:\n"
        "  sysenter\n"
        ".code64\n"
        ".globl s_sysenter_k\ns_sysenter_k:\n"
        "  mov %rsp, %r8\n  mov %cs, %r9\n  lea s_sysenter_user64(%rip), %rdx\n"
        "  mov $0xa0000, %rcx\n  sysexitq\n"
        ".globl s_sysenter_user64\ns_sysenter_user64:\n"
        "  mov %cs, %r10\n  int $0x80\n"
        ".globl s_sysenter_k80\ns_sysenter_k80:\n"
        "  hlt\n"
        ".globl s_sysenter_end\ns_sysenter_end:\n.popsection\n");

static void test_sysenter_sysexit(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_sysenter, s_sysenter_end);
	tm_long_mode(&t, TM_CODE);
	tm_gate(&t, 0x80, SNIP_ADDR(TM_CODE, s_sysenter, s_sysenter_k80), 0, 3, 0xe);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_R8], 0x7f000);
	assert_int_equal(s.gpr[X86_R9], 0x08);
	assert_int_equal(s.gpr[X86_R10], 0x2b);
	tm_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_kernel),          cmocka_unit_test(test_double_fault_ist),
	    cmocka_unit_test(test_triple_fault),         cmocka_unit_test(test_divide_error),
	    cmocka_unit_test(test_compat_mode_int),      cmocka_unit_test(test_int_gp_error_code),
	    cmocka_unit_test(test_int_gp_and_long_insn), cmocka_unit_test(test_iopl3_io),
	    cmocka_unit_test(test_sysenter_sysexit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
