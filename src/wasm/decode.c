/* SPDX-License-Identifier: Apache-2.0 */
/* Binary decoder: sections other than code bodies, with the module-level
 * validation rules (indices, limits, constant expressions, exports). */
#include "wasm/internal.h"
#include "wasm/reader.h"

#include <stdlib.h>
#include <string.h>

#define FAIL(...) err_set(r->e, ERR_INPUT, __VA_ARGS__)

static void *xcalloc(struct rd *r, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		err_set(r->e, ERR_SYSTEM, "out of memory");
	return p;
}

/* A vector count: each element takes at least one byte. */
static int rd_count(struct rd *r, uint32_t *n)
{
	if (rd_u32(r, n))
		return -1;
	if (*n > rd_left(r))
		return rd_fail(r, "length out of bounds");
	return 0;
}

static int is_valtype(uint8_t t)
{
	return t == CAPSA_WASM_I32 || t == CAPSA_WASM_I64 || t == CAPSA_WASM_F32 ||
	       t == CAPSA_WASM_F64 || t == CAPSA_WASM_V128 || wtype_is_ref(t);
}

static int rd_valtype(struct rd *r, uint8_t *t)
{
	if (rd_u8(r, t))
		return -1;
	if (!is_valtype(*t))
		return rd_fail(r, "malformed value type");
	return 0;
}

static int rd_reftype(struct rd *r, uint8_t *t)
{
	if (rd_u8(r, t))
		return -1;
	if (!wtype_is_ref(*t))
		return rd_fail(r, "malformed reference type");
	return 0;
}

static int rd_limits(struct rd *r, struct wlimits *l, uint64_t bound, const char *what)
{
	uint8_t flag;
	uint32_t v;
	if (rd_u8(r, &flag))
		return -1;
	if (flag > 1)
		return rd_fail(r, "malformed limits flags");
	if (rd_u32(r, &v))
		return -1;
	l->min = v;
	l->max = UINT64_MAX;
	if (flag) {
		if (rd_u32(r, &v))
			return -1;
		l->max = v;
	}
	if (l->min > bound || (l->max != UINT64_MAX && l->max > bound))
		return FAIL("%s size must be at most %llu", what, (unsigned long long)bound);
	if (l->max != UINT64_MAX && l->min > l->max)
		return FAIL("size minimum must not be greater than maximum");
	return 0;
}

static int rd_tabletype(struct rd *r, struct wtabletype *t)
{
	if (rd_reftype(r, &t->elem))
		return -1;
	return rd_limits(r, &t->lim, UINT32_MAX, "table");
}

static int rd_globaltype(struct rd *r, struct wglobaltype *g)
{
	if (rd_valtype(r, &g->type) || rd_u8(r, &g->mut))
		return -1;
	if (g->mut > 1)
		return rd_fail(r, "malformed mutability");
	return 0;
}

