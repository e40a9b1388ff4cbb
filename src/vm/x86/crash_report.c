/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/x86/crash_report.h"

#include "vm/x86/pagetables.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void app(char *buf, size_t cap, const char *fmt, ...)
{
	size_t len = strnlen(buf, cap);
	if (len + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + len, cap - len, fmt, ap);
	va_end(ap);
}

static void segline(char *buf, size_t cap, const char *name, const struct x86_segment *s)
{
	app(buf, cap, "  %s=%04x base=%016llx limit=%08x type=%x dpl=%u %s%s\n", name, s->selector,
	    (unsigned long long)s->base, s->limit, s->type, s->dpl,
	    s->l ? "64-bit" : (s->db ? "32-bit" : "16-bit"), s->present ? "" : " not-present");
}

void x86_crash_report(const struct x86_vcpu_state *s, unsigned index, const struct guest_mem *gm,
                      const char *what, char *buf, size_t cap)
{
	buf[0] = '\0';
	app(buf, cap, "vCPU %u stopped: %s\n", index, what);
	if (!s) {
		app(buf, cap, "  (registers unavailable)\n");
		return;
	}
	const uint64_t *g = s->gpr;
	app(buf, cap, "  rip=%016llx rsp=%016llx rflags=%016llx\n", (unsigned long long)s->rip,
	    (unsigned long long)g[X86_RSP], (unsigned long long)s->rflags);
	app(buf, cap, "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
	    (unsigned long long)g[X86_RAX], (unsigned long long)g[X86_RBX],
	    (unsigned long long)g[X86_RCX], (unsigned long long)g[X86_RDX]);
	app(buf, cap, "  rsi=%016llx rdi=%016llx rbp=%016llx r8=%016llx\n",
	    (unsigned long long)g[X86_RSI], (unsigned long long)g[X86_RDI],
	    (unsigned long long)g[X86_RBP], (unsigned long long)g[X86_R8]);
	app(buf, cap, "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx\n",
	    (unsigned long long)s->cr0, (unsigned long long)s->cr2, (unsigned long long)s->cr3,
	    (unsigned long long)s->cr4, (unsigned long long)s->efer);
	segline(buf, cap, "cs", &s->seg[X86_CS]);
	segline(buf, cap, "ss", &s->seg[X86_SS]);
	app(buf, cap, "  gdt=%016llx/%x idt=%016llx/%x\n", (unsigned long long)s->gdt.base,
	    s->gdt.limit, (unsigned long long)s->idt.base, s->idt.limit);

	struct paging_mode pm = {s->cr0, s->cr3, s->cr4, s->efer};
	uint64_t lin = (s->efer & 0x400) ? s->rip : s->seg[X86_CS].base + s->rip;
	uint64_t gpa;
	uint8_t code[16];
	if (pagetables_translate(gm, &pm, lin, &gpa)) {
		app(buf, cap, "  code at rip: address %#llx not mapped\n", (unsigned long long)lin);
		return;
	}
	size_t n = 0;
	while (n < sizeof(code) && gm_read(gm, gpa + n, &code[n], 1) == 0)
		n++;
	if (!n) {
		app(buf, cap, "  code at rip: gpa %#llx outside guest memory\n",
		    (unsigned long long)gpa);
		return;
	}
	app(buf, cap, "  code at rip (gpa %#llx):", (unsigned long long)gpa);
	for (size_t i = 0; i < n; i++)
		app(buf, cap, " %02x", code[i]);
	app(buf, cap, "\n");
}
