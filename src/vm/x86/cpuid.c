/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/x86/cpuid.h"

#include <string.h>

struct feature {
	const char *name;
	uint32_t leaf, subleaf;
	enum cpuid_reg reg;
	uint8_t bit;
};

static const struct feature features[] = {
    /* leaf 1 EDX */
    {"fpu", 1, 0, CPUID_EDX, 0},
    {"vme", 1, 0, CPUID_EDX, 1},
    {"de", 1, 0, CPUID_EDX, 2},
    {"pse", 1, 0, CPUID_EDX, 3},
    {"tsc", 1, 0, CPUID_EDX, 4},
    {"msr", 1, 0, CPUID_EDX, 5},
    {"pae", 1, 0, CPUID_EDX, 6},
    {"mce", 1, 0, CPUID_EDX, 7},
    {"cx8", 1, 0, CPUID_EDX, 8},
    {"apic", 1, 0, CPUID_EDX, 9},
    {"sep", 1, 0, CPUID_EDX, 11},
    {"mtrr", 1, 0, CPUID_EDX, 12},
    {"pge", 1, 0, CPUID_EDX, 13},
    {"mca", 1, 0, CPUID_EDX, 14},
    {"cmov", 1, 0, CPUID_EDX, 15},
    {"pat", 1, 0, CPUID_EDX, 16},
    {"pse36", 1, 0, CPUID_EDX, 17},
    {"clflush", 1, 0, CPUID_EDX, 19},
    {"mmx", 1, 0, CPUID_EDX, 23},
    {"fxsr", 1, 0, CPUID_EDX, 24},
    {"sse", 1, 0, CPUID_EDX, 25},
    {"sse2", 1, 0, CPUID_EDX, 26},
    {"ht", 1, 0, CPUID_EDX, 28},
    /* leaf 1 ECX */
    {"sse3", 1, 0, CPUID_ECX, 0},
    {"pclmulqdq", 1, 0, CPUID_ECX, 1},
    {"monitor", 1, 0, CPUID_ECX, 3},
    {"vmx", 1, 0, CPUID_ECX, 5},
    {"ssse3", 1, 0, CPUID_ECX, 9},
    {"fma", 1, 0, CPUID_ECX, 12},
    {"cx16", 1, 0, CPUID_ECX, 13},
    {"pdcm", 1, 0, CPUID_ECX, 15},
    {"pcid", 1, 0, CPUID_ECX, 17},
    {"sse4_1", 1, 0, CPUID_ECX, 19},
    {"sse4_2", 1, 0, CPUID_ECX, 20},
    {"x2apic", 1, 0, CPUID_ECX, 21},
    {"movbe", 1, 0, CPUID_ECX, 22},
    {"popcnt", 1, 0, CPUID_ECX, 23},
    {"tsc_deadline_timer", 1, 0, CPUID_ECX, 24},
    {"aes", 1, 0, CPUID_ECX, 25},
    {"xsave", 1, 0, CPUID_ECX, 26},
    {"avx", 1, 0, CPUID_ECX, 28},
    {"f16c", 1, 0, CPUID_ECX, 29},
    {"rdrand", 1, 0, CPUID_ECX, 30},
    {"hypervisor", 1, 0, CPUID_ECX, 31},
    /* leaf 7.0 */
    {"fsgsbase", 7, 0, CPUID_EBX, 0},
    {"tsc_adjust", 7, 0, CPUID_EBX, 1},
    {"bmi1", 7, 0, CPUID_EBX, 3},
    {"hle", 7, 0, CPUID_EBX, 4},
    {"avx2", 7, 0, CPUID_EBX, 5},
    {"smep", 7, 0, CPUID_EBX, 7},
    {"bmi2", 7, 0, CPUID_EBX, 8},
    {"erms", 7, 0, CPUID_EBX, 9},
    {"invpcid", 7, 0, CPUID_EBX, 10},
    {"rtm", 7, 0, CPUID_EBX, 11},
    {"avx512f", 7, 0, CPUID_EBX, 16},
    {"rdseed", 7, 0, CPUID_EBX, 18},
    {"adx", 7, 0, CPUID_EBX, 19},
    {"smap", 7, 0, CPUID_EBX, 20},
    {"clflushopt", 7, 0, CPUID_EBX, 23},
    {"clwb", 7, 0, CPUID_EBX, 24},
    {"sha_ni", 7, 0, CPUID_EBX, 29},
    {"umip", 7, 0, CPUID_ECX, 2},
    {"pku", 7, 0, CPUID_ECX, 3},
    {"gfni", 7, 0, CPUID_ECX, 8},
    {"vaes", 7, 0, CPUID_ECX, 9},
    {"la57", 7, 0, CPUID_ECX, 16},
    {"rdpid", 7, 0, CPUID_ECX, 22},
    {"md_clear", 7, 0, CPUID_EDX, 10},
    {"arch_capabilities", 7, 0, CPUID_EDX, 29},
    /* leaf 0xd.1 */
    {"xsaveopt", 0xd, 1, CPUID_EAX, 0},
    {"xsavec", 0xd, 1, CPUID_EAX, 1},
    {"xgetbv1", 0xd, 1, CPUID_EAX, 2},
    {"xsaves", 0xd, 1, CPUID_EAX, 3},
    /* extended leaves */
    {"lahf_lm", 0x80000001, 0, CPUID_ECX, 0},
    {"svm", 0x80000001, 0, CPUID_ECX, 2},
    {"abm", 0x80000001, 0, CPUID_ECX, 5},
    {"sse4a", 0x80000001, 0, CPUID_ECX, 6},
    {"3dnowprefetch", 0x80000001, 0, CPUID_ECX, 8},
    {"topoext", 0x80000001, 0, CPUID_ECX, 22},
    {"syscall", 0x80000001, 0, CPUID_EDX, 11},
    {"nx", 0x80000001, 0, CPUID_EDX, 20},
    {"pdpe1gb", 0x80000001, 0, CPUID_EDX, 26},
    {"rdtscp", 0x80000001, 0, CPUID_EDX, 27},
    {"lm", 0x80000001, 0, CPUID_EDX, 29},
    {"xsaveerptr", 0x80000008, 0, CPUID_EBX, 2},
    /* KVM paravirtual features (leaf 0x40000001 EAX) */
    {"kvm_pv_tlb_flush", 0x40000001, 0, CPUID_EAX, 9},
    {"kvm_pv_unhalt", 0x40000001, 0, CPUID_EAX, 7},
    {"kvm_pv_send_ipi", 0x40000001, 0, CPUID_EAX, 11},
    {"kvm_poll_control", 0x40000001, 0, CPUID_EAX, 12},
    {"kvm_pv_sched_yield", 0x40000001, 0, CPUID_EAX, 13},
    {"kvm_async_pf_int", 0x40000001, 0, CPUID_EAX, 14},
    {"kvm_msi_ext_dest_id", 0x40000001, 0, CPUID_EAX, 15},
};

