/* SPDX-License-Identifier: Apache-2.0 */
/* The software CPU in 64-bit mode: integer instructions, flags, the stack,
 * string instructions, CPUID and the instruction budget. Expected values
 * follow from the architecture (worked out by hand in the comments). */
#include "emu_harness.h"

SNIP(s_arith);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_arith\ns_arith:\n"
        /* sum 10..1 with LOOP: rax = 55 */
        "  mov $10, %ecx\n  xor %eax, %eax\n"
        "1: add %ecx, %eax\n  loop 1b\n"
        /* signed divide: -7 / 2 = -3 rem -1 */
        "  mov $-7, %rbx\n  mov %rax, %r15\n  mov %rbx, %rax\n  cqo\n  mov $2, %rcx\n"
        "  idiv %rcx\n  mov %rax, %rbx\n  mov %rdx, %rsi\n  mov %r15, %rax\n"
        /* rotate: 0x80000001 rol 1 = 3, CF = 1 -> setc */
        "  mov $0x80000001, %edx\n  rol $1, %edx\n  mov $0, %r8d\n  setc %r8b\n"
        /* bsr 0x100 = 8 */
        "  mov $0x100, %r9\n  bsr %r9, %r9\n"
        /* 128-bit increment: (2^64-1) + 1 -> r10 = 0, r11 = 1 */
        "  mov $-1, %r10\n  xor %r11, %r11\n  add $1, %r10\n  adc $0, %r11\n"
        /* borrow: 0 - 1 sets CF; r12 = r12 - r12 - CF = -1 */
        "  xor %r12, %r12\n  sub $1, %r12\n  sbb %r13, %r13\n  mov %r13, %r12\n"
        /* unsigned above: 2 > 1 -> r14 = 2 */
        "  mov $1, %r14\n  mov $2, %r15\n  cmp %r14, %r15\n  cmova %r15, %r14\n"
        /* call/ret with a push/pop inside: rdi = 0x1234 */
        "  call 2f\n  jmp 3f\n"
        "2: push $0x1234\n  pop %rdi\n  ret\n"
        "3: hlt\n"
        ".globl s_arith_end\ns_arith_end:\n.popsection\n");

static void test_arith(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_arith, s_arith_end);
	tm_long_mode(&t, TM_CODE);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RAX], 55);
	assert_int_equal(s.gpr[X86_RBX], (uint64_t)-3);
	assert_int_equal(s.gpr[X86_RSI], (uint64_t)-1);
	assert_int_equal(s.gpr[X86_RDX], 3);
	assert_int_equal(s.gpr[X86_R8], 1);
	assert_int_equal(s.gpr[X86_R9], 8);
	assert_int_equal(s.gpr[X86_R10], 0);
	assert_int_equal(s.gpr[X86_R11], 1);
	assert_int_equal(s.gpr[X86_R12], (uint64_t)-1);
	assert_int_equal(s.gpr[X86_R14], 2);
	assert_int_equal(s.gpr[X86_RDI], 0x1234);
	assert_int_equal(s.gpr[X86_RSP], TM_KSTACK);
	assert_int_equal(s.rip, TM_CODE + (uint64_t)(s_arith_end - s_arith));
	tm_fini(&t);
}

SNIP(s_flags);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_flags\ns_flags:\n"
        /* 0x7f + 1 in 8 bits: OF, SF, AF set; ZF, CF clear; PF clear (0x80) */
        "  mov $0x7f, %al\n  add $1, %al\n  pushfq\n  pop %rbx\n"
        /* 0 - 1 in 32 bits: CF SF AF PF set (0xffffffff has even parity in the low byte) */
        "  xor %ecx, %ecx\n  sub $1, %ecx\n  pushfq\n  pop %rdx\n"
        /* inc keeps CF: stc; inc -> CF still 1 */
        "  stc\n  mov $5, %esi\n  inc %esi\n  pushfq\n  pop %rdi\n"
        /* lahf after xor: ZF and PF set, AH = 0x46 */
        "  xor %eax, %eax\n  lahf\n  shr $8, %eax\n"
        /* rotate after an add keeps SF/ZF/AF/PF of the add: 0xff + 1 = 0 (ZF PF AF
         * CF), then rol 0x40 -> 0x80: CF = 0, OF = 1; JZ sees the add's ZF */
        "  mov $0x40, %cl\n  mov $0xff, %r8b\n  add $1, %r8b\n  rol $1, %cl\n"
        "  jz 1f\n  ud2\n1: pushfq\n  pop %r9\n"
        "  hlt\n"
        ".globl s_flags_end\ns_flags_end:\n.popsection\n");

static void test_flags(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_flags, s_flags_end);
	tm_long_mode(&t, TM_CODE);
	struct x86_vcpu_state s = tm_run_halt(&t);
	const uint64_t arith = 0x8d5;
	assert_int_equal(s.gpr[X86_RBX] & arith, 0x800 | 0x80 | 0x10);
	assert_int_equal(s.gpr[X86_RDX] & arith, 0x1 | 0x80 | 0x10 | 0x4);
	assert_int_equal(s.gpr[X86_RDI] & 1, 1);
	assert_int_equal(s.gpr[X86_RAX], 0x46);
	assert_int_equal(s.gpr[X86_R9] & arith, 0x40 | 0x4 | 0x10 | 0x800);
	assert_int_equal(s.gpr[X86_RCX] & 0xff, 0x80);
	tm_fini(&t);
}

