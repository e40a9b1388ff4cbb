/* SPDX-License-Identifier: Apache-2.0 */
/* Runs a module under one engine configuration and records what it did
 * (wasmdiff.h); wasmdiff_cmp.c compares two records. */
#include "wasmdiff.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CELLS     64     /* call cells: the largest signature we call */
#define LOG_CAP       100000 /* logged host-call arguments kept per run */
#define FUEL_DEFAULT  1000000
#define FUEL_SMALL    2000 /* the second round of each export: 1..FUEL_SMALL */
#define MEM_COPY_MAX  (64u << 20)
#define INIT_FUNC     "hangLimitInitializer"
#define ROUNDS        2
#define MAX_IMPORTS   1024
#define MAX_TABLE_MIN 10000

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int push(struct wasmdiff_record *r, struct wasmdiff_event ev)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct wasmdiff_event *p = realloc(r->ev, cap * sizeof(*p));
		if (!p) {
			r->failed = 1;
			return -1;
		}
		r->ev = p;
		r->cap = cap;
	}
	r->ev[r->n++] = ev;
	return 0;
}

/* ---- imports ---- */

struct host_env {
	struct wasmdiff_record *rec;
	uint32_t index;
	uint8_t types[2 * 256]; /* params then results */
	uint32_t nparams, nresults;
};

struct link {
	struct capsa_wasm_store *store;
	const struct capsa_wasm_module *mod;
	struct wasmdiff_record *rec;
	uint32_t next;
	struct host_env *envs; /* one per import */
};

static unsigned type_cells(uint8_t t)
{
	return t == CAPSA_WASM_V128 ? 2 : 1;
}

static enum capsa_wasm_trap host_log(struct capsa_wasm_caller *c, void *env,
                                     union capsa_wasm_val *cells)
{
	struct host_env *h = env;
	(void)c;
	/* The call itself (type 0), then each argument. */
	if (h->rec->nlog++ < LOG_CAP)
		push(h->rec, (struct wasmdiff_event){.kind = WASMDIFF_LOG, .a = h->index});
	unsigned at = 0;
	for (uint32_t i = 0; i < h->nparams; i++) {
		uint8_t t = h->types[i];
		struct wasmdiff_event ev = {.kind = WASMDIFF_LOG, .type = t, .a = h->index};
		ev.v[0] = cells[at].bits;
		if (t == CAPSA_WASM_V128)
			ev.v[1] = cells[at + 1].bits;
		at += type_cells(t);
		if (h->rec->nlog++ < LOG_CAP)
			push(h->rec, ev);
	}
	unsigned nres = 0;
	for (uint32_t i = 0; i < h->nresults; i++)
		nres += type_cells(h->types[h->nparams + i]);
	memset(cells, 0, sizeof(*cells) * nres);
	return CAPSA_WASM_OK;
}

static struct capsa_wasm_func *link_func(struct link *l, uint32_t idx,
                                         const struct capsa_wasm_import_desc *d)
{
	struct host_env *h = &l->envs[idx];
	if (d->type.nparams > 256 || d->type.nresults > 256)
		return NULL;
	h->rec = l->rec;
	h->index = idx;
	h->nparams = d->type.nparams;
	h->nresults = d->type.nresults;
	if (h->nparams)
		memcpy(h->types, d->type.params, h->nparams);
	if (h->nresults)
		memcpy(h->types + h->nparams, d->type.results, h->nresults);
	struct err e;
	return capsa_wasm_func_new(l->store, &d->type, host_log, h, &e);
}

static int resolve(void *env, const char *module, const char *name,
                   enum capsa_wasm_extern_kind kind, struct capsa_wasm_extern *out)
{
	struct link *l = env;
	struct capsa_wasm_import_desc d;
	struct err e;
	(void)module;
	(void)name;
	uint32_t idx = l->next++;
	if (idx >= capsa_wasm_module_import_count(l->mod) || idx >= MAX_IMPORTS)
		return -1;
	capsa_wasm_module_import(l->mod, idx, &d);
	out->kind = kind;
	out->u.ptr = NULL;
	switch (kind) {
	case CAPSA_WASM_EXTERN_FUNC:
		out->u.func = link_func(l, idx, &d);
		break;
	case CAPSA_WASM_EXTERN_TABLE:
		if (d.min > MAX_TABLE_MIN)
			return -1;
		out->u.table =
		    capsa_wasm_table_new(l->store, d.valtype, (uint32_t)d.min,
		                         d.max > UINT32_MAX ? UINT32_MAX : (uint32_t)d.max, &e);
		break;
	case CAPSA_WASM_EXTERN_MEMORY:
		out->u.memory =
		    capsa_wasm_memory_new(l->store, (uint32_t)d.min,
		                          d.max > UINT32_MAX ? UINT32_MAX : (uint32_t)d.max, &e);
		break;
	case CAPSA_WASM_EXTERN_GLOBAL: {
		union capsa_wasm_val v = {.bits = 0};
		out->u.global = capsa_wasm_global_new(l->store, d.valtype, d.mutable_, v, &e);
		break;
	}
	}
	return out->u.ptr ? 0 : -1;
}