#define NFEATURES (sizeof(features) / sizeof(features[0]))

const char *cpuid_feature_list(void)
{
	static char buf[2048];
	if (!buf[0]) {
		size_t off = 0;
		for (size_t i = 0; i < NFEATURES && off + 32 < sizeof(buf); i++) {
			size_t l = strlen(features[i].name);
			memcpy(buf + off, features[i].name, l);
			off += l;
			buf[off++] = i + 1 < NFEATURES ? ' ' : '\0';
		}
	}
	return buf;
}

int cpuid_parse_features(const char *list, struct cpuid_edits *out, struct err *e)
{
	const char *p = list;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0) {
			p = end ? end + 1 : p + len;
			continue;
		}
		char sign = p[0];
		if ((sign != '-' && sign != '+') || len < 2 || len > 40)
			return err_set(e, ERR_INPUT,
			               "--cpu-features: '%.*s' must be +NAME or -NAME", (int)len,
			               p);
		const struct feature *f = NULL;
		for (size_t i = 0; i < NFEATURES; i++)
			if (strlen(features[i].name) == len - 1 &&
			    !strncmp(features[i].name, p + 1, len - 1))
				f = &features[i];
		if (!f)
			return err_set(
			    e, ERR_INPUT,
			    "--cpu-features: unknown feature '%.*s' (known: see capsa vm "
			    "run --help)",
			    (int)(len - 1), p + 1);
		if (out->n == CPUID_MAX_EDITS)
			return err_set(e, ERR_INPUT, "--cpu-features: more than %d edits",
			               CPUID_MAX_EDITS);
		out->e[out->n++] =
		    (struct cpuid_edit){f->leaf, f->subleaf, f->reg, f->bit, sign == '+'};
		p = end ? end + 1 : p + len;
	}
	return 0;
}