/* CMP/TEST + Jcc (fused into one handler): branches and the flags after */
SNIP(s_cmpjcc);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_cmpjcc\ns_cmpjcc:\n"
        "  xor %ebx, %ebx\n  mov $1, %eax\n"
        "  cmp $2, %eax\n  jb 1f\n  or $1, %ebx\n"     /* taken: bit 0 stays clear */
        "1: setb %cl\n"                                /* CF from the CMP: 1 */
        "  cmp $-1, %eax\n  jl 2f\n  or $2, %ebx\n"    /* signed 1 < -1 false: bit 1 set */
        "2: test %eax, %eax\n  jz 3f\n  or $4, %ebx\n" /* not zero: bit 2 set */
        "3: movb $0x80, 0x47000\n  testb $0x80, 0x47000\n  js 4f\n  or $8, %ebx\n"
        "4: sets %dl\n  hlt\n"
        ".globl s_cmpjcc_end\ns_cmpjcc_end:\n.popsection\n");

static void test_cmp_jcc(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_cmpjcc, s_cmpjcc_end);
	tm_long_mode(&t, TM_CODE);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_RBX], 2 | 4);
	assert_int_equal(s.gpr[X86_RCX] & 0xff, 1);
	assert_int_equal(s.gpr[X86_RDX] & 0xff, 1);
	tm_fini(&t);
}

SNIP(s_string);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_string\ns_string:\n"
        /* fill 0x40000..+4096+100 with 0xab (crosses a page), copy 300 bytes to
         * 0x43000 with rep movsb, compare with repe cmpsb */
        "  cld\n  mov $0x40000, %rdi\n  mov $0xab, %al\n  mov $4196, %rcx\n  rep stosb\n"
        "  mov $0x40f00, %rsi\n  mov $0x43000, %rdi\n  mov $300, %rcx\n  rep movsb\n"
        "  mov $0x40f00, %rsi\n  mov $0x43000, %rdi\n  mov $300, %rcx\n  repe cmpsb\n"
        "  mov %rcx, %rbx\n"
        /* scan for 0 in a region that has it at offset 10 */
        "  movb $0, 0x4300a\n  mov $0x43000, %rdi\n  mov $300, %rcx\n  xor %eax, %eax\n"
        "  repne scasb\n  mov %rdi, %rdx\n"
        /* backwards copy of qwords */
        "  std\n  mov $0x40008, %rsi\n  mov $0x44008, %rdi\n  mov $2, %rcx\n  rep movsq\n  cld\n"
        /* lock cmpxchg on memory: succeeds */
        "  movq $7, 0x45000\n  mov $7, %eax\n  mov $9, %r8d\n  lock cmpxchg %r8, 0x45000\n"
        "  setz %r9b\n"
        "  hlt\n"
        ".globl s_string_end\ns_string_end:\n.popsection\n");

static void test_string(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_string, s_string_end);
	tm_long_mode(&t, TM_CODE);
	struct x86_vcpu_state s = tm_run_halt(&t);
	assert_int_equal(t.ram[0x40000], 0xab);
	assert_int_equal(t.ram[0x40000 + 4195], 0xab);
	assert_int_equal(t.ram[0x40000 + 4196], 0);
	assert_int_equal(t.ram[0x43000 + 299], 0xab);
	assert_int_equal(t.ram[0x43000 + 300], 0);
	assert_int_equal(s.gpr[X86_RBX], 0);
	assert_int_equal(s.gpr[X86_RDX], 0x4300b);
	assert_int_equal(tm_r64(&t, 0x44000), 0xabababababababab);
	assert_int_equal(tm_r64(&t, 0x44008), 0xabababababababab);
	assert_int_equal(tm_r64(&t, 0x45000), 9);
	assert_int_equal(s.gpr[X86_R9] & 0xff, 1);
	tm_fini(&t);
}

SNIP(s_cpuid);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_cpuid\ns_cpuid:\n"
        "  xor %eax, %eax\n  cpuid\n  mov %ebx, %r8d\n  mov %edx, %r9d\n  mov %ecx, %r10d\n"
        "  mov $0x80000001, %eax\n  cpuid\n  mov %edx, %r11d\n"
        "  hlt\n"
        ".globl s_cpuid_end\ns_cpuid_end:\n.popsection\n");

static void test_cpuid(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_cpuid, s_cpuid_end);
	tm_long_mode(&t, TM_CODE);
	struct x86_vcpu_state s = tm_run_halt(&t);
	char v[13];
	memcpy(v, &s.gpr[X86_R8], 4);
	memcpy(v + 4, &s.gpr[X86_R9], 4);
	memcpy(v + 8, &s.gpr[X86_R10], 4);
	v[12] = 0;
	assert_string_equal(v, "GenuineIntel");
	assert_true(s.gpr[X86_R11] & (1u << 29)); /* LM */
	assert_true(s.gpr[X86_R11] & (1u << 20)); /* NX */
	tm_fini(&t);
}

SNIP(s_spin);
__asm__(".pushsection .rodata\n.code64\n"
        ".globl s_spin\ns_spin:\n"
        "1: inc %rax\n  jmp 1b\n"
        ".globl s_spin_end\ns_spin_end:\n.popsection\n");

static void test_budget(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	tm_load(&t, TM_CODE, s_spin, s_spin_end);
	tm_long_mode(&t, TM_CODE);
	uint64_t before = emu_cpu_instructions(t.cpu);
	struct emu_exit x = tm_run(&t, 1000);
	assert_int_equal(x.reason, EMU_EXIT_BUDGET);
	uint64_t ran = emu_cpu_instructions(t.cpu) - before;
	assert_true(ran >= 1000 && ran < 1010);
	struct x86_vcpu_state s = tm_state(&t);
	/* two instructions per iteration */
	assert_true(s.gpr[X86_RAX] >= 499 && s.gpr[X86_RAX] <= 505);
	tm_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_arith),   cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_string),  cmocka_unit_test(test_cpuid),
	    cmocka_unit_test(test_cmp_jcc), cmocka_unit_test(test_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
