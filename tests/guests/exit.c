/* SPDX-License-Identifier: Apache-2.0 */
/* Ways for the test guest to end the VM. */
#include "guest.h"
#include "io.h"

void guest_exit(uint32_t code)
{
	gprintf("capsa test guest: exit %u\n", code & 0xff);
	outb(EXIT_PORT, (uint8_t)code);
	/* Still running: the VMM has no exit device. This may run at CPL3, where
	 * hlt is not allowed, so just spin. */
	gputs("capsa test guest: exit port did not stop the VM\n");
	for (;;)
		cpu_relax();
}

void triple_fault(void)
{
	/* An empty IDT turns any exception into a triple fault (#UD -> #GP -> #DF -> shutdown). */
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty_idt = {0, 0};
	__asm__ volatile("lidt %0\n\tud2" : : "m"(empty_idt));
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_reset(void)
{
	outb(0x64, 0xfe); /* i8042: pulse the reset line */
	triple_fault();   /* no i8042 (QEMU microvm): a triple fault resets too */
}

void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}
