/* SPDX-License-Identifier: Apache-2.0 */
/* Compile-time probe for bench/wasm/compile.sh:
 *   compile_time ENGINE MODULE.wasm RUNS
 * loads (decodes and validates) MODULE and instantiates it in a store of
 * ENGINE (jit, jit-eager or interp; function imports become stubs that
 * return zeros), RUNS times, then calls every exported function once with
 * one unit of fuel (the JIT compiles a function on its first call, or with
 * jit-eager every function at instantiation; the interpreter makes its
 * code of a function on its first call). With jit-eager, the variable
 * CAPSA_JIT_THREADS=1 or 2 makes one or two threads compile (default: as
 * the runtime decides). Prints the code section's size and the medians in
 * seconds:
 *   "code_bytes N load S instantiate S first_calls S". */
#include "capsa/wasm.h"

#include "lib/file.h"
#include "wasm/jit/jit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static enum capsa_wasm_trap zeros(struct capsa_wasm_caller *c, void *env,
                                  union capsa_wasm_val *cells)
{
	(void)c;
	uint32_t n = (uint32_t)(uintptr_t)env;
	memset(cells, 0, sizeof(*cells) * n);
	return CAPSA_WASM_OK;
}

struct link {
	struct capsa_wasm_store *s;
	const struct capsa_wasm_module *m;
	uint32_t next;
};

static int resolve(void *env, const char *module, const char *name,
                   enum capsa_wasm_extern_kind kind, struct capsa_wasm_extern *out)
{
	struct link *l = env;
	struct capsa_wasm_import_desc d;
	struct err e;
	(void)module;
	(void)name;
	capsa_wasm_module_import(l->m, l->next++, &d);
	out->kind = kind;
	out->u.ptr = NULL;
	if (kind == CAPSA_WASM_EXTERN_FUNC) {
		uintptr_t cells = 0;
		for (uint32_t i = 0; i < d.type.nresults; i++)
			cells += d.type.results[i] == CAPSA_WASM_V128 ? 2 : 1;
		out->u.func = capsa_wasm_func_new(l->s, &d.type, zeros, (void *)cells, &e);
	} else if (kind == CAPSA_WASM_EXTERN_MEMORY)
		out->u.memory = capsa_wasm_memory_new(l->s, (uint32_t)d.min, UINT32_MAX, &e);
	else if (kind == CAPSA_WASM_EXTERN_TABLE)
		out->u.table =
		    capsa_wasm_table_new(l->s, d.valtype, (uint32_t)d.min, UINT32_MAX, &e);
	else
		out->u.global = capsa_wasm_global_new(l->s, d.valtype, d.mutable_,
		                                      (union capsa_wasm_val){.bits = 0}, &e);
	return out->u.ptr ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One round; times in t[0..3). 0 on success. */
static int round_trip(const uint8_t *bytes, size_t len, enum capsa_wasm_engine eng, int eager,
                      double *t, struct err *e)
{
	double t0 = now();
	struct capsa_wasm_module *m = capsa_wasm_module_load(bytes, len, e);
	if (!m)
		return -1;
	double t1 = now();
	struct capsa_wasm_limits lim = {.engine = eng};
	struct capsa_wasm_store *s = capsa_wasm_store_new(&lim, e);
	const char *threads = getenv("CAPSA_JIT_THREADS");
	if (!s || (eager && wasm_jit_eager(s, e)) ||
	    (eager && threads && wasm_jit_threads(s, atoi(threads), e))) {
		capsa_wasm_store_free(s);
		capsa_wasm_module_free(m);
		return -1;
	}
	struct link l = {s, m, 0};
	struct capsa_wasm_instance *in = capsa_wasm_instantiate(s, m, resolve, &l, NULL, e);
	double t2 = now();
	for (uint32_t i = 0; in && i < capsa_wasm_instance_export_count(in); i++) {
		struct capsa_wasm_extern ex;
		capsa_wasm_instance_export_at(in, i, &ex);
		if (ex.kind != CAPSA_WASM_EXTERN_FUNC)
			continue;
		union capsa_wasm_val cells[512] = {{0}};
		struct capsa_wasm_functype ft;
		capsa_wasm_func_type(ex.u.func, &ft);
		if (ft.nparams > 200 || ft.nresults > 200)
			continue;
		capsa_wasm_store_set_fuel(s, 1);
		capsa_wasm_call(s, ex.u.func, cells, NULL);
	}
	double t3 = now();
	capsa_wasm_store_free(s);
	capsa_wasm_module_free(m);
	if (!in)
		return -1;
	t[0] = t1 - t0;
	t[1] = t2 - t1;
	t[2] = t3 - t2;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: compile_time jit|jit-eager|interp MODULE.wasm RUNS\n");
		return 2;
	}
	int eager = !strcmp(argv[1], "jit-eager");
	enum capsa_wasm_engine eng = !strcmp(argv[1], "jit") || eager ? CAPSA_WASM_ENGINE_JIT
	                             : !strcmp(argv[1], "interp")     ? CAPSA_WASM_ENGINE_INTERP
	                                                              : CAPSA_WASM_ENGINE_DEFAULT;
	int runs = atoi(argv[3]);
	if (eng == CAPSA_WASM_ENGINE_DEFAULT || runs < 1 || runs > 1000) {
		fprintf(stderr, "compile_time: bad engine %s or runs %s\n", argv[1], argv[3]);
		return 2;
	}
	if (!capsa_wasm_engine_available(eng)) {
		printf("engine %s is not available on this host\n", argv[1]);
		return 3;
	}
	struct err e = {0};
	size_t len = 0;
	uint8_t *bytes = (uint8_t *)file_read(argv[2], 1u << 30, &len, &e);
	if (!bytes) {
		fprintf(stderr, "compile_time: %s\n", e.msg);
		return 1;
	}
	struct capsa_wasm_module *m = capsa_wasm_module_load(bytes, len, &e);
	uint32_t code = 0;
	for (uint32_t i = 0; m && i < capsa_wasm_module_section_count(m); i++) {
		struct capsa_wasm_section_desc d;
		capsa_wasm_module_section(m, i, &d);
		if (d.id == 10)
			code = d.size;
	}
	capsa_wasm_module_free(m);
	double *t = calloc((size_t)runs * 3, sizeof(double));
	double *col = calloc((size_t)runs, sizeof(double));
	double med[3];
	int rc = 0;
	for (int r = 0; r < runs && !rc; r++)
		if (round_trip(bytes, len, eng, eager, t + 3 * r, &e)) {
			fprintf(stderr, "compile_time: %s: %s\n", argv[2], e.msg);
			rc = 1;
		}
	for (int k = 0; k < 3 && !rc; k++) {
		for (int r = 0; r < runs; r++)
			col[r] = t[3 * r + k];
		med[k] = median(col, runs);
	}
	if (!rc)
		printf("code_bytes %u load %.6f instantiate %.6f first_calls %.6f\n", code, med[0],
		       med[1], med[2]);
	free(t);
	free(col);
	free(bytes);
	return rc;
}
