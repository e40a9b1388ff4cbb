#include "vm/x86/crash_report.h"

#include "vm/x86/pagetables.h"

#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

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

static void segline(char *buf, size_t cap, const char *name, const struct kvm_segment *s)
{
	app(buf, cap, "  %s=%04x base=%016llx limit=%08x type=%x dpl=%u %s%s\n", name, s->selector,
	    (unsigned long long)s->base, s->limit, s->type, s->dpl,
	    s->l ? "64-bit" : (s->db ? "32-bit" : "16-bit"), s->present ? "" : " not-present");
}

void x86_crash_report(int fd, unsigned index, const struct guest_mem *gm, const char *what,
                      char *buf, size_t cap)
{
	buf[0] = '\0';
	app(buf, cap, "vCPU %u stopped: %s\n", index, what);
	struct kvm_regs r;
	struct kvm_sregs s;
	if (ioctl(fd, KVM_GET_REGS, &r) || ioctl(fd, KVM_GET_SREGS, &s)) {
		app(buf, cap, "  (registers unavailable)\n");
		return;
	}
	app(buf, cap, "  rip=%016llx rsp=%016llx rflags=%016llx\n", (unsigned long long)r.rip,
	    (unsigned long long)r.rsp, (unsigned long long)r.rflags);
	app(buf, cap, "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
	    (unsigned long long)r.rax, (unsigned long long)r.rbx, (unsigned long long)r.rcx,
	    (unsigned long long)r.rdx);
	app(buf, cap, "  rsi=%016llx rdi=%016llx rbp=%016llx r8=%016llx\n",
	    (unsigned long long)r.rsi, (unsigned long long)r.rdi, (unsigned long long)r.rbp,
	    (unsigned long long)r.r8);
	app(buf, cap, "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx\n",
	    (unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
	    (unsigned long long)s.cr4, (unsigned long long)s.efer);
	segline(buf, cap, "cs", &s.cs);
	segline(buf, cap, "ss", &s.ss);
	app(buf, cap, "  gdt=%016llx/%x idt=%016llx/%x\n", (unsigned long long)s.gdt.base,
	    s.gdt.limit, (unsigned long long)s.idt.base, s.idt.limit);

	struct paging_mode pm = {s.cr0, s.cr3, s.cr4, s.efer};
	uint64_t lin = (s.efer & 0x400) ? r.rip : s.cs.base + r.rip;
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
