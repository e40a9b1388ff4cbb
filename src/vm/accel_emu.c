/* The software-CPU accelerator. */
#include "vm/accel.h"

static int emu_vm_create(struct accel_vm **out, const struct accel_vm_config *c, struct err *e)
{
	(void)c;
	*out = 0;
	return err_set(e, ERR_SYSTEM, "the software CPU is not available in this build");
}

const struct accel_ops accel_emu_ops = {
    .name = "emu",
    .vm_create = emu_vm_create,
};