int wasm_read_const(struct capsa_wasm_module *m, void *rdv, uint8_t want, int globals_limit,
                    struct wconst *c)
{
	struct rd *r = rdv;
	uint8_t op, type = 0, end;
	memset(c, 0, sizeof(*c));
	if (rd_u8(r, &op))
		return -1;
	c->op = op;
	switch (op) {
	case 0x41: {
		int32_t v;
		if (rd_s32(r, &v))
			return -1;
		c->v[0] = (uint32_t)v;
		type = CAPSA_WASM_I32;
		break;
	}
	case 0x42: {
		int64_t v;
		if (rd_s64(r, &v))
			return -1;
		c->v[0] = (uint64_t)v;
		type = CAPSA_WASM_I64;
		break;
	}
	case 0x43: {
		uint32_t v;
		if (rd_f32(r, &v))
			return -1;
		c->v[0] = v;
		type = CAPSA_WASM_F32;
		break;
	}
	case 0x44:
		if (rd_f64(r, &c->v[0]))
			return -1;
		type = CAPSA_WASM_F64;
		break;
	case 0x23:
		if (rd_u32(r, &c->index))
			return -1;
		if ((int64_t)c->index >= globals_limit)
			return FAIL("unknown global %u", c->index);
		if (m->globals[c->index].mut)
			return FAIL("constant expression required");
		type = m->globals[c->index].type;
		break;
	case 0xd0:
		if (rd_reftype(r, &type))
			return -1;
		break;
	case 0xd2:
		if (rd_u32(r, &c->index))
			return -1;
		if (c->index >= m->nfuncs)
			return FAIL("unknown function %u", c->index);
		m->declared_funcs[c->index] = 1;
		type = CAPSA_WASM_FUNCREF;
		break;
	case 0xfd: {
		uint32_t sub;
		const uint8_t *b;
		if (rd_u32(r, &sub))
			return -1;
		if (sub != 12)
			return FAIL("constant expression required");
		if (rd_bytes(r, 16, &b))
			return -1;
		memcpy(c->v, b, 16);
		type = CAPSA_WASM_V128;
		break;
	}
	case 0x0b:
		return FAIL("type mismatch: empty constant expression");
	default:
		return FAIL("constant expression required");
	}
	if (rd_u8(r, &end))
		return -1;
	if (end != 0x0b) {
		/* An extra instruction makes it non-constant (or mistyped). */
		return FAIL("constant expression required");
	}
	if (type != want)
		return FAIL("type mismatch in constant expression");
	return 0;
}

static int sec_type(struct capsa_wasm_module *m, struct rd *r)
{
	uint32_t count;
	if (rd_count(r, &count))
		return -1;
	m->ntypes = count;
	m->types = xcalloc(r, m->ntypes, sizeof(*m->types));
	if (!m->types) {
		m->ntypes = 0;
		return -1;
	}
	for (uint32_t i = 0; i < m->ntypes; i++) {
		struct wtype *t = &m->types[i];
		uint8_t form;
		uint32_t np, nr;
		if (rd_u8(r, &form))
			return -1;
		if (form != 0x60)
			return rd_fail(r, "malformed function type");
		if (rd_count(r, &np))
			return -1;
		uint8_t *tmp = xcalloc(r, np + 1, 1);
		if (!tmp)
			return -1;
		t->types = tmp;
		for (uint32_t k = 0; k < np; k++)
			if (rd_valtype(r, &tmp[k]))
				return -1;
		if (rd_count(r, &nr))
			return -1;
		t->types = realloc(tmp, (size_t)np + nr + 1);
		if (!t->types) {
			free(tmp);
			return err_set(r->e, ERR_SYSTEM, "out of memory");
		}
		for (uint32_t k = 0; k < nr; k++)
			if (rd_valtype(r, &t->types[np + k]))
				return -1;
		t->nparams = np;
		t->nresults = nr;
		for (uint32_t k = 0; k < np; k++)
			t->pcells += wtype_cells(t->types[k]);
		for (uint32_t k = 0; k < nr; k++)
			t->rcells += wtype_cells(t->types[np + k]);
	}
	return 0;
}

static int grow(struct rd *r, void **arr, uint32_t n, size_t size)
{
	void *p = realloc(*arr, ((size_t)n + 1) * size);
	if (!p)
		return err_set(r->e, ERR_SYSTEM, "out of memory");
	*arr = p;
	memset((char *)p + (size_t)n * size, 0, size);
	return 0;
}