/* ---- arguments ---- */

static uint64_t arg_bits(uint64_t *rng, uint8_t t)
{
	static const uint64_t ints[] = {0,
	                                1,
	                                2,
	                                0xffffffffull,
	                                0x7fffffff,
	                                0x80000000,
	                                0xffffffffffffffffull,
	                                0x8000000000000000ull,
	                                0x7fffffffffffffffull,
	                                0xfffe,
	                                0x10000,
	                                0x20};
	static const uint32_t f32s[] = {0,          0x80000000, 0x3f800000, 0xbf800000, 0x7f800000,
	                                0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00001, 0x00000001,
	                                0x7f7fffff, 0x4f000000, 0xcf000000, 0x3f000000};
	static const uint64_t f64s[] = {0,
	                                0x8000000000000000ull,
	                                0x3ff0000000000000ull,
	                                0xbff0000000000000ull,
	                                0x7ff0000000000000ull,
	                                0xfff0000000000000ull,
	                                0x7ff8000000000000ull,
	                                0xfff8000000000000ull,
	                                0x7ff4000000000001ull,
	                                1,
	                                0x41e0000000000000ull,
	                                0xc3e0000000000000ull,
	                                0x3fe0000000000000ull};
	uint64_t r = splitmix(rng), pick = splitmix(rng);
	int special = (pick & 3) != 0;
	switch (t) {
	case CAPSA_WASM_I32:
		return special ? (uint32_t)ints[pick % 12] : (uint32_t)r;
	case CAPSA_WASM_I64:
		return special ? ints[pick % 12] : r;
	case CAPSA_WASM_F32:
		return special ? f32s[pick % 14] : (uint32_t)r;
	case CAPSA_WASM_F64:
		return special ? f64s[pick % 13] : r;
	case CAPSA_WASM_EXTERNREF:
		/* Opaque to wasm: the same fake values in both runs. */
		return special ? 0 : 0x1000 + (r % 64) * 16;
	default: /* funcref: only null can be passed in without a store's function */
		return 0;
	}
}

static unsigned fill_args(uint64_t *rng, const struct capsa_wasm_functype *t,
                          union capsa_wasm_val *cells)
{
	unsigned at = 0;
	for (uint32_t i = 0; i < t->nparams; i++) {
		if (t->params[i] == CAPSA_WASM_V128) {
			cells[at++].bits = arg_bits(rng, CAPSA_WASM_I64);
			cells[at++].bits = arg_bits(rng, CAPSA_WASM_I64);
		} else {
			cells[at++].bits = arg_bits(rng, t->params[i]);
		}
	}
	return at;
}

static unsigned count_cells(uint32_t n, const uint8_t *types)
{
	unsigned c = 0;
	for (uint32_t i = 0; i < n; i++)
		c += type_cells(types[i]);
	return c;
}

/* ---- calls ---- */

static void record_outcome(struct wasmdiff_record *r, struct capsa_wasm_store *s,
                           const struct capsa_wasm_functype *t, enum capsa_wasm_trap trap,
                           const struct capsa_wasm_trap_info *info, const union capsa_wasm_val *c)
{
	if (trap != CAPSA_WASM_OK) {
		struct wasmdiff_event ev = {
		    .kind = WASMDIFF_TRAP, .a = trap, .n = info->func_index};
		ev.v[0] = info->offset;
		push(r, ev);
	} else {
		unsigned at = 0;
		for (uint32_t i = 0; i < t->nresults; i++) {
			struct wasmdiff_event ev = {
			    .kind = WASMDIFF_RESULT, .type = t->results[i], .a = i};
			ev.v[0] = c[at].bits;
			if (t->results[i] == CAPSA_WASM_V128)
				ev.v[1] = c[at + 1].bits;
			at += type_cells(t->results[i]);
			push(r, ev);
		}
	}
	push(r, (struct wasmdiff_event){.kind = WASMDIFF_FUEL, .n = capsa_wasm_store_fuel(s)});
}

