/* SPDX-License-Identifier: Apache-2.0 */
/* Internal data structures of the WebAssembly runtime: the decoded module,
 * the compiled internal form, runtime objects and the store. */
#ifndef CAPSA_WASM_INTERNAL_H
#define CAPSA_WASM_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "capsa/wasm.h"
#include "lib/err.h"

#define WASM_PAGE         65536u
#define WASM_MAX_PAGES    65536u
#define WASM_TYPE_UNKNOWN 0 /* validator: bottom type in unreachable code */

/* One cell of compiled code: a handler address or an immediate. */
typedef union cell {
	const void *h;
	uint64_t u;
	int64_t i;
	void *p;
} cell;

struct wtype {
	uint32_t nparams, nresults;
	uint8_t *types;          /* params then results */
	uint32_t pcells, rcells; /* cells the params/results occupy */
};

static inline int wtype_cells(uint8_t t)
{
	return t == CAPSA_WASM_V128 ? 2 : 1;
}
static inline int wtype_is_ref(uint8_t t)
{
	return t == CAPSA_WASM_FUNCREF || t == CAPSA_WASM_EXTERNREF;
}
int wtype_equal(const struct wtype *a, const struct wtype *b);

/* A constant expression: one instruction. */
struct wconst {
	uint8_t op; /* 0x41 i32, 0x42 i64, 0x43 f32, 0x44 f64, 0x23 global.get,
	               0xd0 ref.null, 0xd2 ref.func, 0xfd v128.const */
	uint32_t index;
	uint64_t v[2];
};

struct wlimits {
	uint64_t min, max; /* max UINT64_MAX when absent */
};

struct wimport {
	char *module, *name;
	uint32_t module_len, name_len; /* names may contain NUL bytes */
	uint8_t kind;
	uint32_t index; /* type index for functions; index in the kind's space otherwise */
};

struct wtabletype {
	uint8_t elem;
	struct wlimits lim;
};

struct wglobaltype {
	uint8_t type, mut;
	struct wconst init;
};

struct wexport {
	char *name;
	uint32_t name_len;
	uint8_t kind;
	uint32_t index;
};

enum { SEG_ACTIVE, SEG_PASSIVE, SEG_DECLARATIVE };

struct welem {
	uint8_t mode, type;
	uint32_t table;
	struct wconst offset;
	uint32_t n;
	struct wconst *items;
};

struct wdata {
	uint8_t mode;
	uint32_t mem;
	struct wconst offset;
	uint32_t start, len; /* bytes within the module */
};

/* RELOC_MEMOP: the cell is a bounds-checked memory access; index is its
 * unchecked form, used when the instance's memory has a guard region. */
enum reloc_kind {
	RELOC_FUNC,
	RELOC_GLOBAL,
	RELOC_TABLE,
	RELOC_ELEM,
	RELOC_DATA,
	RELOC_TYPE,
	RELOC_MEMOP
};

struct reloc {
	uint32_t cell;
	uint8_t kind;
	uint32_t index;
};

/* A compiled function body. */
struct wcode {
	uint32_t body_off, body_len;
	uint32_t entry_off; /* module byte offset of the body's first instruction */
	cell *code;         /* template; instance copies get relocations applied */
	uint32_t ncode;
	uint32_t *offs; /* module byte offset of the instruction starting at each cell */
	struct reloc *relocs;
	uint32_t nrelocs;
	uint32_t nlocal_cells; /* params + locals */
	uint32_t frame_cells;  /* locals + deepest operand stack */
};

struct wsection {
	uint8_t id;
	uint32_t offset, size;
	char *name;
	uint32_t name_len;
};

struct capsa_wasm_module {
	uint8_t *bytes;
	size_t len;
	uint32_t ntypes;
	struct wtype *types;
	uint32_t nimports;
	struct wimport *imports;
	uint32_t nfuncs, nimp_funcs;
	uint32_t *func_type;
	struct wcode *code; /* nfuncs - nimp_funcs */
	uint32_t ntables, nimp_tables;
	struct wtabletype *tables;
	uint32_t nmems, nimp_mems;
	struct wlimits *mems;
	uint32_t nglobals, nimp_globals;
	struct wglobaltype *globals;
	uint32_t nexports;
	struct wexport *exports;
	int64_t start;
	uint32_t nelems;
	struct welem *elems;
	uint32_t ndatas;
	struct wdata *datas;
	int has_datacount;
	uint32_t datacount;
	uint8_t *declared_funcs; /* per function: may be named by ref.func */
	uint32_t nsections;
	struct wsection *sections;
	char **func_names; /* from the name section; may be NULL */
	/* Loading validates every body; the interpreter's code of a function
	 * (struct wcode's code, offs, relocs) is made the first time an
	 * instance interprets it (wasm_translate_func), under this lock, as
	 * instances of one module may run on several threads. */
	pthread_mutex_t code_lock;
	uint32_t ntranslated; /* bodies translated so far */
};

/* Decoding (decode.c) and code validation/compilation (compile.c). */
int wasm_decode(struct capsa_wasm_module *m, struct err *e);
/* Arrays one validation leaves to the next (a module's bodies are
 * validated one after the other): zeroed at first, freed by
 * wasm_validate_done. */
