/* SPDX-License-Identifier: Apache-2.0 */
/* capsa WebAssembly embedding API.
 *
 * A store owns every runtime object (functions, tables, memories, globals,
 * instances); they live until the store is freed. A module is decoded and
 * fully validated by capsa_wasm_module_load(); capsa_wasm_instantiate()
 * links it against externs the caller supplies (host functions or exports
 * of other instances) and runs its start function.
 *
 * Values cross the API as 64-bit cells (union capsa_wasm_val); a v128 value
 * takes two consecutive cells. References are pointers (NULL is null). */
#ifndef CAPSA_WASM_H
#define CAPSA_WASM_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Value types use their binary encodings. */
enum capsa_wasm_type {
	CAPSA_WASM_I32 = 0x7f,
	CAPSA_WASM_I64 = 0x7e,
	CAPSA_WASM_F32 = 0x7d,
	CAPSA_WASM_F64 = 0x7c,
	CAPSA_WASM_V128 = 0x7b,
	CAPSA_WASM_FUNCREF = 0x70,
	CAPSA_WASM_EXTERNREF = 0x6f,
};

enum capsa_wasm_extern_kind {
	CAPSA_WASM_EXTERN_FUNC = 0,
	CAPSA_WASM_EXTERN_TABLE = 1,
	CAPSA_WASM_EXTERN_MEMORY = 2,
	CAPSA_WASM_EXTERN_GLOBAL = 3,
};

/* Why execution stopped. CAPSA_WASM_OK means it returned normally. */
enum capsa_wasm_trap {
	CAPSA_WASM_OK = 0,
	CAPSA_WASM_TRAP_UNREACHABLE,
	CAPSA_WASM_TRAP_MEMORY_OOB,
	CAPSA_WASM_TRAP_TABLE_OOB,
	CAPSA_WASM_TRAP_INT_DIV_ZERO,
	CAPSA_WASM_TRAP_INT_OVERFLOW,
	CAPSA_WASM_TRAP_BAD_CONVERSION,
	CAPSA_WASM_TRAP_UNDEFINED_ELEMENT,
	CAPSA_WASM_TRAP_UNINITIALIZED_ELEMENT,
	CAPSA_WASM_TRAP_INDIRECT_TYPE,
	CAPSA_WASM_TRAP_STACK_EXHAUSTED,
	CAPSA_WASM_TRAP_OUT_OF_FUEL,
	CAPSA_WASM_TRAP_HOST,  /* a host function failed */
	CAPSA_WASM_TRAP_EXIT,  /* a host function asked to stop (e.g. WASI proc_exit) */
	CAPSA_WASM_TRAP_COUNT_ /* keep last */
};

union capsa_wasm_val {
	int32_t i32;
	int64_t i64;
	float f32;
	double f64;
	uint64_t bits;
	void *ref;
};

/* Where a trap happened: function index in its module (or -1) and the byte
 * offset of the instruction in the module file (or 0). */
struct capsa_wasm_trap_info {
	enum capsa_wasm_trap trap;
	int64_t func_index;
	const char *func_name; /* from the name section or export, may be NULL */
	uint32_t offset;
	int exit_code; /* for CAPSA_WASM_TRAP_EXIT */
	char message[160];
};

struct capsa_wasm_store;
struct capsa_wasm_module;
struct capsa_wasm_instance;
struct capsa_wasm_func;
struct capsa_wasm_table;
struct capsa_wasm_memory;
struct capsa_wasm_global;
struct capsa_wasm_caller;

struct capsa_wasm_extern {
	enum capsa_wasm_extern_kind kind;
	union {
		struct capsa_wasm_func *func;
		struct capsa_wasm_table *table;
		struct capsa_wasm_memory *memory;
		struct capsa_wasm_global *global;
		void *ptr;
	} u;
};

struct capsa_wasm_functype {
	uint32_t nparams, nresults;
	const uint8_t *params; /* enum capsa_wasm_type bytes */
	const uint8_t *results;
};

/* How a store runs code: compiled to machine code (the default where the
 * host has a compiler back end, x86-64) or interpreted. */