struct caller {
	struct wasmdiff_record *r;
	struct capsa_wasm_store *s;
	uint64_t seed;
	int64_t fuel;
};

static void call_one(const struct caller *c, struct capsa_wasm_func *f, uint32_t idx,
                     uint32_t round)
{
	struct wasmdiff_record *r = c->r;
	struct capsa_wasm_store *s = c->s;
	struct capsa_wasm_functype t;
	capsa_wasm_func_type(f, &t);
	if (count_cells(t.nparams, t.params) > MAX_CELLS ||
	    count_cells(t.nresults, t.results) > MAX_CELLS)
		return;
	uint64_t rng = c->seed ^ ((uint64_t)idx << 32) ^ ((uint64_t)round << 20);
	union capsa_wasm_val cells[MAX_CELLS];
	memset(cells, 0, sizeof(cells));
	fill_args(&rng, &t, cells);
	int64_t fuel = round == 0 ? c->fuel : 1 + (int64_t)(splitmix(&rng) % FUEL_SMALL);
	push(r, (struct wasmdiff_event){.kind = WASMDIFF_CALL, .a = idx, .n = round});
	capsa_wasm_store_set_fuel(s, fuel);
	struct capsa_wasm_trap_info info;
	enum capsa_wasm_trap trap = capsa_wasm_call(s, f, cells, &info);
	record_outcome(r, s, &t, trap, &info, cells);
}

static void call_exports(const struct caller *c, struct capsa_wasm_instance *in)
{
	struct capsa_wasm_extern init = {0};
	int has_init = capsa_wasm_instance_export(in, INIT_FUNC, &init) == 0 &&
	               init.kind == CAPSA_WASM_EXTERN_FUNC;
	uint32_t n = capsa_wasm_instance_export_count(in);
	for (uint32_t round = 0; round < ROUNDS; round++) {
		for (uint32_t i = 0; i < n; i++) {
			struct capsa_wasm_extern ex;
			const char *name = capsa_wasm_instance_export_at(in, i, &ex);
			if (ex.kind != CAPSA_WASM_EXTERN_FUNC || (name && !strcmp(name, INIT_FUNC)))
				continue;
			if (has_init)
				call_one(c, init.u.func, UINT32_MAX, round);
			call_one(c, ex.u.func, i, round);
		}
	}
}

static void record_state(struct wasmdiff_record *r, struct capsa_wasm_instance *in)
{
	uint32_t n = capsa_wasm_instance_export_count(in);
	for (uint32_t i = 0; i < n; i++) {
		struct capsa_wasm_extern ex;
		capsa_wasm_instance_export_at(in, i, &ex);
		struct wasmdiff_event ev = {.a = i};
		if (ex.kind == CAPSA_WASM_EXTERN_GLOBAL) {
			ev.kind = WASMDIFF_GLOBAL;
			ev.type = capsa_wasm_global_type(ex.u.global);
			ev.v[0] = capsa_wasm_global_get(ex.u.global).bits;
			push(r, ev);
		} else if (ex.kind == CAPSA_WASM_EXTERN_MEMORY) {
			uint64_t size = 0;
			uint8_t *data = capsa_wasm_memory_data(ex.u.memory, &size);
			uint8_t **mem = realloc(r->mem, (r->nmem + 1) * sizeof(*mem));
			uint64_t keep = size < MEM_COPY_MAX ? size : MEM_COPY_MAX;
			uint8_t *copy = malloc(keep ? keep : 1);
			if (!mem || !copy) {
				free(copy);
				r->mem = mem ? mem : r->mem;
				r->failed = 1;
				return;
			}
			r->mem = mem;
			if (keep)
				memcpy(copy, data, keep);
			r->mem[r->nmem] = copy;
			ev.kind = WASMDIFF_MEMORY;
			ev.n = (int64_t)size;
			ev.v[0] = r->nmem++;
			ev.v[1] = keep;
			push(r, ev);
		}
	}
	if (r->nlog > LOG_CAP)
		push(r, (struct wasmdiff_event){.kind = WASMDIFF_LOG_CUT,
		                                .n = (int64_t)(r->nlog - LOG_CAP)});
}

