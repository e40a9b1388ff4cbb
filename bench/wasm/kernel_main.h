/* SPDX-License-Identifier: Apache-2.0 */
/* The driver shared by the benchmark's kernel sets (kernels.c, kernels2.c):
 * include it after defining the table `kernels[]` of {name, function,
 * scale}. `PROGRAM NAME [FACTOR]` runs one kernel at scale * FACTOR and
 * prints "NAME CHECKSUM". Built with -DBARE_KERNEL=NAME -DBARE_FACTOR=F it
 * becomes a module without WASI imports whose export `run` returns the
 * checksum, for engines that cannot run WASI (wabt's wasm-interp). */
#ifndef CAPSA_BENCH_KERNEL_MAIN_H
#define CAPSA_BENCH_KERNEL_MAIN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run_kernel(const char *name, double f, uint32_t *result)
{
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
		if (!strcmp(kernels[i].name, name)) {
			int scale = (int)(kernels[i].scale * f);
			*result = kernels[i].fn(scale < 1 ? 1 : scale);
			return 0;
		}
	return -1;
}

#ifdef BARE_KERNEL
#define STR2(x) #x
#define STR(x)  STR2(x)
__attribute__((export_name("run"))) uint32_t run(void)
{
	uint32_t r = 0;
	run_kernel(STR(BARE_KERNEL), BARE_FACTOR, &r);
	return r;
}
#else
int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : kernels[0].name;
	double f = argc > 2 ? atof(argv[2]) : 1.0;
	uint32_t r;
	if (run_kernel(name, f, &r)) {
		fprintf(stderr, "unknown kernel %s\n", name);
		return 2;
	}
	printf("%s %u\n", name, r);
	return 0;
}
#endif

#endif
