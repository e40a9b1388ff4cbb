#include "disk/disk.h"

int disk_open_qcow2(struct disk **out, const char *path, int readonly, enum disk_cache cache,
                    int depth, struct err *e)
{
	(void)out, (void)readonly, (void)cache, (void)depth;
	return err_set(e, ERR_INPUT, "%s: qcow2 not supported yet", path);
}
