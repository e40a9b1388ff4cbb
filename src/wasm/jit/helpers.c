/* SPDX-License-Identifier: Apache-2.0 */
/* Runtime functions called from compiled code: calls leaving compiled code
 * (host functions, interpreted functions), traps, fuel, and the bulk
 * memory and table operations (same checks as the interpreter). */
#include "wasm/jit/helpers.h"

#include <string.h>

#if defined(__SANITIZE_ADDRESS__) || JIT_ASAN_CLANG
#include <sanitizer/asan_interface.h>
#endif

_Noreturn void jit_unwind(struct jit_ctx *ctx, int code, uintptr_t pc)
{
	ctx->trap_pc = pc;
#if defined(__SANITIZE_ADDRESS__) || JIT_ASAN_CLANG
	__asan_handle_no_return(); /* the frames skipped are gone */
#endif
	ctx->unwind(ctx, code);
	__builtin_unreachable();
}

#define TRAP(code) jit_unwind(ctx, (code), (uintptr_t)__builtin_return_address(0))
/* The interrupt signal (intr.c) does not stop a runtime function: those
 * that may take long look at the flag before returning to compiled code,
 * which may have no fuel check to notice it. */
#define INTR_CHECK()                                                                               \
	do {                                                                                       \
		if (ctx->store->interrupted) {                                                     \
			ctx->budget = 0;                                                           \
			TRAP(CAPSA_WASM_TRAP_OUT_OF_FUEL);                                         \
		}                                                                                  \
	} while (0)

_Noreturn void jit_h_trap(struct jit_ctx *ctx, int code, uintptr_t pc)
{
	jit_unwind(ctx, code, pc);
}

/* Fuel: like the interpreter's refuel(), a slice at a time. Where the
 * interrupt signal stops compiled code (intr.c), the slice is all the fuel
 * left: the flag needs no frequent look, and a budget that covers a
 * counted loop's trip count lets its entry skip the clamp (trip.c). The
 * unused part is given back as before, so the count stays exact. Without
 * the signal (and with unlimited fuel, where the checks exist only to look
 * at the flag) a slice is 16384 units, as in the interpreter. */
void jit_h_fuel(struct jit_ctx *ctx, uintptr_t pc)
{
	struct capsa_wasm_store *s = ctx->store;
	int64_t f = s->fuel;
	if (s->interrupted || f <= 0) {
		ctx->budget = 0;
		jit_unwind(ctx, CAPSA_WASM_TRAP_OUT_OF_FUEL, pc);
	}
	int64_t slice = f != INT64_MAX && wasm_jit_intr_init() == 0 ? f : 16384;
	int64_t take = f < slice ? f : slice;
	if (f != INT64_MAX)
		s->fuel = f - take;
	ctx->budget = take - 1;
}

static void sync_fuel(struct jit_ctx *ctx)
{
	struct capsa_wasm_store *s = ctx->store;
	if (s->fuel != INT64_MAX && ctx->budget > 0)
		s->fuel += ctx->budget;
	ctx->budget = 0;
}

void jit_h_call(struct jit_ctx *ctx, struct capsa_wasm_func *f, uint64_t *cells,
                struct capsa_wasm_instance *caller)
{
	struct capsa_wasm_store *s = ctx->store;
	uintptr_t pc = (uintptr_t)__builtin_return_address(0);
	uint32_t depth = s->depth;
	enum capsa_wasm_trap t;
	sync_fuel(ctx);
	s->depth = (uint32_t)(s->lim.call_depth - (ctx->depth_left > 0 ? ctx->depth_left : 0));
	if (f->host) {
		struct capsa_wasm_caller cl = {s, caller, 0};
		t = f->host(&cl, f->env, (union capsa_wasm_val *)cells);
		if (t && ctx->info)
			ctx->info->exit_code = cl.exit_code;
	} else if (f->jit) {
		t = wasm_jit_call(s, f, cells, ctx->info);
		ctx->info_done = t != CAPSA_WASM_OK;
	} else {
		t = wasm_interp_call(s, f, cells, ctx->info);
		ctx->info_done = t != CAPSA_WASM_OK;
	}
	s->depth = depth;
	/* An interrupt while outside compiled code (intr.c) */
	if (!t && s->interrupted)
		t = CAPSA_WASM_TRAP_OUT_OF_FUEL;
	if (t)
		jit_unwind(ctx, t, pc);
}

