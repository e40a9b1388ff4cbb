/* SPDX-License-Identifier: Apache-2.0 */
/* The CPU identity recorded in a snapshot and checked on restore. */
#include "vm/snapshot/snapshot.h"
#include "vm/vm_internal.h"

#include <stdlib.h>
#include <string.h>

static const struct cpuid_entry *find(const struct cpuid_entry *c, size_t n, uint32_t fn)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].function == fn && c[i].index == 0)
			return &c[i];
	return NULL;
}

int snap_cpu_of(struct vm *vm, struct snap_cpu *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	size_t cap = vm->tmpl.ncpuid + CPUID_EXTRA_ENTRIES;
	struct cpuid_entry *c = calloc(cap, sizeof(*c));
	if (!c)
		return err_sys(e, "allocating CPUID");
	size_t n = x86_vcpu_cpuid(&vm->tmpl, 0, c, cap);
	const struct cpuid_entry *l0 = find(c, n, 0), *l1 = find(c, n, 1), *l7 = find(c, n, 7);
	if (l0) {
		memcpy(out->vendor, &l0->ebx, 4);
		memcpy(out->vendor + 4, &l0->edx, 4);
		memcpy(out->vendor + 8, &l0->ecx, 4);
	}
	if (l1) {
		out->sig = l1->eax;
		/* bits 24-31 of ebx are the APIC ID and vary: leave ebx out; ecx
		 * bit 27 (OSXSAVE) follows the guest's CR4 */
		out->f1_ecx = l1->ecx & ~(1u << 27);
		out->f1_edx = l1->edx;
	}
	if (l7) {
		out->f7_ebx = l7->ebx;
		out->f7_ecx = l7->ecx & ~(1u << 4); /* OSPKE follows CR4 */
		out->f7_edx = l7->edx;
	}
	free(c);
	return 0;
}
