/* SPDX-License-Identifier: Apache-2.0 */
/* Differential runs of one module under two engine configurations.
 *
 * wasmdiff_run() instantiates a module in a fresh store (function imports
 * become host functions that log their arguments; other imports get fresh
 * objects), calls every exported function with arguments drawn from a seed,
 * under fuel, and records what happened as a list of events: results, traps
 * (kind, function, offset), fuel left, the host-call log, and at the end
 * every exported memory and global. wasmdiff_compare() finds the first
 * difference between two such records. Only the public embedding API is
 * used, so any engine the store offers can be compared with any other. */
#ifndef CAPSA_TESTS_WASMDIFF_H
#define CAPSA_TESTS_WASMDIFF_H

#include "capsa/wasm.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct wasmdiff_config {
	enum capsa_wasm_engine engine;
	/* Linear memories without guard regions (explicit bounds checks):
	 * sets CAPSA_WASM_NO_GUARD while the module is instantiated. */
	int no_guard;
	/* Fuel for instantiation and for the first call of each export (the
	 * second call gets 1..2000); 0 means 1,000,000. */
	int64_t fuel;
};

enum wasmdiff_event_kind {
	WASMDIFF_INSTANCE, /* a: trap (0: ok, WASMDIFF_LINK_ERROR), n: fuel left */
	WASMDIFF_CALL,     /* a: export index, n: round */
	WASMDIFF_RESULT,   /* a: result index, type, v */
	WASMDIFF_TRAP,     /* a: trap, n: function index, v[0]: offset */
	WASMDIFF_FUEL,     /* n: fuel left after the call */
	WASMDIFF_LOG,      /* a: import index; a call (type 0), then each argument (type, v) */
	WASMDIFF_GLOBAL,   /* a: export index, type, v (v128 globals: the low half) */
	WASMDIFF_MEMORY,   /* a: export index, n: byte size, bytes in mem[v[0]] */
	WASMDIFF_LOG_CUT,  /* n: log entries left out past the cap */
};
#define WASMDIFF_LINK_ERROR 0xffu

struct wasmdiff_event {
	uint8_t kind, type;
	uint32_t a;
	int64_t n;
	uint64_t v[2];
};

struct wasmdiff_record {
	struct wasmdiff_event *ev;
	size_t n, cap;
	uint8_t **mem; /* copies of exported memories, by WASMDIFF_MEMORY v[0] */
	size_t nmem;
	char **names; /* export names (for messages), names[i] for export i */
	uint32_t nnames;
	uint64_t nlog; /* host calls logged so far */
	int failed;    /* out of memory while recording */
};

/* Instantiate and run; 0 when the module ran (whatever trapped), -1 when it
 * does not load or the store cannot be made (message in e). */
int wasmdiff_run(const uint8_t *wasm, size_t len, const struct wasmdiff_config *cfg, uint64_t seed,
                 struct wasmdiff_record *out, struct err *e);
void wasmdiff_record_free(struct wasmdiff_record *r);

/* 0 when a and b agree; otherwise 1 and the first difference in msg.
 * Values are compared bit for bit, except that two f32 or f64 NaNs are equal
 * whatever their sign and payload (also lane by lane in a v128), and funcref
 * values only by being null or not (they point into different stores).
 * Fuel is compared exactly in every configuration. */
int wasmdiff_compare(const struct wasmdiff_record *a, const struct wasmdiff_record *b, char *msg,
                     size_t len);

/* Every event of r, one a line (for looking into a mismatch). */
void wasmdiff_dump(FILE *f, const struct wasmdiff_record *r);

/* "interp", "interp/no-guard", "jit", ... */
const char *wasmdiff_config_name(const struct wasmdiff_config *c);

/* A copy of the module with every global exported as "capsa-diff-global-N"
 * (so that the final values can be compared), or NULL when the module is
 * malformed, has more than 100,000 globals or already uses such a name. */
uint8_t *wasmdiff_export_globals(const uint8_t *wasm, size_t len, size_t *out_len);

/* A random valid module made by binaryen (`wasm-opt -ttf`) from bytes drawn
 * from seed, using the wasm 2.0 features capsa supports; odd seeds also pass
 * --denan (NaNs become 0, so NaN bits cannot leak into memory or integers).
 * work_dir holds the temporary files. 0 on success, -1 with e set. */
int wasmdiff_generate(uint64_t seed, const char *work_dir, uint8_t **out, size_t *out_len,
                      struct err *e);
/* The wasm-opt command line wasmdiff_generate() uses for seed (for
 * reproduction lines). */
void wasmdiff_generate_cmd(uint64_t seed, const char *in, const char *out, char *buf, size_t len);

#endif