static int sec_import(struct capsa_wasm_module *m, struct rd *r)
{
	uint32_t count;
	if (rd_count(r, &count))
		return -1;
	m->nimports = count;
	m->imports = xcalloc(r, m->nimports, sizeof(*m->imports));
	if (!m->imports) {
		m->nimports = 0;
		return -1;
	}
	for (uint32_t i = 0; i < m->nimports; i++) {
		struct wimport *im = &m->imports[i];
		if (rd_name_len(r, &im->module, &im->module_len) ||
		    rd_name_len(r, &im->name, &im->name_len) || rd_u8(r, &im->kind))
			return -1;
		switch (im->kind) {
		case CAPSA_WASM_EXTERN_FUNC:
			if (rd_u32(r, &im->index))
				return -1;
			if (im->index >= m->ntypes)
				return FAIL("unknown type %u", im->index);
			if (grow(r, (void **)&m->func_type, m->nfuncs, sizeof(uint32_t)))
				return -1;
			m->func_type[m->nfuncs++] = im->index;
			m->nimp_funcs++;
			break;
		case CAPSA_WASM_EXTERN_TABLE:
			if (grow(r, (void **)&m->tables, m->ntables, sizeof(*m->tables)) ||
			    rd_tabletype(r, &m->tables[m->ntables]))
				return -1;
			im->index = m->ntables++;
			m->nimp_tables++;
			break;
		case CAPSA_WASM_EXTERN_MEMORY:
			if (grow(r, (void **)&m->mems, m->nmems, sizeof(*m->mems)) ||
			    rd_limits(r, &m->mems[m->nmems], WASM_MAX_PAGES, "memory"))
				return -1;
			im->index = m->nmems++;
			m->nimp_mems++;
			break;
		case CAPSA_WASM_EXTERN_GLOBAL:
			if (grow(r, (void **)&m->globals, m->nglobals, sizeof(*m->globals)) ||
			    rd_globaltype(r, &m->globals[m->nglobals]))
				return -1;
			im->index = m->nglobals++;
			m->nimp_globals++;
			break;
		default:
			return rd_fail(r, "malformed import kind");
		}
	}
	return 0;
}

static int sec_function(struct capsa_wasm_module *m, struct rd *r)
{
	uint32_t n;
	if (rd_count(r, &n))
		return -1;
	uint32_t *ft = realloc(m->func_type, ((size_t)m->nfuncs + n + 1) * sizeof(uint32_t));
	if (!ft)
		return err_set(r->e, ERR_SYSTEM, "out of memory");
	m->func_type = ft;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t t;
		if (rd_u32(r, &t))
			return -1;
		if (t >= m->ntypes)
			return FAIL("unknown type %u", t);
		ft[m->nfuncs++] = t;
	}
	return 0;
}

static int sec_table(struct capsa_wasm_module *m, struct rd *r)
{
	uint32_t n;
	if (rd_count(r, &n))
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (grow(r, (void **)&m->tables, m->ntables, sizeof(*m->tables)) ||
		    rd_tabletype(r, &m->tables[m->ntables]))
			return -1;
		m->ntables++;
	}
	return 0;
}

static int sec_memory(struct capsa_wasm_module *m, struct rd *r)
{
	uint32_t n;
	if (rd_count(r, &n))
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (grow(r, (void **)&m->mems, m->nmems, sizeof(*m->mems)) ||
		    rd_limits(r, &m->mems[m->nmems], WASM_MAX_PAGES, "memory"))
			return -1;
		m->nmems++;
	}
	if (m->nmems > 1)
		return FAIL("multiple memories");
	return 0;
}

static int sec_global(struct capsa_wasm_module *m, struct rd *r)
{
	uint32_t n;
	if (rd_count(r, &n))
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (grow(r, (void **)&m->globals, m->nglobals, sizeof(*m->globals)))
			return -1;
		struct wglobaltype *g = &m->globals[m->nglobals];
		if (rd_globaltype(r, g) ||
		    wasm_read_const(m, r, g->type, (int)m->nimp_globals, &g->init))
			return -1;
		m->nglobals++;
	}
	return 0;
}

/* An export name seen before: a hash table (size a power of two, more
 * than twice the exports) of export indices + 1, so that checking a
 * section of many exports stays linear. */
static int export_seen(const struct capsa_wasm_module *m, uint32_t *tab, uint32_t mask, uint32_t i)
{
	const struct wexport *x = &m->exports[i];
	uint32_t h = 2166136261u;
	for (uint32_t k = 0; k < x->name_len; k++)
		h = (h ^ (uint8_t)x->name[k]) * 16777619u;
	for (;; h++) {
		uint32_t e = tab[h & mask];
		if (!e) {
			tab[h & mask] = i + 1;
			return 0;
		}
		const struct wexport *y = &m->exports[e - 1];
		if (y->name_len == x->name_len && !memcmp(y->name, x->name, x->name_len))
			return 1;
	}
}

