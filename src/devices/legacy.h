/* SPDX-License-Identifier: Apache-2.0 */
/* Small legacy port devices of a PC that a guest probes:
 *  - PCI configuration mechanism #1 (0xcf8-0xcff) with no devices behind it;
 *  - the POST code port 0x80, which guests use as an I/O delay (ignored);
 *  - capsa's debug-exit port 0x501: a byte V written there ends the VM and
 *    `capsa vm run` exits with status V (for test guests). */
#ifndef CAPSA_DEVICES_LEGACY_H
#define CAPSA_DEVICES_LEGACY_H

#include "devices/device.h"

#include <stdint.h>

#define PCI_CONFIG_PORT 0xcf8 /* length 8 */
#define POST_PORT       0x80  /* length 1 */
#define DEBUG_EXIT_PORT 0x501 /* length 1 */

struct pci_nodev {
	uint32_t address; /* last value written to 0xcf8 */
};

extern const struct io_ops pci_nodev_ops;
extern const struct io_ops post_ops;
extern const struct io_ops debug_exit_ops; /* device context: struct vm_control */

#endif
