/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Real-mode setup code of testguest.bzImage (the bzImage's first sectors).
 *
 * A 64-bit boot loader (capsa) never runs this: it reads the setup header and enters
 * the protected-mode image at 0x100000 + 0x200 in 64-bit mode. A loader that follows
 * the real-mode protocol (QEMU) jumps to setup + 0x200 in real mode; then this code
 * builds a boot_params page from the setup header and the BIOS E820 map (int 0x15),
 * identity-maps the first GiB and enters the image's 64-bit entry, exactly like a
 * 64-bit loader would. mkbzimage fills in the header fields (0x1f1..0x26b).
 */
#define BOOT_PARAMS 0x3000 /* 4 KiB zero page */
#define PT_BASE     0x4000 /* PML4, PDPT, PD: 0x4000..0x6fff */
#define E820_MAX    128
#define IMAGE_ENTRY64 0x100200

	.code16
	.section .text, "ax"
	.globl _start
_start:
	.org	0x1f1
	.fill	0x200 - 0x1f1, 1, 0		/* header, filled in by mkbzimage */
	jmp	setup16				/* 0x200: real-mode entry, CS = setup seg + 0x20 */
	.fill	0x26c - 0x202, 1, 0		/* rest of the header */

setup16:
	cli
	cld
	movw	%cs, %ax
	subw	$0x20, %ax
	movw	%ax, %ds			/* ds:0 = start of the setup code */
	xorw	%ax, %ax
	movw	%ax, %es
	movw	%ax, %ss
	movw	$0x7c00, %sp

	/* Zero the zero page and the page tables (0x3000..0x6fff). */
	movw	$BOOT_PARAMS, %di
	movw	$(0x4000 / 2), %cx
	xorw	%ax, %ax
	rep stosw
	/* Copy the setup header (the loader has filled in cmdline and initrd). */
	movw	$0x1f1, %si
	movw	$(BOOT_PARAMS + 0x1f1), %di
	movw	$(0x26c - 0x1f1), %cx
	rep movsb

	/* E820 memory map from the BIOS. */
	xorl	%ebx, %ebx
	movw	$(BOOT_PARAMS + 0x2d0), %di
	xorw	%bp, %bp
1:	movl	$0xe820, %eax
	movl	$0x534d4150, %edx		/* "SMAP" */
	movl	$20, %ecx
	int	$0x15
	jc	2f
	cmpl	$0x534d4150, %eax
	jne	2f
	incw	%bp
	addw	$20, %di
	testl	%ebx, %ebx
	jz	2f
	cmpw	$E820_MAX, %bp
	jb	1b
2:	testw	%bp, %bp
	jnz	4f
	call	e820_fwcfg			/* no BIOS E820 (QEMU microvm): ask fw_cfg */
4:	movw	%bp, %ax
	movb	%al, %es:(BOOT_PARAMS + 0x1e8)

	/* Page tables: the first GiB, identity-mapped with 2 MiB pages. */
	movl	$(PT_BASE + 0x1000 + 0x3), %es:PT_BASE
	movl	$(PT_BASE + 0x2000 + 0x3), %es:(PT_BASE + 0x1000)
	movw	$(PT_BASE + 0x2000), %di
	movl	$0x83, %eax
3:	movl	%eax, %es:(%di)
	addl	$0x200000, %eax
	addw	$8, %di
	cmpw	$(PT_BASE + 0x3000), %di
	jb	3b

	/* GDT and far pointer hold linear addresses: patch in our load address. */
	xorl	%eax, %eax
	movw	%ds, %ax
	shll	$4, %eax
	addl	%eax, gdt_desc + 2
	addl	%eax, far64

	lgdtl	gdt_desc
	movl	$0x20, %eax			/* CR4.PAE */
	movl	%eax, %cr4
	movl	$PT_BASE, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl	$0x100, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000001, %eax		/* PG | PE: straight to long mode */
	movl	%eax, %cr0
	ljmpl	*far64

/*
 * Fallback memory map from QEMU's fw_cfg file "etc/e820" (I/O ports 0x510/0x511), whose
 * entries have the boot_params E820 layout. Sets %bp to the number of entries copied.
 */
#define FW_CFG_SEL     0x510
#define FW_CFG_DATA    0x511
#define FW_CFG_FILEDIR 0x19
fwcfg_be32:					/* next 4 data bytes, big-endian, into %eax */
	movw	$FW_CFG_DATA, %dx
	xorl	%eax, %eax
	movw	$4, %cx
5:	shll	$8, %eax
	inb	%dx, %al
	loop	5b
	ret

e820_fwcfg:
	xorw	%bp, %bp
	movw	$FW_CFG_SEL, %dx
	movw	$FW_CFG_FILEDIR, %ax
	outw	%ax, %dx
	call	fwcfg_be32
	cmpl	$256, %eax			/* no fw_cfg reads 0xffffffff: give up */
	ja	9f
	movl	%eax, %edi			/* files left */
6:	testl	%edi, %edi
	jz	9f
	decl	%edi
	call	fwcfg_be32
	movl	%eax, %esi			/* file size */
	call	fwcfg_be32
	shrl	$16, %eax			/* selector (big-endian u16), then 2 reserved */
	movw	%ax, %bx
	/* Compare the 56-byte name with "etc/e820" (NUL-padded). */
	pushl	%esi
	xorl	%esi, %esi			/* %si: index, %ah: mismatch flag */
	xorb	%ah, %ah
	movw	$FW_CFG_DATA, %dx
7:	inb	%dx, %al
	cmpw	$9, %si
	jae	8f
	cmpb	fwcfg_e820_name(%si), %al
	je	8f
	movb	$1, %ah
8:	incw	%si
	cmpw	$56, %si
	jb	7b
	popl	%esi
	testb	%ah, %ah
	jnz	6b
	/* Found: select it and copy whole entries into the zero page. */
	movw	$FW_CFG_SEL, %dx
	movw	%bx, %ax
	outw	%ax, %dx
	movl	%esi, %eax
	xorl	%edx, %edx
	movl	$20, %ecx
	divl	%ecx
	cmpl	$E820_MAX, %eax
	jbe	10f
	movl	$E820_MAX, %eax
10:	movw	%ax, %bp
	imulw	$20, %ax, %cx
	movw	$(BOOT_PARAMS + 0x2d0), %di
	movw	$FW_CFG_DATA, %dx
11:	jcxz	9f
	inb	%dx, %al
	movb	%al, %es:(%di)
	incw	%di
	decw	%cx
	jmp	11b
9:	ret

fwcfg_e820_name:
	.asciz	"etc/e820"

	.code64
long64:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	$BOOT_PARAMS, %esi
	movl	$0x7c00, %esp
	movl	$IMAGE_ENTRY64, %eax
	jmp	*%rax

	.balign	8
gdt:
	.quad	0
	.quad	0x00af9b000000ffff		/* 0x08 code, 64-bit */
	.quad	0x00cf93000000ffff		/* 0x10 data */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt				/* + load address */
far64:
	.long	long64				/* + load address */
	.word	0x08

	.section .note.GNU-stack, "", @progbits