static int exports_read(struct capsa_wasm_module *m, struct rd *r, uint32_t *tab, uint32_t mask)
{
	for (uint32_t i = 0; i < m->nexports; i++) {
		struct wexport *x = &m->exports[i];
		if (rd_name_len(r, &x->name, &x->name_len) || rd_u8(r, &x->kind) ||
		    rd_u32(r, &x->index))
			return -1;
		uint32_t lim;
		switch (x->kind) {
		case CAPSA_WASM_EXTERN_FUNC:
			lim = m->nfuncs;
			break;
		case CAPSA_WASM_EXTERN_TABLE:
			lim = m->ntables;
			break;
		case CAPSA_WASM_EXTERN_MEMORY:
			lim = m->nmems;
			break;
		case CAPSA_WASM_EXTERN_GLOBAL:
			lim = m->nglobals;
			break;
		default:
			return rd_fail(r, "malformed export kind");
		}
		if (x->index >= lim)
			return FAIL("unknown %s %u in export",
			            x->kind == 0   ? "function"
			            : x->kind == 1 ? "table"
			            : x->kind == 2 ? "memory"
			                           : "global",
			            x->index);
		if (x->kind == CAPSA_WASM_EXTERN_FUNC)
			m->declared_funcs[x->index] = 1;
		if (export_seen(m, tab, mask, i))
			return FAIL("duplicate export name \"%s\"", x->name);
	}
	return 0;
}

static int sec_export(struct capsa_wasm_module *m, struct rd *r)
{
	uint32_t count;
	if (rd_count(r, &count))
		return -1;
	m->nexports = count;
	m->exports = xcalloc(r, m->nexports, sizeof(*m->exports));
	if (!m->exports) {
		m->nexports = 0;
		return -1;
	}
	uint32_t mask = 15;
	while (mask / 2 < count)
		mask = mask * 2 + 1;
	uint32_t *tab = xcalloc(r, (size_t)mask + 1, sizeof(uint32_t));
	if (!tab)
		return -1;
	int rc = exports_read(m, r, tab, mask);
	free(tab);
	return rc;
}

static int sec_start(struct capsa_wasm_module *m, struct rd *r)
{
	uint32_t f;
	if (rd_u32(r, &f))
		return -1;
	if (f >= m->nfuncs)
		return FAIL("unknown function %u as start", f);
	const struct wtype *t = &m->types[m->func_type[f]];
	if (t->nparams || t->nresults)
		return FAIL("start function must have type [] -> []");
	m->start = f;
	return 0;
}

static int rd_elem_offset(struct capsa_wasm_module *m, struct rd *r, struct welem *el)
{
	if (el->table >= m->ntables)
		return FAIL("unknown table %u", el->table);
	return wasm_read_const(m, r, CAPSA_WASM_I32, (int)m->nimp_globals, &el->offset);
}

static int sec_elem(struct capsa_wasm_module *m, struct rd *r)
{
	uint32_t count;
	if (rd_count(r, &count))
		return -1;
	m->nelems = count;
	m->elems = xcalloc(r, m->nelems, sizeof(*m->elems));
	if (!m->elems) {
		m->nelems = 0;
		return -1;
	}
	for (uint32_t i = 0; i < m->nelems; i++) {
		struct welem *el = &m->elems[i];
		uint32_t flags;
		if (rd_u32(r, &flags))
			return -1;
		if (flags > 7)
			return rd_fail(r, "malformed elements segment kind");
		el->type = CAPSA_WASM_FUNCREF;
		el->mode = (flags & 1) ? ((flags & 2) ? SEG_DECLARATIVE : SEG_PASSIVE) : SEG_ACTIVE;
		if (el->mode == SEG_ACTIVE) {
			if ((flags & 2) && rd_u32(r, &el->table))
				return -1;
			if (rd_elem_offset(m, r, el))
				return -1;
		}
		int exprs = flags & 4;
		if (flags & 3) {
			if (exprs) {
				if (rd_reftype(r, &el->type))
					return -1;
			} else {
				uint8_t kind;
				if (rd_u8(r, &kind))
					return -1;
				if (kind != 0)
					return rd_fail(r, "malformed element kind");
			}
		}
		if (rd_count(r, &el->n))
			return -1;
		el->items = xcalloc(r, el->n, sizeof(*el->items));
		if (!el->items)
			return -1;
		for (uint32_t k = 0; k < el->n; k++) {
			struct wconst *c = &el->items[k];
			if (exprs) {
				if (wasm_read_const(m, r, el->type, (int)m->nimp_globals, c))
					return -1;
			} else {
				c->op = 0xd2;
				if (rd_u32(r, &c->index))
					return -1;
				if (c->index >= m->nfuncs)
					return FAIL("unknown function %u", c->index);
				m->declared_funcs[c->index] = 1;
			}
		}
		if (el->mode == SEG_ACTIVE && m->tables[el->table].elem != el->type)
			return FAIL("type mismatch: element segment vs table");
	}
	return 0;
}