static uint32_t *reg_of(struct cpuid_entry *c, enum cpuid_reg r)
{
	switch (r) {
	case CPUID_EAX:
		return &c->eax;
	case CPUID_EBX:
		return &c->ebx;
	case CPUID_ECX:
		return &c->ecx;
	default:
		return &c->edx;
	}
}

static unsigned order(unsigned n) /* ceil(log2(n)) */
{
	unsigned s = 0;
	while ((1U << s) < n)
		s++;
	return s;
}

static int has_entry(const struct cpuid_entry *ent, size_t n, uint32_t fn, uint32_t idx)
{
	for (size_t i = 0; i < n; i++)
		if (ent[i].function == fn && ent[i].index == idx)
			return 1;
	return 0;
}

/* KVM may report leaf 0xB with sub-leaf 0 only; the x2APIC topology needs
 * the core level (1) and the terminating invalid level (2) as well. */
static size_t add_topology_subleaves(struct cpuid_entry *ent, size_t n, size_t cap)
{
	if (!has_entry(ent, n, 0xb, 0))
		return n;
	for (uint32_t idx = 1; idx <= 2; idx++) {
		if (has_entry(ent, n, 0xb, idx) || n == cap)
			continue;
		ent[n] = (struct cpuid_entry){.function = 0xb, .index = idx, .flags = 1};
		n++; /* flags: KVM_CPUID_FLAG_SIGNIFCANT_INDEX */
	}
	return n;
}

size_t cpuid_customize(struct cpuid_entry *ent, size_t n, size_t cap, unsigned apic_id,
                       unsigned ncpus, const struct cpuid_edits *edits)
{
	unsigned core_bits = order(ncpus);
	n = add_topology_subleaves(ent, n, cap);
	for (size_t i = 0; i < n; i++) {
		struct cpuid_entry *c = &ent[i];
		switch (c->function) {
		case 1:
			c->ebx = (c->ebx & 0x0000ffffU) | (apic_id << 24) |
			         ((ncpus > 255 ? 255 : ncpus) << 16);
			c->ecx |= 1U << 31; /* hypervisor */
			if (ncpus > 1)
				c->edx |= 1U << 28; /* HTT: the logical count is valid */
			break;
		case 4: /* deterministic cache parameters: cores per package */
			c->eax &= 0x03ffffffU;
			c->eax |= ((ncpus - 1) & 0x3f) << 26;
			c->eax &= ~(0xfffU << 14); /* caches are per core (one thread) */
			break;
		case 0xb:
		case 0x1f: /* extended topology: SMT level (1 thread), core level */
			if (c->index == 0) {
				c->eax = 0;
				c->ebx = 1;
				c->ecx = (1U << 8) | 0;
			} else if (c->index == 1) {
				c->eax = core_bits;
				c->ebx = ncpus;
				c->ecx = (2U << 8) | 1;
			} else {
				c->eax = c->ebx = 0;
				c->ecx = c->index;
			}
			c->edx = apic_id;
			break;
		case 0x80000008: /* AMD: number of cores - 1 */
			c->ecx = (c->ecx & ~0xf0ffU) | (core_bits << 12) | ((ncpus - 1) & 0xff);
			break;
		case 0x8000001e: /* AMD topology extensions */
			c->eax = apic_id;
			c->ebx = (c->ebx & ~0xff00U) | apic_id; /* core id, one thread per core */
			c->ecx = 0;
			break;
		}
	}
	for (size_t k = 0; edits && k < edits->n; k++) {
		const struct cpuid_edit *ed = &edits->e[k];
		for (size_t i = 0; i < n; i++) {
			if (ent[i].function != ed->leaf || ent[i].index != ed->subleaf)
				continue;
			uint32_t *r = reg_of(&ent[i], ed->reg);
			if (ed->set)
				*r |= 1U << ed->bit;
			else
				*r &= ~(1U << ed->bit);
		}
	}
	return n;
}
