/* SPDX-License-Identifier: Apache-2.0 */
/* The Linux x86 boot protocol: bzImage setup header and boot_params
 * ("zero page") field offsets (Documentation/arch/x86/boot.rst). */
#ifndef CAPSA_VM_X86_BZIMAGE_H
#define CAPSA_VM_X86_BZIMAGE_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

/* boot_params offsets */
#define BP_E820_ENTRIES      0x1e8
#define BP_HDR               0x1f1 /* setup header starts here */
#define BP_SETUP_SECTS       0x1f1
#define BP_SYSSIZE           0x1f4
#define BP_VID_MODE          0x1fa
#define BP_BOOT_FLAG         0x1fe
#define BP_JUMP              0x200
#define BP_HEADER            0x202
#define BP_VERSION           0x206
#define BP_TYPE_OF_LOADER    0x210
#define BP_LOADFLAGS         0x211
#define BP_CODE32_START      0x214
#define BP_RAMDISK_IMAGE     0x218
#define BP_RAMDISK_SIZE      0x21c
#define BP_HEAP_END_PTR      0x224
#define BP_CMD_LINE_PTR      0x228
#define BP_INITRD_MAX        0x22c
#define BP_KERNEL_ALIGN      0x230
#define BP_RELOCATABLE       0x234
#define BP_XLOADFLAGS        0x236
#define BP_CMDLINE_SIZE      0x238
#define BP_PREF_ADDRESS      0x258
#define BP_INIT_SIZE         0x260
#define BP_E820_TABLE        0x2d0
#define BP_E820_MAX          128
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_SIZE              4096

#define LOADFLAG_LOADED_HIGH   0x01
#define LOADFLAG_KEEP_SEGMENTS 0x40
#define LOADFLAG_CAN_USE_HEAP  0x80
#define XLF_KERNEL_64          0x01

struct bzimage {
	uint32_t version;    /* boot protocol, e.g. 0x020f */
	uint32_t setup_size; /* bytes of real-mode setup incl. boot sector */
	uint64_t pm_offset;  /* protected-mode kernel's offset in the file */
	uint64_t pm_size;    /* and its size */
	uint64_t load_addr;  /* where capsa puts it */
	uint64_t init_size;  /* memory the kernel needs from load_addr */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size; /* max length incl. NUL */
	size_t hdr_end;        /* end of the setup header in the file */
};

int bzimage_is_bzimage(const uint8_t *buf, size_t len);
/* Parse and check the setup header. */
int bzimage_parse(const uint8_t *buf, size_t len, const char *name, struct bzimage *bz,
                  struct err *e);

#endif
