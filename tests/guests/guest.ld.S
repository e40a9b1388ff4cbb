/* SPDX-License-Identifier: Apache-2.0 */
/* Linker script of the test guest (preprocessed: WITH_PVH adds the PVH note). */
OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(entry64)

PHDRS
{
	image PT_LOAD FLAGS(7);
#ifdef WITH_PVH
	note PT_NOTE FLAGS(4);
#endif
}

SECTIONS
{
	. = 0x100000;
	_image_start = .;
	.text : {
		KEEP(*(.text.entry))
		*(.text .text.*)
	} :image
	.rodata : { *(.rodata .rodata.*) } :image
#ifdef WITH_PVH
	.note.Xen : { KEEP(*(.note.Xen)) } :image :note
#endif
	.data : ALIGN(4096) {
		*(.data.pagetables)
		*(.data .data.*)
	} :image
	.bss : ALIGN(4096) {
		*(.bss .bss.*)
		*(COMMON)
	} :image
	. = ALIGN(4096);
	_image_end = .;
	/DISCARD/ : { *(.eh_frame) *(.note.gnu.*) *(.note.GNU-stack) *(.comment) }
}