static void keep_names(struct wasmdiff_record *r, struct capsa_wasm_instance *in)
{
	uint32_t n = capsa_wasm_instance_export_count(in);
	r->names = calloc(n ? n : 1, sizeof(*r->names));
	if (!r->names) {
		r->failed = 1;
		return;
	}
	r->nnames = n;
	for (uint32_t i = 0; i < n; i++) {
		struct capsa_wasm_extern ex;
		const char *name = capsa_wasm_instance_export_at(in, i, &ex);
		r->names[i] = strdup(name ? name : "?");
	}
}

static struct capsa_wasm_instance *instantiate(struct capsa_wasm_store *s,
                                               const struct capsa_wasm_module *m,
                                               const struct wasmdiff_config *cfg, struct link *l,
                                               struct capsa_wasm_trap_info *info, struct err *e)
{
	char *old = NULL;
	if (cfg->no_guard) {
		const char *v = getenv("CAPSA_WASM_NO_GUARD");
		old = v ? strdup(v) : NULL;
		setenv("CAPSA_WASM_NO_GUARD", "1", 1);
	}
	struct capsa_wasm_instance *in = capsa_wasm_instantiate(s, m, resolve, l, info, e);
	if (cfg->no_guard) {
		if (old)
			setenv("CAPSA_WASM_NO_GUARD", old, 1);
		else
			unsetenv("CAPSA_WASM_NO_GUARD");
		free(old);
	}
	return in;
}

int wasmdiff_run(const uint8_t *wasm, size_t len, const struct wasmdiff_config *cfg, uint64_t seed,
                 struct wasmdiff_record *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	struct capsa_wasm_module *m = capsa_wasm_module_load(wasm, len, e);
	if (!m)
		return -1;
	struct capsa_wasm_limits lim = {.engine = cfg->engine,
	                                .stack_cells = 1u << 18,
	                                .call_depth = 1000,
	                                .max_memory = 64u << 20};
	struct capsa_wasm_store *s = capsa_wasm_store_new(&lim, e);
	uint32_t nimp = capsa_wasm_module_import_count(m);
	struct link l = {s, m, r, 0, calloc(nimp ? nimp : 1, sizeof(struct host_env))};
	if (!s || !l.envs) {
		if (s)
			capsa_wasm_store_free(s);
		free(l.envs);
		capsa_wasm_module_free(m);
		return s ? err_set(e, ERR_SYSTEM, "out of memory") : -1;
	}
	struct capsa_wasm_trap_info info = {0};
	struct err ie = {0};
	struct caller c = {r, s, seed, cfg->fuel ? cfg->fuel : FUEL_DEFAULT};
	capsa_wasm_store_set_fuel(s, c.fuel);
	struct capsa_wasm_instance *in = instantiate(s, m, cfg, &l, &info, &ie);
	struct wasmdiff_event ev = {.kind = WASMDIFF_INSTANCE, .n = capsa_wasm_store_fuel(s)};
	ev.a = in ? 0 : info.trap != CAPSA_WASM_OK ? (uint32_t)info.trap : WASMDIFF_LINK_ERROR;
	push(r, ev);
	if (info.trap != CAPSA_WASM_OK)
		record_outcome(r, s, &(struct capsa_wasm_functype){0}, info.trap, &info, NULL);
	if (in) {
		keep_names(r, in);
		call_exports(&c, in);
		record_state(r, in);
	}
	capsa_wasm_store_free(s);
	free(l.envs);
	capsa_wasm_module_free(m);
	return 0;
}

void wasmdiff_record_free(struct wasmdiff_record *r)
{
	for (size_t i = 0; i < r->nmem; i++)
		free(r->mem[i]);
	for (uint32_t i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->mem);
	free(r->names);
	free(r->ev);
	memset(r, 0, sizeof(*r));
}

const char *wasmdiff_config_name(const struct wasmdiff_config *c)
{
	int jit = c->engine == CAPSA_WASM_ENGINE_JIT;
	if (c->no_guard)
		return jit ? "jit/no-guard" : "interp/no-guard";
	return jit ? "jit" : "interp";
}