enum capsa_wasm_engine {
	CAPSA_WASM_ENGINE_DEFAULT = 0,
	CAPSA_WASM_ENGINE_JIT,
	CAPSA_WASM_ENGINE_INTERP,
};
/* "jit" or "interp"; NULL for an unknown value. */
const char *capsa_wasm_engine_name(enum capsa_wasm_engine eng);
/* "i32", "f64", "funcref", ... for a value type's encoding; "?" otherwise. */
const char *capsa_wasm_type_name(uint8_t type);
/* Whether this build and host can run the engine (the interpreter always). */
int capsa_wasm_engine_available(enum capsa_wasm_engine eng);

struct capsa_wasm_limits {
	enum capsa_wasm_engine engine; /* DEFAULT: the JIT where available */
	uint64_t stack_cells; /* value stack size in 64-bit cells (0: default 4M, 32 MiB) */
	uint32_t call_depth;  /* maximum call depth (0: default 50000) */
	uint64_t max_memory;  /* bytes any linear memory may grow to (0: 4 GiB) */
};

/* A trap message for humans: "integer divide by zero", ... */
const char *capsa_wasm_trap_name(enum capsa_wasm_trap t);

struct capsa_wasm_store *capsa_wasm_store_new(const struct capsa_wasm_limits *limits,
                                              struct err *e);
void capsa_wasm_store_free(struct capsa_wasm_store *s);
/* Fuel: every function entry and loop iteration costs one unit. A negative
 * value means unlimited. Compiled code counts fuel only if it was limited
 * when the store's first instance was created; otherwise calls into it run
 * interpreted while fuel is limited. capsa_wasm_store_interrupt() may be called from
 * another thread (or a signal handler) to stop execution with OUT_OF_FUEL;
 * compiled code is stopped through SIGURG sent to the thread running it
 * (docs/wasm.md, "Interrupts and signals"). */
void capsa_wasm_store_set_fuel(struct capsa_wasm_store *s, int64_t fuel);
int64_t capsa_wasm_store_fuel(const struct capsa_wasm_store *s);
void capsa_wasm_store_interrupt(struct capsa_wasm_store *s);
/* A descriptor that becomes readable when the store is interrupted and stays
 * so. A host function that blocks (sleeps, reads a pipe) polls it along with
 * what it waits for and returns CAPSA_WASM_TRAP_OUT_OF_FUEL once it is
 * readable, so an interrupt also ends a blocking host call. */
int capsa_wasm_store_interrupt_fd(const struct capsa_wasm_store *s);

/* Decode and validate. The bytes are copied. Errors are ERR_INPUT, with a
 * message naming the problem and its byte offset. */
struct capsa_wasm_module *capsa_wasm_module_load(const uint8_t *bytes, size_t len, struct err *e);
void capsa_wasm_module_free(struct capsa_wasm_module *m);

/* Module introspection (for `capsa wasm inspect`). */
struct capsa_wasm_import_desc {
	const char *module, *name;
	enum capsa_wasm_extern_kind kind;
	struct capsa_wasm_functype type; /* for functions */
	uint8_t valtype;                 /* for globals and tables (elem type) */
	int mutable_;                    /* for globals */
	uint64_t min, max;               /* limits; max UINT64_MAX if none */
	size_t module_len, name_len;     /* names may contain NUL bytes */
};
struct capsa_wasm_export_desc {
	const char *name;
	enum capsa_wasm_extern_kind kind;
	uint32_t index;
	size_t name_len; /* names may contain NUL bytes */
};
uint32_t capsa_wasm_module_import_count(const struct capsa_wasm_module *m);
void capsa_wasm_module_import(const struct capsa_wasm_module *m, uint32_t i,
                              struct capsa_wasm_import_desc *out);
uint32_t capsa_wasm_module_export_count(const struct capsa_wasm_module *m);
void capsa_wasm_module_export(const struct capsa_wasm_module *m, uint32_t i,
                              struct capsa_wasm_export_desc *out);
/* Section summary: id, byte offset, size, and for custom sections the name. */
struct capsa_wasm_section_desc {
	uint8_t id;
	uint32_t offset, size;
	const char *name; /* NUL-terminated, name_len bytes (may contain NUL) */
	size_t name_len;
};
uint32_t capsa_wasm_module_section_count(const struct capsa_wasm_module *m);
void capsa_wasm_module_section(const struct capsa_wasm_module *m, uint32_t i,
                               struct capsa_wasm_section_desc *out);
