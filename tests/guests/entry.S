/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entry points of the capsa test guest.
 *
 *   linux32_entry  image offset 0x000: Linux 32-bit boot protocol (%esi = boot_params)
 *   entry64        image offset 0x200: Linux 64-bit boot protocol (%rsi = boot_params);
 *                  this is the ELF e_entry and the bzImage 64-bit entry
 *   pvh_entry      Xen PVH entry named by the PVH ELF note (%ebx = hvm_start_info)
 *   ap_tramp_*     real-mode code copied below 1 MiB to start application processors
 *
 * Every path loads the guest's own GDT and identity-mapped page tables (first 4 GiB,
 * 2 MiB pages, user-accessible so that CPL3 tests can run anywhere) and calls
 * guest_main(kind, info) or ap_main() in 64-bit mode.
 */
#include "layout.h"

#define CR0_PE   0x00000001
#define CR0_PG   0x80000000
#define CR4_PAE  0x00000020
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100
#define SEL_TSS  0x30
#define TSS_LIMIT (104 + 8192 + 1 - 1)

	.section .text.entry, "ax"
	.code32
	.globl linux32_entry
linux32_entry:
	cli
	movl	$BOOT_LINUX32, %edi
	jmp	bsp32

	/* Shared 32-bit path of the PVH and Linux 32-bit entries: %edi = kind, %esi = info. */
bsp32:
	cld
	lgdt	gdt_desc
	movl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	ljmp	$SEL_KCODE64, $bsp64_from32

	.org	0x200
	.code64
	.globl entry64
entry64:
	cli
	cld
	lgdt	gdt_desc
	movl	$CR4_PAE, %eax
	movq	%rax, %cr4
	movl	$pml4, %eax
	movq	%rax, %cr3
	movq	$bsp_stack_top, %rsp
	pushq	$SEL_KCODE64
	pushq	$1f
	lretq
1:	movl	$BOOT_LINUX64, %edi
	jmp	bsp64

bsp64_from32:
	movl	%edi, %edi		/* upper halves are undefined after the mode switch */
	movl	%esi, %esi
	movq	$bsp_stack_top, %rsp
bsp64:
	movl	$SEL_KDATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	call	guest_main
2:	cli
	hlt
	jmp	2b

	.code32
	.globl pvh_entry
pvh_entry:
	cli
	movl	%ebx, %esi
	movl	$BOOT_PVH, %edi
	jmp	bsp32

	/* Application processors arrive here from the trampoline in 32-bit protected mode. */
ap_entry32:
	movl	$SEL_KDATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	ljmp	$SEL_KCODE64, $ap_entry64

	.code64
ap_entry64:
	movl	$SEL_KDATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	/* Take the next stack slot; slots beyond MAX_CPUS just halt. */
	movl	$1, %eax
	lock xaddl %eax, ap_next_slot
	cmpl	$MAX_CPUS, %eax
	jae	3f
	incl	%eax
	imull	$AP_STACK_SIZE, %eax
	leaq	ap_stacks(%rax), %rsp
	call	ap_main
3:	cli
	hlt
	jmp	3b

	/* enter_user(fn, arg, stack_top): iretq to CPL3 with IOPL=3, never returns.
	 * Some hosts (paravirtual KVM) keep the guest's RFLAGS.IOPL at 0 in user
	 * mode, so ring-3 port I/O also needs a TSS whose I/O permission bitmap
	 * allows every port; it is loaded once, on the first call. */
	.globl enter_user
enter_user:
	str	%ax
	cmpw	$SEL_TSS, %ax
	je	1f
	leaq	tss(%rip), %rax
	movq	%rax, %rcx		/* descriptor low quad: limit, base 15:0 */
	andq	$0xffff, %rcx
	shlq	$16, %rcx
	orq	$TSS_LIMIT, %rcx
	movq	%rax, %r8		/* base 23:16 */
	shrq	$16, %r8
	andq	$0xff, %r8
	shlq	$32, %r8
	orq	%r8, %rcx
	movq	%rax, %r8		/* base 31:24 */
	shrq	$24, %r8
	shlq	$56, %r8
	orq	%r8, %rcx
	movabsq	$(0x89 << 40), %r8	/* present, DPL 0, available 64-bit TSS */
	orq	%r8, %rcx
	movq	%rcx, gdt + SEL_TSS(%rip)
	shrq	$32, %rax
	movq	%rax, gdt + SEL_TSS + 8(%rip)
	movw	$SEL_TSS, %ax
	ltr	%ax
1:
	andq	$-16, %rdx
	subq	$8, %rdx		/* as if fn had been called */
	pushq	$(SEL_UDATA | 3)
	pushq	%rdx
	pushq	$0x3002			/* IOPL=3, IF=0 */
	pushq	$(SEL_UCODE64 | 3)
	pushq	%rdi
	movq	%rsi, %rdi
	movl	$(SEL_UDATA | 3), %eax
	movl	%eax, %ds
	movl	%eax, %es
	iretq

	/* Real-mode trampoline, copied to AP_TRAMPOLINE_ADDR; entered at CS:0. */
	.code16
	.globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
	cli
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	ap_gdt_desc - ap_tramp_start
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$SEL_KCODE32, $ap_entry32
	.balign 4
ap_gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt
ap_tramp_end:

	.data
	.balign 16
gdt:
	.quad	0
	.quad	0x00af9b000000ffff	/* 0x08 kernel code, 64-bit */
	.quad	0x00cf93000000ffff	/* 0x10 kernel data */
	.quad	0x00cf9b000000ffff	/* 0x18 kernel code, 32-bit */
	.quad	0x00cff3000000ffff	/* 0x20 user data, DPL 3 */
	.quad	0x00affb000000ffff	/* 0x28 user code, 64-bit, DPL 3 */
	.quad	0, 0			/* 0x30 TSS, filled in by enter_user */
gdt_end:
	.balign 8
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	gdt

	/* 64-bit TSS: no stacks needed (nothing returns to CPL0); the I/O
	 * permission bitmap that follows allows all 65536 ports. */
	.balign 16
tss:
	.fill	102, 1, 0
	.word	104			/* I/O map base */
	.fill	8192, 1, 0		/* one bit per port, 0 = allowed */
	.byte	0xff			/* terminator required after the bitmap */
tss_end:

	.globl ap_next_slot
	.balign 4
ap_next_slot:
	.long	0

	/* Identity map of the first 4 GiB with 2 MiB pages (P|RW|US|PS); the top GiB
	 * (MMIO: I/O APIC, LAPIC) is also uncached. Built at link time: no loop at CPL0. */
	.section .data.pagetables, "aw"
	.balign 4096
	.globl pml4
pml4:
	.quad	pdpt + 0x7
	.fill	511, 8, 0
pdpt:
	.quad	pd + 0x0000 + 0x7
	.quad	pd + 0x1000 + 0x7
	.quad	pd + 0x2000 + 0x7
	.quad	pd + 0x3000 + 0x7
	.fill	508, 8, 0
pd:
	.set	i, 0
	.rept	2048
	.quad	(i << 21) | 0x87 | (((i >> 9) / 3) * 0x18)
	.set	i, i + 1
	.endr

	.bss
	.balign 16
bsp_stack:
	.skip	BSP_STACK_SIZE
bsp_stack_top:
	.globl ap_stacks
	.balign 16
ap_stacks:
	.skip	AP_STACK_SIZE * (MAX_CPUS + 1)

	.section .note.GNU-stack, "", @progbits
