/* SPDX-License-Identifier: Apache-2.0 */
/* The one place where wasm tests decide whether to run their JIT half: the
 * JIT engine runs where capsa_wasm_engine_available() says so (x86-64 hosts
 * with the compiler back end built in); elsewhere those halves skip, naming
 * the reason. */
#ifndef CAPSA_TESTS_WASM_ENGINES_H
#define CAPSA_TESTS_WASM_ENGINES_H

#include "capsa/wasm.h"

#include <stddef.h>

/* NULL when the JIT is available, else the reason to print with a skip. */
static inline const char *wasm_jit_missing(void)
{
	if (capsa_wasm_engine_available(CAPSA_WASM_ENGINE_JIT))
		return NULL;
	return "engine jit is not available on this host";
}

#endif
