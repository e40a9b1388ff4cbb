/* SPDX-License-Identifier: Apache-2.0 */
/* Intel MultiProcessor Specification 1.4 table: how a guest without ACPI
 * finds its CPUs, its I/O APIC and the ISA interrupt routing. */
#ifndef CAPSA_VM_X86_MPTABLE_H
#define CAPSA_VM_X86_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#define MPTABLE_MAX_CPUS 254

/* Write the floating pointer and configuration table for `ncpus` CPUs (APIC
 * IDs 0..ncpus-1, CPU 0 the BSP; the I/O APIC gets ID ncpus) into `buf`
 * (`cap` bytes), which the guest sees at physical address `gpa`.
 * cpu_signature/cpu_features are CPUID.1 EAX/EDX. Returns bytes used or
 * 0 if `cap` is too small or ncpus is out of range. */
size_t mptable_build(uint8_t *buf, size_t cap, uint64_t gpa, unsigned ncpus, uint32_t cpu_signature,
                     uint32_t cpu_features);

#endif
