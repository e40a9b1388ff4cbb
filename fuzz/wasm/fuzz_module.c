/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: decode + validate + compile a module; when valid,
 * instantiate it against stub imports and call every exported function
 * with zero arguments under a small fuel budget. Any crash, sanitizer
 * report or leak is a bug. */
#include "capsa/wasm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
	struct capsa_wasm_store *store;
	const struct capsa_wasm_module *mod;
	uint32_t next_import;
};

static enum capsa_wasm_trap stub(struct capsa_wasm_caller *c, void *env,
                                 union capsa_wasm_val *cells)
{
	(void)c;
	(void)env;
	memset(cells, 0, sizeof(*cells) * 4);
	return CAPSA_WASM_OK;
}

static int resolve(void *env, const char *module, const char *name,
                   enum capsa_wasm_extern_kind kind, struct capsa_wasm_extern *out)
{
	struct ctx *x = env;
	struct capsa_wasm_import_desc d;
	struct err e;
	(void)module;
	(void)name;
	capsa_wasm_module_import(x->mod, x->next_import++, &d);
	out->kind = kind;
	switch (kind) {
	case CAPSA_WASM_EXTERN_FUNC:
		if (d.type.nparams > 4 || d.type.nresults > 4)
			return -1;
		out->u.func = capsa_wasm_func_new(x->store, &d.type, stub, NULL, &e);
		break;
	case CAPSA_WASM_EXTERN_TABLE:
		if (d.min > 1000)
			return -1;
		out->u.table =
		    capsa_wasm_table_new(x->store, d.valtype, (uint32_t)d.min,
		                         d.max == UINT64_MAX ? UINT32_MAX : (uint32_t)d.max, &e);
		break;
	case CAPSA_WASM_EXTERN_MEMORY:
		if (d.min > 16)
			return -1;
		out->u.memory =
		    capsa_wasm_memory_new(x->store, (uint32_t)d.min,
		                          d.max == UINT64_MAX ? UINT32_MAX : (uint32_t)d.max, &e);
		break;
	case CAPSA_WASM_EXTERN_GLOBAL: {
		union capsa_wasm_val v = {.bits = 0};
		out->u.global = capsa_wasm_global_new(x->store, d.valtype, d.mutable_, v, &e);
		break;
	}
	}
	return out->u.ptr ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {0};
	struct capsa_wasm_module *m = capsa_wasm_module_load(data, size, &e);
	if (!m)
		return 0;
	struct capsa_wasm_limits lim = {
	    .stack_cells = 1u << 16, .call_depth = 500, .max_memory = 16u << 20};
	struct capsa_wasm_store *s = capsa_wasm_store_new(&lim, &e);
	struct ctx x = {s, m, 0};
	struct capsa_wasm_trap_info info;
	capsa_wasm_store_set_fuel(s, 20000);
	struct capsa_wasm_instance *in = capsa_wasm_instantiate(s, m, resolve, &x, &info, &e);
	if (in) {
		for (uint32_t i = 0; i < capsa_wasm_instance_export_count(in); i++) {
			struct capsa_wasm_extern ex;
			capsa_wasm_instance_export_at(in, i, &ex);
			if (ex.kind != CAPSA_WASM_EXTERN_FUNC)
				continue;
			struct capsa_wasm_functype t;
			capsa_wasm_func_type(ex.u.func, &t);
			if (t.nparams > 16 || t.nresults > 16)
				continue;
			union capsa_wasm_val cells[40];
			memset(cells, 0, sizeof(cells));
			capsa_wasm_store_set_fuel(s, 20000);
			capsa_wasm_call(s, ex.u.func, cells, &info);
		}
	}
	capsa_wasm_store_free(s);
	capsa_wasm_module_free(m);
	return 0;
}