struct wvalid_keep {
	void *cs, *vs, *lruns;
	uint32_t capcs, capvs, caplruns;
};
/* Validates body defidx (no code emitted) and sets its entry_off,
 * nlocal_cells and frame_cells; keep (or NULL) lends it its arrays. */
int wasm_validate_func(struct capsa_wasm_module *m, uint32_t defidx, struct wvalid_keep *keep,
                       struct err *e);
void wasm_validate_done(struct wvalid_keep *keep);
/* Validates every body (validate.c): threads 1, one after the other; 2,
 * with a helper thread as well; 0, with a helper when the code is large
 * and a CPU is idle. The error is the first invalid body's in every case. */
int wasm_validate_code(struct capsa_wasm_module *m, int threads, struct err *e);
/* Makes the interpreter's code of validated body defidx unless it exists;
 * safe to call from several threads. */
int wasm_translate_func(const struct capsa_wasm_module *m, uint32_t defidx, struct err *e);
int wasm_read_const(struct capsa_wasm_module *m, void *rd, uint8_t want, int globals_limit,
                    struct wconst *out);

/* Runtime objects. */
struct capsa_wasm_func {
	const struct wtype *type;
	struct capsa_wasm_instance *inst; /* NULL for host functions */
	cell *code;                       /* entry of the instance's copy */
	const struct wcode *wc;
	uint32_t index;
	capsa_wasm_host_fn host;
	void *env;
	struct wtype own_type; /* for host functions */
	void *jit;             /* compiled entry (NULL: interpreted) */
	uint32_t jit_sig;      /* canonical signature id (0: not known) */
};

struct capsa_wasm_table {
	uint8_t elem;
	uint32_t size;
	uint64_t max; /* UINT64_MAX when unbounded */
	uint64_t *elems;
};

struct capsa_wasm_memory {
	uint8_t *base;
	uint64_t size;      /* bytes accessible */
	uint64_t max_pages; /* declared maximum, UINT64_MAX when absent */
	uint64_t reserved;  /* bytes of address space reserved */
	uint64_t limit;     /* store-wide byte limit */
	uint64_t cap_pages; /* the most pages it may grow to */
	int guarded;        /* reserved 8 GiB + guard: accesses need no bounds check */
};

struct capsa_wasm_global {
	uint64_t val[2];
	uint8_t type, mut;
};

struct welem_inst {
	uint32_t n;
	uint64_t *refs;
};
struct wdata_inst {
	uint32_t len;
	const uint8_t *bytes;
};

struct capsa_wasm_instance {
	const struct capsa_wasm_module *mod;
	struct capsa_wasm_func **funcs;
	struct capsa_wasm_table **tables;
	struct capsa_wasm_memory *mem0;
	struct capsa_wasm_memory **mems;
	struct capsa_wasm_global **globals;
	struct welem_inst *elems;
	struct wdata_inst *datas;
	cell **code;      /* per defined function */
	void *jit_region; /* its compiled code, if any */
};

struct capsa_wasm_caller {
	struct capsa_wasm_store *store;
	struct capsa_wasm_instance *inst;
	int exit_code;
};

struct wframe {
	cell *pc;
	uint64_t *fp;
	struct capsa_wasm_func *func;
};

struct capsa_wasm_store {
	struct capsa_wasm_limits lim;
	volatile int64_t fuel; /* negative: unlimited */
	volatile int interrupted;
	int intr_fd;          /* eventfd, readable once interrupted */
	volatile int jit_tid; /* thread running compiled code (0: none) */
	int64_t saved_fuel;
	void **objs;
	uint32_t nobjs, capobjs;
	/* Execution stacks, reused across calls; a nested call from a host
	 * function continues above the current frames. */
	uint64_t *stack;
	struct wframe *frames;
	uint64_t *sp_top; /* first free cell during execution */
	uint32_t depth;
	struct jit_store *jit; /* compiled code and its stack (jit/runtime.c) */
};

int wasm_store_track(struct capsa_wasm_store *s, void *obj);
/* Gives a defined function its instance's interpreter code if it has none:
 * done by the interpreter on the function's first call. */
int wasm_func_code(struct capsa_wasm_func *f, struct err *e);
/* Fills *info (if not NULL) for a trap in f (NULL if unknown) at the
 * module byte offset; leaves exit_code alone. */
void wasm_trap_info_fill(struct capsa_wasm_trap_info *info, enum capsa_wasm_trap trap,
                         const struct capsa_wasm_func *f, uint32_t offset);

/* Memory (memory.c). */
int wasm_memory_init(struct capsa_wasm_memory *m, uint64_t min_pages, uint64_t max_pages,
                     uint64_t limit, struct err *e);
/* Returns the old size in pages or -1. */
int64_t wasm_memory_grow(struct capsa_wasm_memory *m, uint64_t delta_pages);
void wasm_memory_release(struct capsa_wasm_memory *m);
int64_t wasm_table_grow(struct capsa_wasm_table *t, uint32_t delta, uint64_t init);

/* Interpreter (interp.c). */
const void *const *wasm_interp_labels(void);
enum capsa_wasm_trap wasm_interp_call(struct capsa_wasm_store *s, struct capsa_wasm_func *f,
                                      uint64_t *cells, struct capsa_wasm_trap_info *info);

#endif