static int sec_code(struct capsa_wasm_module *m, struct rd *r)
{
	uint32_t n;
	if (rd_count(r, &n))
		return -1;
	if (n != m->nfuncs - m->nimp_funcs)
		return FAIL("function and code section have inconsistent lengths");
	m->code = xcalloc(r, n, sizeof(*m->code));
	if (!m->code)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t size;
		if (rd_u32(r, &size))
			return -1;
		if (size > rd_left(r))
			return rd_fail(r, "unexpected end of section or function");
		m->code[i].body_off = rd_off(r);
		m->code[i].body_len = size;
		r->p += size;
	}
	return wasm_validate_code(m, 0, r->e);
}

static int sec_data(struct capsa_wasm_module *m, struct rd *r)
{
	uint32_t count;
	if (rd_count(r, &count))
		return -1;
	m->ndatas = count;
	if (m->has_datacount && m->datacount != m->ndatas)
		return FAIL("data count and data section have inconsistent lengths");
	m->datas = xcalloc(r, m->ndatas, sizeof(*m->datas));
	if (!m->datas) {
		m->ndatas = 0;
		return -1;
	}
	for (uint32_t i = 0; i < m->ndatas; i++) {
		struct wdata *d = &m->datas[i];
		uint32_t flags;
		const uint8_t *b;
		if (rd_u32(r, &flags))
			return -1;
		if (flags > 2)
			return rd_fail(r, "malformed data segment kind");
		d->mode = flags == 1 ? SEG_PASSIVE : SEG_ACTIVE;
		if (flags == 2 && rd_u32(r, &d->mem))
			return -1;
		if (d->mode == SEG_ACTIVE) {
			if (d->mem >= m->nmems)
				return FAIL("unknown memory %u", d->mem);
			if (wasm_read_const(m, r, CAPSA_WASM_I32, (int)m->nimp_globals, &d->offset))
				return -1;
		}
		if (rd_u32(r, &d->len))
			return -1;
		d->start = rd_off(r);
		if (rd_bytes(r, d->len, &b))
			return -1;
	}
	return 0;
}

static void parse_names(struct capsa_wasm_module *m, struct rd *r)
{
	struct err ignore;
	r->e = &ignore;
	while (rd_left(r)) {
		uint8_t id;
		uint32_t size;
		if (rd_u8(r, &id) || rd_u32(r, &size) || size > rd_left(r))
			return;
		struct rd sub = {r->p, r->p + size, r->base, &ignore};
		r->p += size;
		if (id != 1)
			continue;
		uint32_t n;
		if (rd_count(&sub, &n))
			return;
		if (!m->func_names)
			m->func_names = calloc(m->nfuncs ? m->nfuncs : 1, sizeof(char *));
		if (!m->func_names)
			return;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t idx;
			char *name;
			if (rd_u32(&sub, &idx) || rd_name(&sub, &name))
				return;
			if (idx < m->nfuncs && !m->func_names[idx])
				m->func_names[idx] = name;
			else
				free(name);
		}
	}
}

