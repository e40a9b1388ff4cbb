/* SPDX-License-Identifier: Apache-2.0 */
/* Memory layout and constants shared by the test guest's assembly and C. */
#ifndef CAPSA_GUEST_LAYOUT_H
#define CAPSA_GUEST_LAYOUT_H

#define GUEST_LOAD_ADDR 0x100000 /* physical load address of the image */

/* How the guest was entered (first argument of guest_main). */
#define BOOT_PVH     1 /* Xen PVH 32-bit entry, %ebx = hvm_start_info */
#define BOOT_LINUX64 2 /* Linux 64-bit boot protocol, %rsi = boot_params */
#define BOOT_LINUX32 3 /* Linux 32-bit boot protocol, %esi = boot_params */

/* GDT selectors. */
#define SEL_KCODE64 0x08
#define SEL_KDATA   0x10
#define SEL_KCODE32 0x18
#define SEL_UDATA   0x20 /* used with RPL 3 */
#define SEL_UCODE64 0x28 /* used with RPL 3 */

#define MAX_CPUS       16
#define BSP_STACK_SIZE 16384
#define AP_STACK_SIZE  8192

/* Real-mode trampoline for application processors (below 1 MiB, 4 KiB aligned). */
#define AP_TRAMPOLINE_ADDR 0x8000

#endif
