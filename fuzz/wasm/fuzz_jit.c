/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the compiler: a module from the input that
 * validates is instantiated with the JIT engine and every export called
 * twice with arguments drawn from the input, under fuel (tests/wasm/
 * wasmdiff.c). Where the interpreter runs it too, the two must agree in
 * everything they record, or the target aborts with the difference. Any
 * crash or sanitizer report is a bug. Where the JIT is not available the
 * interpreter alone runs the modules. Seeds: the spec suite's modules and
 * random modules from wasm-opt -ttf (fuzz/wasm/run.sh). */
#include "wasm/engines.h"
#include "wasm/wasmdiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUEL 20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {0};
	uint64_t seed = 0;
	for (size_t i = 0; i < size && i < 64; i++)
		seed = seed * 31 + data[i];
	struct capsa_wasm_module *m = capsa_wasm_module_load(data, size, &e);
	if (!m)
		return 0;
	capsa_wasm_module_free(m);
	size_t xlen = 0;
	uint8_t *x = wasmdiff_export_globals(data, size, &xlen);
	const uint8_t *wasm = x ? x : data;
	size_t len = x ? xlen : size;
	int jit = wasm_jit_missing() == NULL;
	struct wasmdiff_config first = {jit ? CAPSA_WASM_ENGINE_JIT : CAPSA_WASM_ENGINE_INTERP, 0,
	                                FUEL};
	struct wasmdiff_record a, b;
	if (wasmdiff_run(wasm, len, &first, seed, &a, &e)) {
		free(x);
		return 0;
	}
	if (jit) {
		struct wasmdiff_config ref = {.engine = CAPSA_WASM_ENGINE_INTERP, .fuel = FUEL};
		char msg[1024];
		if (wasmdiff_run(wasm, len, &ref, seed, &b, &e)) {
			fprintf(stderr, "the interpreter refuses a module the JIT ran: %s\n",
			        e.msg);
			abort();
		}
		if (wasmdiff_compare(&b, &a, msg, sizeof(msg))) {
			fprintf(stderr, "JIT and interpreter differ: %s\n", msg);
			abort();
		}
		wasmdiff_record_free(&b);
	}
	wasmdiff_record_free(&a);
	free(x);
	return 0;
}