/* Section ids in their required order (custom sections anywhere). */
static int section_rank(uint8_t id)
{
	static const int rank[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
	return id <= 12 ? rank[id] : -1;
}

int wasm_decode(struct capsa_wasm_module *m, struct err *e)
{
	struct rd rr = {m->bytes, m->bytes + m->len, m->bytes, e}, *r = &rr;
	const uint8_t *b;
	int last = 0;
	m->start = -1;
	if (rd_left(r) < 4 || memcmp(r->p, "\0asm", 4))
		return err_set(e, ERR_INPUT, "magic header not detected");
	r->p += 4;
	if (rd_left(r) < 4)
		return err_set(e, ERR_INPUT, "unexpected end: no version");
	if (memcmp(r->p, "\1\0\0\0", 4))
		return err_set(e, ERR_INPUT, "unknown binary version");
	r->p += 4;
	while (rd_left(r)) {
		uint8_t id;
		uint32_t size;
		if (rd_u8(r, &id) || rd_u32(r, &size))
			return -1;
		if (size > rd_left(r))
			return rd_fail(r, "unexpected end: section size out of bounds");
		int rank = section_rank(id);
		if (rank < 0)
			return rd_fail(r, "malformed section id");
		struct wsection *sec = realloc(m->sections, (m->nsections + 1) * sizeof(*sec));
		if (!sec)
			return err_set(e, ERR_SYSTEM, "out of memory");
		m->sections = sec;
		sec = &sec[m->nsections++];
		memset(sec, 0, sizeof(*sec));
		sec->id = id;
		sec->offset = rd_off(r);
		sec->size = size;
		struct rd s = {r->p, r->p + size, r->base, e};
		r->p += size;
		if (id == 0) {
			if (rd_name_len(&s, &sec->name, &sec->name_len))
				return -1;
			if (sec->name_len == 4 && !memcmp(sec->name, "name", 4))
				parse_names(m, &s);
			continue;
		}
		if (rank <= last)
			return rd_fail(&s, "unexpected content after last section (out of order)");
		last = rank;
		if (id != 1 && id != 2) {
			/* ref.func declarations need the function count. */
			if (!m->declared_funcs) {
				m->declared_funcs = calloc(m->nfuncs ? m->nfuncs : 1, 1);
				if (!m->declared_funcs)
					return err_set(e, ERR_SYSTEM, "out of memory");
			}
		}
		int rc = 0;
		switch (id) {
		case 1:
			rc = sec_type(m, &s);
			break;
		case 2:
			rc = sec_import(m, &s);
			break;
		case 3:
			rc = sec_function(m, &s);
			free(m->declared_funcs);
			m->declared_funcs = calloc(m->nfuncs ? m->nfuncs : 1, 1);
			if (!rc && !m->declared_funcs)
				rc = err_set(e, ERR_SYSTEM, "out of memory");
			break;
		case 4:
			rc = sec_table(m, &s);
			break;
		case 5:
			rc = sec_memory(m, &s);
			break;
		case 6:
			rc = sec_global(m, &s);
			break;
		case 7:
			rc = sec_export(m, &s);
			break;
		case 8:
			rc = sec_start(m, &s);
			break;
		case 9:
			rc = sec_elem(m, &s);
			break;
		case 12:
			rc = rd_u32(&s, &m->datacount);
			m->has_datacount = 1;
			break;
		case 10:
			rc = sec_code(m, &s);
			break;
		case 11:
			rc = sec_data(m, &s);
			break;
		}
		if (rc)
			return -1;
		if (rd_left(&s))
			return rd_fail(&s, "section size mismatch");
	}
	(void)b;
	if (m->nfuncs != m->nimp_funcs && !m->code)
		return err_set(e, ERR_INPUT, "function and code section have inconsistent lengths");
	if (m->has_datacount && m->datacount != m->ndatas)
		return err_set(e, ERR_INPUT,
		               "data count and data section have inconsistent lengths");
	if (m->nmems > 1)
		return err_set(e, ERR_INPUT, "multiple memories");
	return 0;
}