/* Type of the function with this module-wide index (imports first). */
int capsa_wasm_module_functype(const struct capsa_wasm_module *m, uint32_t funcidx,
                               struct capsa_wasm_functype *out);
uint32_t capsa_wasm_module_func_count(const struct capsa_wasm_module *m);

/* Host function: args are read from cells[0..nparams) and results written
 * to cells[0..nresults). Return CAPSA_WASM_OK or a trap; for TRAP_EXIT set
 * the exit code with capsa_wasm_caller_exit(). */
typedef enum capsa_wasm_trap (*capsa_wasm_host_fn)(struct capsa_wasm_caller *caller, void *env,
                                                   union capsa_wasm_val *cells);
struct capsa_wasm_func *capsa_wasm_func_new(struct capsa_wasm_store *s,
                                            const struct capsa_wasm_functype *type,
                                            capsa_wasm_host_fn fn, void *env, struct err *e);
void capsa_wasm_func_type(const struct capsa_wasm_func *f, struct capsa_wasm_functype *out);

/* The memory of the instance whose code called the host function (NULL if none). */
struct capsa_wasm_memory *capsa_wasm_caller_memory(struct capsa_wasm_caller *c);
void capsa_wasm_caller_exit(struct capsa_wasm_caller *c, int code);
struct capsa_wasm_store *capsa_wasm_caller_store(struct capsa_wasm_caller *c);

struct capsa_wasm_table *capsa_wasm_table_new(struct capsa_wasm_store *s, uint8_t elemtype,
                                              uint32_t min, uint32_t max, struct err *e);
struct capsa_wasm_memory *capsa_wasm_memory_new(struct capsa_wasm_store *s, uint32_t min_pages,
                                                uint32_t max_pages, struct err *e);
uint8_t *capsa_wasm_memory_data(struct capsa_wasm_memory *m, uint64_t *size);
struct capsa_wasm_global *capsa_wasm_global_new(struct capsa_wasm_store *s, uint8_t type,
                                                int mutable_, union capsa_wasm_val init,
                                                struct err *e);
union capsa_wasm_val capsa_wasm_global_get(const struct capsa_wasm_global *g);
uint8_t capsa_wasm_global_type(const struct capsa_wasm_global *g);

/* Import resolver: fill *out for (module, name) or return -1 (unlinkable).
 * Imports whose names contain a NUL byte never reach it (unlinkable). */
typedef int (*capsa_wasm_resolve_fn)(void *env, const char *module, const char *name,
                                     enum capsa_wasm_extern_kind kind,
                                     struct capsa_wasm_extern *out);

/* Instantiate. On a trap in initialisation or the start function returns
 * NULL with *trap filled (if given) and e set. Unlinkable imports: ERR_INPUT. */
struct capsa_wasm_instance *capsa_wasm_instantiate(struct capsa_wasm_store *s,
                                                   const struct capsa_wasm_module *m,
                                                   capsa_wasm_resolve_fn resolve, void *env,
                                                   struct capsa_wasm_trap_info *trap,
                                                   struct err *e);
int capsa_wasm_instance_export(struct capsa_wasm_instance *inst, const char *name,
                               struct capsa_wasm_extern *out);
/* Same for a name of known length (export names may contain NUL bytes). */
int capsa_wasm_instance_export_n(struct capsa_wasm_instance *inst, const char *name, size_t len,
                                 struct capsa_wasm_extern *out);
uint32_t capsa_wasm_instance_export_count(const struct capsa_wasm_instance *inst);
const char *capsa_wasm_instance_export_at(struct capsa_wasm_instance *inst, uint32_t i,
                                          struct capsa_wasm_extern *out);

/* Call a function: cells holds the arguments on entry and the results on
 * return (size at least max(nparams, nresults) values, v128 counting two).
 * Returns CAPSA_WASM_OK or the trap, with details in *info if given. */
enum capsa_wasm_trap capsa_wasm_call(struct capsa_wasm_store *s, struct capsa_wasm_func *f,
                                     union capsa_wasm_val *cells,
                                     struct capsa_wasm_trap_info *info);

#endif
