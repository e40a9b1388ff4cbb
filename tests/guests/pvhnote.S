/* SPDX-License-Identifier: Apache-2.0 */
/* Xen PVH ELF note (XEN_ELFNOTE_PHYS32_ENTRY): the 32-bit entry point. Linked only
 * into testguest.elf; testguest-nopvh.elf is the same code without this note. */
	.section .note.Xen, "a", @note
	.balign 4
	.long	4		/* namesz: "Xen\0" */
	.long	4		/* descsz */
	.long	18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.balign 4
	.long	pvh_entry
	.balign 4

	.section .note.GNU-stack, "", @progbits
