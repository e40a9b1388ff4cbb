/* SPDX-License-Identifier: Apache-2.0 */
/* WebAssembly test modules written in the text format, assembled with
 * wabt's wat2wasm at test time. */
#ifndef CAPSA_TEST_WAT_H
#define CAPSA_TEST_WAT_H

#include "capsa/wasm.h"

/* Assembles text and loads the module (asserting that wat2wasm succeeds);
 * NULL with e set if capsa refuses it. */
struct capsa_wasm_module *test_wat_load(const char *text, struct err *e);

#endif
