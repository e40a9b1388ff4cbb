/* SPDX-License-Identifier: Apache-2.0 */
/* The small sections of a snapshot (format.h): the machine's configuration
 * beyond the header and the legacy devices' registers, as plain structs of
 * fixed-width fields. */
#ifndef CAPSA_VM_SNAPSHOT_SECTIONS_H
#define CAPSA_VM_SNAPSHOT_SECTIONS_H

#include "vm/x86/cpuid.h"

#include <stdint.h>

struct snap_config {
	/* the CPUID edits the VM was created with (the user's and the host
	 * workarounds'), so the restored vCPUs see the same CPUID */
	struct cpuid_edits edits;
};

struct snap_legacy {
	/* 16550A UART (COM1) */
	uint8_t ser_ier, ser_lcr, ser_mcr, ser_scr, ser_dll, ser_dlm, ser_fcr, ser_thri;
	/* CMOS/RTC */
	uint8_t cmos_index, pad0[7];
	uint8_t cmos_ram[128];
	/* i8042 */
	uint8_t kbd_ctr, kbd_pending, kbd_nout, pad1;
	uint8_t kbd_out[4];
	uint8_t kbd_aux[4]; /* which of kbd_out came from the mouse port */
};

#endif
