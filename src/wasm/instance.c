/* SPDX-License-Identifier: Apache-2.0 */
/* Store, module loading, instantiation and the public call entry. */
#include "wasm/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wasm/jit/jit.h"

#define MAX_TABLE_ELEMS (1u << 24)

enum { OBJ_FUNC, OBJ_TABLE, OBJ_MEMORY, OBJ_GLOBAL, OBJ_INSTANCE };

struct obj_hdr {
	uint8_t kind;
};

/* Every object is allocated with a one-byte kind in front (padded). */
struct tracked {
	uint64_t kind;
	union {
		struct capsa_wasm_func f;
		struct capsa_wasm_table t;
		struct capsa_wasm_memory m;
		struct capsa_wasm_global g;
		struct capsa_wasm_instance i;
	} u;
};

static void *obj_new(struct capsa_wasm_store *s, int kind, struct err *e)
{
	if (s->nobjs == s->capobjs) {
		uint32_t n = s->capobjs ? s->capobjs * 2 : 64;
		void **p = realloc(s->objs, n * sizeof(void *));
		if (!p) {
			err_set(e, ERR_SYSTEM, "out of memory");
			return NULL;
		}
		s->objs = p;
		s->capobjs = n;
	}
	struct tracked *t = calloc(1, sizeof(*t));
	if (!t) {
		err_set(e, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	t->kind = (uint64_t)kind;
	s->objs[s->nobjs++] = t;
	return &t->u;
}

static void instance_free(struct capsa_wasm_instance *in)
{
	const struct capsa_wasm_module *m = in->mod;
	if (in->code)
		for (uint32_t i = 0; i < m->nfuncs - m->nimp_funcs; i++)
			free(in->code[i]);
	free(in->code);
	if (in->elems)
		for (uint32_t i = 0; i < m->nelems; i++)
			free(in->elems[i].refs);
	free(in->elems);
	free(in->datas);
	free(in->funcs);
	free(in->tables);
	free(in->mems);
	free(in->globals);
}

const char *capsa_wasm_engine_name(enum capsa_wasm_engine eng)
{
	switch (eng) {
	case CAPSA_WASM_ENGINE_JIT:
		return "jit";
	case CAPSA_WASM_ENGINE_INTERP:
		return "interp";
	case CAPSA_WASM_ENGINE_DEFAULT:
		break;
	}
	return NULL;
}

const char *capsa_wasm_type_name(uint8_t t)
{
	switch (t) {
	case CAPSA_WASM_I32:
		return "i32";
	case CAPSA_WASM_I64:
		return "i64";
	case CAPSA_WASM_F32:
		return "f32";
	case CAPSA_WASM_F64:
		return "f64";
	case CAPSA_WASM_V128:
		return "v128";
	case CAPSA_WASM_FUNCREF:
		return "funcref";
	case CAPSA_WASM_EXTERNREF:
		return "externref";
	}
	return "?";
}

int capsa_wasm_engine_available(enum capsa_wasm_engine eng)
{
	if (eng == CAPSA_WASM_ENGINE_JIT)
		return wasm_jit_host_ok();
	return eng == CAPSA_WASM_ENGINE_INTERP;
}

static size_t frames_size(const struct capsa_wasm_store *s)
{
	return ((size_t)s->lim.call_depth + 1) * sizeof(struct wframe);
}

struct capsa_wasm_store *capsa_wasm_store_new(const struct capsa_wasm_limits *lim, struct err *e)
{
	if (lim && lim->engine != CAPSA_WASM_ENGINE_DEFAULT) {
		if (!capsa_wasm_engine_name(lim->engine)) {
			err_set(e, ERR_INPUT, "unknown engine %d", (int)lim->engine);
			return NULL;
		}
		if (!capsa_wasm_engine_available(lim->engine)) {
			err_set(e, ERR_INPUT, "engine %s is not available on this host",
			        capsa_wasm_engine_name(lim->engine));
			return NULL;
		}
	}
	struct capsa_wasm_store *s = calloc(1, sizeof(*s));
	if (!s) {
		err_set(e, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	if (lim)
		s->lim = *lim;
	if (s->lim.engine == CAPSA_WASM_ENGINE_DEFAULT)
		s->lim.engine = capsa_wasm_engine_available(CAPSA_WASM_ENGINE_JIT)
		                    ? CAPSA_WASM_ENGINE_JIT
		                    : CAPSA_WASM_ENGINE_INTERP;
	if (!s->lim.stack_cells)
		s->lim.stack_cells = 1u << 22; /* room for a frame of MAX_LOCALS v128s */
	if (!s->lim.call_depth)
		s->lim.call_depth = 50000;
	if (!s->lim.max_memory || s->lim.max_memory > (uint64_t)WASM_MAX_PAGES * WASM_PAGE)
		s->lim.max_memory = (uint64_t)WASM_MAX_PAGES * WASM_PAGE;
	s->fuel = INT64_MAX;
	/* Readable once interrupted, so host calls that block can wait on it. */
	s->intr_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->intr_fd < 0) {
		err_sys(e, "creating the interrupt descriptor");
		free(s);
		return NULL;
	}
	void *st = mmap(NULL, s->lim.stack_cells * sizeof(uint64_t), PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	/* Mapped, not calloc'ed: only the frames used are ever touched (the
	 * allocator may otherwise clear the whole 1.2 MB per store). */
	void *fr = mmap(NULL, frames_size(s), PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	s->frames = fr == MAP_FAILED ? NULL : fr;
	if (st == MAP_FAILED || !s->frames) {
		if (st != MAP_FAILED)
			munmap(st, s->lim.stack_cells * sizeof(uint64_t));
		if (s->frames)
			munmap(s->frames, frames_size(s));
		close(s->intr_fd);
		free(s);
		err_set(e, ERR_SYSTEM, "out of memory for the execution stack");
		return NULL;
	}
	s->stack = st;
	return s;
}

void capsa_wasm_store_free(struct capsa_wasm_store *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nobjs; i++) {
		struct tracked *t = s->objs[i];
		switch (t->kind) {
		case OBJ_FUNC:
			free(t->u.f.own_type.types);
			break;
		case OBJ_TABLE:
			free(t->u.t.elems);
			break;
		case OBJ_MEMORY:
			wasm_memory_release(&t->u.m);
			break;
		case OBJ_INSTANCE:
			instance_free(&t->u.i);
			break;
		}
		free(t);
	}
	free(s->objs);
	wasm_jit_store_free(s->jit);
	munmap(s->stack, s->lim.stack_cells * sizeof(uint64_t));
	munmap(s->frames, frames_size(s));
	close(s->intr_fd);
	free(s);
}

void capsa_wasm_store_set_fuel(struct capsa_wasm_store *s, int64_t fuel)
{
	s->fuel = fuel < 0 ? INT64_MAX : fuel;
}

int64_t capsa_wasm_store_fuel(const struct capsa_wasm_store *s)
{
	return s->fuel == INT64_MAX ? -1 : (s->fuel < 0 ? 0 : s->fuel);
}

void capsa_wasm_store_interrupt(struct capsa_wasm_store *s)
{
	s->interrupted = 1;
	s->fuel = 0;
	/* write(2) is async-signal-safe; the counter cannot overflow in
	 * practice and a failed write leaves the flag set all the same. */
	uint64_t one = 1;
	ssize_t r = write(s->intr_fd, &one, sizeof(one));
	(void)r;
	wasm_jit_intr_send(s); /* compiled code without fuel checks */
}

int capsa_wasm_store_interrupt_fd(const struct capsa_wasm_store *s)
{
	return s->intr_fd;
}

/* ---- modules ---- */

void capsa_wasm_module_free(struct capsa_wasm_module *m)
{
	if (!m)
		return;
	for (uint32_t i = 0; i < m->ntypes; i++)
		free(m->types[i].types);
	free(m->types);
	for (uint32_t i = 0; i < m->nimports; i++) {
		free(m->imports[i].module);
		free(m->imports[i].name);
	}
	free(m->imports);
	free(m->func_type);
	if (m->code)
		for (uint32_t i = 0; i < m->nfuncs - m->nimp_funcs; i++) {
			free(m->code[i].code);
			free(m->code[i].offs);
			free(m->code[i].relocs);
		}
	free(m->code);
	free(m->tables);
	free(m->mems);
	free(m->globals);
	for (uint32_t i = 0; i < m->nexports; i++)
		free(m->exports[i].name);
	free(m->exports);
	for (uint32_t i = 0; i < m->nelems; i++)
		free(m->elems[i].items);
	free(m->elems);
	free(m->datas);
	free(m->declared_funcs);
	for (uint32_t i = 0; i < m->nsections; i++)
		free(m->sections[i].name);
	free(m->sections);
	if (m->func_names)
		for (uint32_t i = 0; i < m->nfuncs; i++)
			free(m->func_names[i]);
	free(m->func_names);
	free(m->bytes);
	pthread_mutex_destroy(&m->code_lock);
	free(m);
}

struct capsa_wasm_module *capsa_wasm_module_load(const uint8_t *bytes, size_t len, struct err *e)
{
	if (len > (1u << 30)) {
		err_set(e, ERR_INPUT, "module too large (%zu bytes)", len);
		return NULL;
	}
	struct capsa_wasm_module *m = calloc(1, sizeof(*m));
	if (!m || !(m->bytes = malloc(len ? len : 1))) {
		free(m);
		err_set(e, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	memcpy(m->bytes, bytes, len);
	m->len = len;
	pthread_mutex_init(&m->code_lock, NULL);
	if (wasm_decode(m, e)) {
		/* Partially decoded: counts may exceed arrays; clamp before freeing. */
		if (!m->code)
			m->nfuncs = m->nimp_funcs;
		capsa_wasm_module_free(m);
		return NULL;
	}
	return m;
}

uint32_t capsa_wasm_module_import_count(const struct capsa_wasm_module *m)
{
	return m->nimports;
}

void capsa_wasm_module_import(const struct capsa_wasm_module *m, uint32_t i,
                              struct capsa_wasm_import_desc *o)
{
	const struct wimport *im = &m->imports[i];
	memset(o, 0, sizeof(*o));
	o->module = im->module;
	o->name = im->name;
	o->module_len = im->module_len;
	o->name_len = im->name_len;
	o->kind = im->kind;
	o->max = UINT64_MAX;
	switch (im->kind) {
	case CAPSA_WASM_EXTERN_FUNC: {
		const struct wtype *t = &m->types[im->index];
		o->type = (struct capsa_wasm_functype){t->nparams, t->nresults, t->types,
		                                       t->types + t->nparams};
		break;
	}
	case CAPSA_WASM_EXTERN_TABLE:
		o->valtype = m->tables[im->index].elem;
		o->min = m->tables[im->index].lim.min;
		o->max = m->tables[im->index].lim.max;
		break;
	case CAPSA_WASM_EXTERN_MEMORY:
		o->min = m->mems[im->index].min;
		o->max = m->mems[im->index].max;
		break;
	case CAPSA_WASM_EXTERN_GLOBAL:
		o->valtype = m->globals[im->index].type;
		o->mutable_ = m->globals[im->index].mut;
		break;
	}
}

uint32_t capsa_wasm_module_export_count(const struct capsa_wasm_module *m)
{
	return m->nexports;
}

void capsa_wasm_module_export(const struct capsa_wasm_module *m, uint32_t i,
                              struct capsa_wasm_export_desc *o)
{
	o->name = m->exports[i].name;
	o->name_len = m->exports[i].name_len;
	o->kind = m->exports[i].kind;
	o->index = m->exports[i].index;
}

uint32_t capsa_wasm_module_section_count(const struct capsa_wasm_module *m)
{
	return m->nsections;
}

void capsa_wasm_module_section(const struct capsa_wasm_module *m, uint32_t i,
                               struct capsa_wasm_section_desc *o)
{
	o->id = m->sections[i].id;
	o->offset = m->sections[i].offset;
	o->size = m->sections[i].size;
	o->name = m->sections[i].name;
	o->name_len = m->sections[i].name_len;
}

uint32_t capsa_wasm_module_func_count(const struct capsa_wasm_module *m)
{
	return m->nfuncs;
}

int capsa_wasm_module_functype(const struct capsa_wasm_module *m, uint32_t f,
                               struct capsa_wasm_functype *o)
{
	if (f >= m->nfuncs)
		return -1;
	const struct wtype *t = &m->types[m->func_type[f]];
	*o = (struct capsa_wasm_functype){t->nparams, t->nresults, t->types, t->types + t->nparams};
	return 0;
}

/* ---- host objects ---- */

struct capsa_wasm_func *capsa_wasm_func_new(struct capsa_wasm_store *s,
                                            const struct capsa_wasm_functype *type,
                                            capsa_wasm_host_fn fn, void *env, struct err *e)
{
	struct capsa_wasm_func *f = obj_new(s, OBJ_FUNC, e);
	if (!f)
		return NULL;
	f->own_type.types = malloc((size_t)type->nparams + type->nresults + 1);
	if (!f->own_type.types) {
		err_set(e, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	if (type->nparams)
		memcpy(f->own_type.types, type->params, type->nparams);
	if (type->nresults)
		memcpy(f->own_type.types + type->nparams, type->results, type->nresults);
	f->own_type.nparams = type->nparams;
	f->own_type.nresults = type->nresults;
	for (uint32_t i = 0; i < type->nparams; i++)
		f->own_type.pcells += (uint32_t)wtype_cells(type->params[i]);
	for (uint32_t i = 0; i < type->nresults; i++)
		f->own_type.rcells += (uint32_t)wtype_cells(type->results[i]);
	f->type = &f->own_type;
	f->host = fn;
	f->env = env;
	return f;
}

void capsa_wasm_func_type(const struct capsa_wasm_func *f, struct capsa_wasm_functype *o)
{
	*o = (struct capsa_wasm_functype){f->type->nparams, f->type->nresults, f->type->types,
	                                  f->type->types + f->type->nparams};
}

struct capsa_wasm_memory *capsa_wasm_caller_memory(struct capsa_wasm_caller *c)
{
	return c->inst ? c->inst->mem0 : NULL;
}

void capsa_wasm_caller_exit(struct capsa_wasm_caller *c, int code)
{
	c->exit_code = code;
}

struct capsa_wasm_store *capsa_wasm_caller_store(struct capsa_wasm_caller *c)
{
	return c->store;
}

struct capsa_wasm_table *capsa_wasm_table_new(struct capsa_wasm_store *s, uint8_t elemtype,
                                              uint32_t min, uint32_t max, struct err *e)
{
	if (min > MAX_TABLE_ELEMS) {
		err_set(e, ERR_INPUT, "table of %u elements is too large", min);
		return NULL;
	}
	struct capsa_wasm_table *t = obj_new(s, OBJ_TABLE, e);
	if (!t)
		return NULL;
	t->elem = elemtype;
	t->size = min;
	t->max = max == UINT32_MAX ? UINT64_MAX : max;
	t->elems = calloc(min ? min : 1, sizeof(uint64_t));
	if (!t->elems) {
		err_set(e, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	return t;
}

static struct capsa_wasm_memory *memory_new(struct capsa_wasm_store *s, uint64_t min, uint64_t max,
                                            struct err *e)
{
	struct capsa_wasm_memory *m = obj_new(s, OBJ_MEMORY, e);
	if (!m)
		return NULL;
	if (wasm_memory_init(m, min, max, s->lim.max_memory, e))
		return NULL;
	return m;
}

struct capsa_wasm_memory *capsa_wasm_memory_new(struct capsa_wasm_store *s, uint32_t min_pages,
                                                uint32_t max_pages, struct err *e)
{
	return memory_new(s, min_pages, max_pages == UINT32_MAX ? UINT64_MAX : max_pages, e);
}

uint8_t *capsa_wasm_memory_data(struct capsa_wasm_memory *m, uint64_t *size)
{
	*size = m->size;
	return m->base;
}

struct capsa_wasm_global *capsa_wasm_global_new(struct capsa_wasm_store *s, uint8_t type, int mut,
                                                union capsa_wasm_val init, struct err *e)
{
	struct capsa_wasm_global *g = obj_new(s, OBJ_GLOBAL, e);
	if (!g)
		return NULL;
	g->type = type;
	g->mut = (uint8_t) !!mut;
	g->val[0] = init.bits;
	return g;
}

union capsa_wasm_val capsa_wasm_global_get(const struct capsa_wasm_global *g)
{
	union capsa_wasm_val v;
	v.bits = g->val[0];
	return v;
}

uint8_t capsa_wasm_global_type(const struct capsa_wasm_global *g)
{
	return g->type;
}

/* ---- instantiation ---- */

static const char *kind_name(uint8_t k)
{
	static const char *const n[] = {"function", "table", "memory", "global"};
	return k < 4 ? n[k] : "extern";
}

static int limits_match(uint64_t have_min, uint64_t have_max, const struct wlimits *want)
{
	if (have_min < want->min)
		return 0;
	if (want->max != UINT64_MAX && (have_max == UINT64_MAX || have_max > want->max))
		return 0;
	return 1;
}

static int link_import(struct capsa_wasm_instance *in, const struct wimport *im,
                       const struct capsa_wasm_extern *x, uint32_t *counts, struct err *e)
{
	const struct capsa_wasm_module *m = in->mod;
	if (x->kind != im->kind || !x->u.ptr)
		return err_set(e, ERR_INPUT, "incompatible import type: %s.%s is not a %s",
		               im->module, im->name, kind_name(im->kind));
	switch (im->kind) {
	case CAPSA_WASM_EXTERN_FUNC:
		if (!wtype_equal(x->u.func->type, &m->types[im->index]))
			return err_set(e, ERR_INPUT,
			               "incompatible import type: function %s.%s has another type",
			               im->module, im->name);
		in->funcs[counts[0]++] = x->u.func;
		break;
	case CAPSA_WASM_EXTERN_TABLE: {
		const struct wtabletype *tt = &m->tables[im->index];
		if (x->u.table->elem != tt->elem ||
		    !limits_match(x->u.table->size, x->u.table->max, &tt->lim))
			return err_set(e, ERR_INPUT, "incompatible import type: table %s.%s",
			               im->module, im->name);
		in->tables[counts[1]++] = x->u.table;
		break;
	}
	case CAPSA_WASM_EXTERN_MEMORY: {
		const struct capsa_wasm_memory *mm = x->u.memory;
		if (!limits_match(mm->size / WASM_PAGE, mm->max_pages, &m->mems[im->index]))
			return err_set(e, ERR_INPUT, "incompatible import type: memory %s.%s",
			               im->module, im->name);
		in->mems[counts[2]++] = x->u.memory;
		break;
	}
	case CAPSA_WASM_EXTERN_GLOBAL: {
		const struct wglobaltype *gt = &m->globals[im->index];
		if (x->u.global->type != gt->type || x->u.global->mut != gt->mut)
			return err_set(e, ERR_INPUT, "incompatible import type: global %s.%s",
			               im->module, im->name);
		in->globals[counts[3]++] = x->u.global;
		break;
	}
	}
	return 0;
}

static void eval_const(const struct capsa_wasm_instance *in, const struct wconst *c, uint64_t *v)
{
	v[1] = 0;
	switch (c->op) {
	case 0x23:
		v[0] = in->globals[c->index]->val[0];
		v[1] = in->globals[c->index]->val[1];
		break;
	case 0xd0:
		v[0] = 0;
		break;
	case 0xd2:
		v[0] = (uint64_t)(uintptr_t)in->funcs[c->index];
		break;
	default:
		v[0] = c->v[0];
		v[1] = c->v[1];
	}
}

/* The instance's copy of defined function i's interpreter code, with
 * relocations applied. */
static int func_code(struct capsa_wasm_instance *in, uint32_t i, struct err *e)
{
	const struct capsa_wasm_module *m = in->mod;
	const struct wcode *wc = &m->code[i];
	if (wasm_translate_func(m, i, e))
		return -1;
	cell *code = malloc((wc->ncode ? wc->ncode : 1) * sizeof(cell));
	if (!code)
		return err_set(e, ERR_SYSTEM, "out of memory");
	memcpy(code, wc->code, wc->ncode * sizeof(cell));
	for (uint32_t k = 0; k < wc->nrelocs; k++) {
		const struct reloc *r = &wc->relocs[k];
		void *p = NULL;
		switch (r->kind) {
		case RELOC_FUNC:
			p = in->funcs[r->index];
			break;
		case RELOC_GLOBAL:
			p = in->globals[r->index];
			break;
		case RELOC_TABLE:
			p = in->tables[r->index];
			break;
		case RELOC_ELEM:
			p = &in->elems[r->index];
			break;
		case RELOC_DATA:
			p = &in->datas[r->index];
			break;
		case RELOC_TYPE:
			p = &m->types[r->index];
			break;
		case RELOC_MEMOP:
			if (in->mem0 && in->mem0->guarded)
				code[r->cell].h = wasm_interp_labels()[r->index];
			continue;
		}
		code[r->cell].p = p;
	}
	in->code[i] = code;
	in->funcs[m->nimp_funcs + i]->code = code;
	return 0;
}

int wasm_func_code(struct capsa_wasm_func *f, struct err *e)
{
	if (f->code || !f->inst)
		return 0;
	return func_code(f->inst, f->index - f->inst->mod->nimp_funcs, e);
}

static enum capsa_wasm_trap init_segments(struct capsa_wasm_instance *in)
{
	const struct capsa_wasm_module *m = in->mod;
	for (uint32_t i = 0; i < m->nelems; i++) {
		const struct welem *el = &m->elems[i];
		struct welem_inst *ei = &in->elems[i];
		if (el->mode != SEG_ACTIVE) {
			if (el->mode == SEG_DECLARATIVE)
				ei->n = 0;
			continue;
		}
		uint64_t off[2];
		eval_const(in, &el->offset, off);
		struct capsa_wasm_table *t = in->tables[el->table];
		uint64_t d = (uint32_t)off[0];
		if (d + el->n > t->size)
			return CAPSA_WASM_TRAP_TABLE_OOB;
		if (el->n)
			memcpy(t->elems + d, ei->refs, el->n * sizeof(uint64_t));
		ei->n = 0;
	}
	for (uint32_t i = 0; i < m->ndatas; i++) {
		const struct wdata *dd = &m->datas[i];
		struct wdata_inst *di = &in->datas[i];
		if (dd->mode != SEG_ACTIVE)
			continue;
		uint64_t off[2];
		eval_const(in, &dd->offset, off);
		struct capsa_wasm_memory *mem = in->mems[dd->mem];
		uint64_t d = (uint32_t)off[0];
		if (d + dd->len > mem->size)
			return CAPSA_WASM_TRAP_MEMORY_OOB;
		if (dd->len)
			memcpy(mem->base + d, di->bytes, dd->len);
		di->len = 0;
	}
	return CAPSA_WASM_OK;
}

struct capsa_wasm_instance *capsa_wasm_instantiate(struct capsa_wasm_store *s,
                                                   const struct capsa_wasm_module *m,
                                                   capsa_wasm_resolve_fn resolve, void *env,
                                                   struct capsa_wasm_trap_info *trap, struct err *e)
{
	struct capsa_wasm_instance *in = obj_new(s, OBJ_INSTANCE, e);
	if (!in)
		return NULL;
	in->mod = m;
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	in->funcs = calloc(m->nfuncs + 1, sizeof(void *));
	in->tables = calloc(m->ntables + 1, sizeof(void *));
	in->mems = calloc(m->nmems + 1, sizeof(void *));
	in->globals = calloc(m->nglobals + 1, sizeof(void *));
	in->elems = calloc(m->nelems + 1, sizeof(*in->elems));
	in->datas = calloc(m->ndatas + 1, sizeof(*in->datas));
	in->code = calloc(ndef + 1, sizeof(cell *));
	if (!in->funcs || !in->tables || !in->mems || !in->globals || !in->elems || !in->datas ||
	    !in->code) {
		err_set(e, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	uint32_t counts[4] = {0};
	for (uint32_t i = 0; i < m->nimports; i++) {
		const struct wimport *im = &m->imports[i];
		struct capsa_wasm_extern x = {0};
		/* A resolver sees NUL-terminated names: one with a NUL inside
		 * would match a shorter name, so it is never resolved. */
		if (strlen(im->module) != im->module_len || strlen(im->name) != im->name_len) {
			err_set(e, ERR_INPUT, "unknown import %s.%s (%s): its name has a NUL byte",
			        im->module, im->name, kind_name(im->kind));
			return NULL;
		}
		if (!resolve || resolve(env, im->module, im->name, im->kind, &x)) {
			err_set(e, ERR_INPUT, "unknown import %s.%s (%s)", im->module, im->name,
			        kind_name(im->kind));
			return NULL;
		}
		if (link_import(in, im, &x, counts, e))
			return NULL;
	}
	for (uint32_t i = 0; i < ndef; i++) {
		struct capsa_wasm_func *f = obj_new(s, OBJ_FUNC, e);
		if (!f)
			return NULL;
		f->index = m->nimp_funcs + i;
		f->type = &m->types[m->func_type[f->index]];
		f->inst = in;
		f->wc = &m->code[i];
		in->funcs[f->index] = f;
	}
	for (uint32_t i = m->nimp_tables; i < m->ntables; i++) {
		const struct wtabletype *tt = &m->tables[i];
		uint32_t max = tt->lim.max == UINT64_MAX ? UINT32_MAX : (uint32_t)tt->lim.max;
		in->tables[i] = capsa_wasm_table_new(s, tt->elem, (uint32_t)tt->lim.min, max, e);
		if (!in->tables[i])
			return NULL;
		in->tables[i]->max = tt->lim.max;
	}
	for (uint32_t i = m->nimp_mems; i < m->nmems; i++) {
		in->mems[i] = memory_new(s, m->mems[i].min, m->mems[i].max, e);
		if (!in->mems[i])
			return NULL;
	}
	in->mem0 = m->nmems ? in->mems[0] : NULL;
	for (uint32_t i = m->nimp_globals; i < m->nglobals; i++) {
		struct capsa_wasm_global *g = obj_new(s, OBJ_GLOBAL, e);
		if (!g)
			return NULL;
		g->type = m->globals[i].type;
		g->mut = m->globals[i].mut;
		eval_const(in, &m->globals[i].init, g->val);
		in->globals[i] = g;
	}
	for (uint32_t i = 0; i < m->nelems; i++) {
		const struct welem *el = &m->elems[i];
		in->elems[i].n = el->n;
		in->elems[i].refs = calloc(el->n + 1, sizeof(uint64_t));
		if (!in->elems[i].refs) {
			err_set(e, ERR_SYSTEM, "out of memory");
			return NULL;
		}
		for (uint32_t k = 0; k < el->n; k++) {
			uint64_t v[2];
			eval_const(in, &el->items[k], v);
			in->elems[i].refs[k] = v[0];
		}
	}
	for (uint32_t i = 0; i < m->ndatas; i++) {
		in->datas[i].len = m->datas[i].len;
		in->datas[i].bytes = m->bytes + m->datas[i].start;
	}
	/* Functions get the interpreter's code on their first interpreted call
	 * (wasm_func_code): with the JIT, only those it leaves ever do. */
	if (s->lim.engine == CAPSA_WASM_ENGINE_JIT && wasm_jit_instance(s, in, e))
		return NULL;
	enum capsa_wasm_trap t = init_segments(in);
	if (t) {
		if (trap) {
			memset(trap, 0, sizeof(*trap));
			trap->trap = t;
			trap->func_index = -1;
			snprintf(trap->message, sizeof(trap->message), "%s",
			         capsa_wasm_trap_name(t));
		}
		err_set(e, ERR_GUEST, "instantiation trapped: %s", capsa_wasm_trap_name(t));
		return NULL;
	}
	if (m->start >= 0) {
		uint64_t cells[1];
		t = capsa_wasm_call(s, in->funcs[m->start], (union capsa_wasm_val *)cells, trap);
		if (t) {
			err_set(e, ERR_GUEST, "start function trapped: %s",
			        capsa_wasm_trap_name(t));
			return NULL;
		}
	}
	return in;
}

static void export_extern(struct capsa_wasm_instance *in, const struct wexport *x,
                          struct capsa_wasm_extern *out)
{
	out->kind = x->kind;
	switch (x->kind) {
	case CAPSA_WASM_EXTERN_FUNC:
		out->u.func = in->funcs[x->index];
		break;
	case CAPSA_WASM_EXTERN_TABLE:
		out->u.table = in->tables[x->index];
		break;
	case CAPSA_WASM_EXTERN_MEMORY:
		out->u.memory = in->mems[x->index];
		break;
	default:
		out->u.global = in->globals[x->index];
	}
}

int capsa_wasm_instance_export(struct capsa_wasm_instance *in, const char *name,
                               struct capsa_wasm_extern *out)
{
	return capsa_wasm_instance_export_n(in, name, strlen(name), out);
}

int capsa_wasm_instance_export_n(struct capsa_wasm_instance *in, const char *name, size_t len,
                                 struct capsa_wasm_extern *out)
{
	const struct capsa_wasm_module *m = in->mod;
	for (uint32_t i = 0; i < m->nexports; i++)
		if (m->exports[i].name_len == len && !memcmp(m->exports[i].name, name, len)) {
			export_extern(in, &m->exports[i], out);
			return 0;
		}
	return -1;
}

uint32_t capsa_wasm_instance_export_count(const struct capsa_wasm_instance *in)
{
	return in->mod->nexports;
}

const char *capsa_wasm_instance_export_at(struct capsa_wasm_instance *in, uint32_t i,
                                          struct capsa_wasm_extern *out)
{
	export_extern(in, &in->mod->exports[i], out);
	return in->mod->exports[i].name;
}

enum capsa_wasm_trap capsa_wasm_call(struct capsa_wasm_store *s, struct capsa_wasm_func *f,
                                     union capsa_wasm_val *cells, struct capsa_wasm_trap_info *info)
{
	if (info)
		memset(info, 0, sizeof(*info));
	if (f->jit && s->jit)
		return wasm_jit_call(s, f, (uint64_t *)cells, info);
	return wasm_interp_call(s, f, (uint64_t *)cells, info);
}

void wasm_trap_info_fill(struct capsa_wasm_trap_info *info, enum capsa_wasm_trap trap,
                         const struct capsa_wasm_func *f, uint32_t offset)
{
	if (!info)
		return;
	info->trap = trap;
	info->func_index = -1;
	info->func_name = NULL;
	info->offset = 0;
	snprintf(info->message, sizeof(info->message), "%s", capsa_wasm_trap_name(trap));
	if (!f || !f->inst)
		return;
	const struct capsa_wasm_module *m = f->inst->mod;
	info->func_index = f->index;
	if (m->func_names && m->func_names[f->index])
		info->func_name = m->func_names[f->index];
	for (uint32_t i = 0; !info->func_name && i < m->nexports; i++)
		if (m->exports[i].kind == CAPSA_WASM_EXTERN_FUNC && m->exports[i].index == f->index)
			info->func_name = m->exports[i].name;
	info->offset = offset;
}