void jit_h_sigcheck(struct jit_ctx *ctx, struct capsa_wasm_func *f, const struct wtype *want)
{
	if (!wtype_equal(f->type, want))
		TRAP(CAPSA_WASM_TRAP_INDIRECT_TYPE);
}

uint64_t jit_h_memory_grow(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	(void)p2;
	uint64_t r = (uint32_t)wasm_memory_grow(p1, (uint32_t)args[0]);
	INTR_CHECK();
	return r;
}

uint64_t jit_h_memory_init(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	struct capsa_wasm_memory *mem = p1;
	const struct wdata_inst *seg = p2;
	uint64_t d = (uint32_t)args[0], sr = (uint32_t)args[1], n = (uint32_t)args[2];
	if (d + n > mem->size || sr + n > seg->len)
		TRAP(CAPSA_WASM_TRAP_MEMORY_OOB);
	if (n)
		memcpy(mem->base + d, seg->bytes + sr, n);
	INTR_CHECK();
	return 0;
}

uint64_t jit_h_data_drop(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	(void)ctx;
	(void)p1;
	(void)args;
	((struct wdata_inst *)p2)->len = 0;
	return 0;
}

uint64_t jit_h_memory_copy(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	struct capsa_wasm_memory *mem = p1;
	uint64_t d = (uint32_t)args[0], sr = (uint32_t)args[1], n = (uint32_t)args[2];
	(void)p2;
	if (d + n > mem->size || sr + n > mem->size)
		TRAP(CAPSA_WASM_TRAP_MEMORY_OOB);
	memmove(mem->base + d, mem->base + sr, n);
	INTR_CHECK();
	return 0;
}

uint64_t jit_h_memory_fill(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	struct capsa_wasm_memory *mem = p1;
	uint64_t d = (uint32_t)args[0], n = (uint32_t)args[2];
	(void)p2;
	if (d + n > mem->size)
		TRAP(CAPSA_WASM_TRAP_MEMORY_OOB);
	memset(mem->base + d, (int)(args[1] & 0xff), n);
	INTR_CHECK();
	return 0;
}

uint64_t jit_h_table_init(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	struct capsa_wasm_table *t = p1;
	const struct welem_inst *el = p2;
	uint64_t d = (uint32_t)args[0], sr = (uint32_t)args[1], n = (uint32_t)args[2];
	if (d + n > t->size || sr + n > el->n)
		TRAP(CAPSA_WASM_TRAP_TABLE_OOB);
	if (n)
		memcpy(t->elems + d, el->refs + sr, n * sizeof(uint64_t));
	INTR_CHECK();
	return 0;
}

uint64_t jit_h_elem_drop(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	(void)ctx;
	(void)p1;
	(void)args;
	((struct welem_inst *)p2)->n = 0;
	return 0;
}

uint64_t jit_h_table_copy(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	struct capsa_wasm_table *dt = p1, *st = p2;
	uint64_t d = (uint32_t)args[0], sr = (uint32_t)args[1], n = (uint32_t)args[2];
	if (d + n > dt->size || sr + n > st->size)
		TRAP(CAPSA_WASM_TRAP_TABLE_OOB);
	if (n)
		memmove(dt->elems + d, st->elems + sr, n * sizeof(uint64_t));
	INTR_CHECK();
	return 0;
}

uint64_t jit_h_table_grow(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	(void)p2;
	uint64_t r = (uint32_t)wasm_table_grow(p1, (uint32_t)args[1], args[0]);
	INTR_CHECK();
	return r;
}

uint64_t jit_h_table_fill(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	struct capsa_wasm_table *t = p1;
	uint64_t i = (uint32_t)args[0], n = (uint32_t)args[2];
	(void)p2;
	if (i + n > t->size)
		TRAP(CAPSA_WASM_TRAP_TABLE_OOB);
	for (uint64_t k = 0; k < n; k++)
		t->elems[i + k] = args[1];
	INTR_CHECK();
	return 0;
}

uint64_t jit_h_table_get(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	const struct capsa_wasm_table *t = p1;
	uint32_t i = (uint32_t)args[0];
	(void)p2;
	if (i >= t->size)
		TRAP(CAPSA_WASM_TRAP_TABLE_OOB);
	return t->elems[i];
}

uint64_t jit_h_table_set(struct jit_ctx *ctx, void *p1, void *p2, uint64_t *args)
{
	struct capsa_wasm_table *t = p1;
	uint32_t i = (uint32_t)args[0];
	(void)p2;
	if (i >= t->size)
		TRAP(CAPSA_WASM_TRAP_TABLE_OOB);
	t->elems[i] = args[1];
	return 0;
}
