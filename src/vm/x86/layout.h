/* SPDX-License-Identifier: Apache-2.0 */
/* Guest physical layout used by capsa's x86 boot code. */
#ifndef CAPSA_VM_X86_LAYOUT_H
#define CAPSA_VM_X86_LAYOUT_H

#define LAYOUT_GDT         0x0500ULL /* boot GDT (4 entries) */
#define LAYOUT_START_INFO  0x6000ULL /* PVH hvm_start_info + memmap + modlist */
#define LAYOUT_BOOT_PARAMS 0x7000ULL /* Linux zero page */
#define LAYOUT_PML4        0x9000ULL /* identity page tables: PML4, PDPT, 4 PDs */
#define LAYOUT_PDPT        0xa000ULL
#define LAYOUT_PD          0xb000ULL  /* ..0xefff */
#define LAYOUT_CMDLINE     0x20000ULL /* kernel command line */
#define LAYOUT_CMDLINE_MAX 0x10000ULL
#define LAYOUT_EBDA_START  0x9fc00ULL /* reserved: last KiB of base memory */
#define LAYOUT_BIOS_START  0xf0000ULL /* reserved: MP table lives here */
#define LAYOUT_MPTABLE     0xf0000ULL
#define LAYOUT_HIGH_START  0x100000ULL /* kernels load at 1 MiB and above */

#define LAYOUT_MMIO_HOLE 0xc0000000ULL /* 3 GiB: RAM above this goes to 4 GiB+ */
#define LAYOUT_4G        0x100000000ULL
#define LAYOUT_IOAPIC    0xfec00000ULL
#define LAYOUT_LAPIC     0xfee00000ULL
#define LAYOUT_TSS       0xfffbd000ULL /* KVM_SET_TSS_ADDR (3 pages) */
#define LAYOUT_IDENT_MAP 0xfffbc000ULL /* KVM_SET_IDENTITY_MAP_ADDR */

/* Boot GDT selectors (Linux boot protocol: __BOOT_CS, __BOOT_DS). */
#define BOOT_CS 0x10
#define BOOT_DS 0x18

#endif
