/* SPDX-License-Identifier: Apache-2.0 */
/* The generator's instruction templates: a weight, a generator function
 * and its parameter. */
#ifndef CAPSA_TESTS_EMU_DT_GEN_OPS_H
#define CAPSA_TESTS_EMU_DT_GEN_OPS_H

#include "gen.h"

struct dt_tmpl;
typedef void (*dt_gen_fn)(struct dt_gen *g, const struct dt_tmpl *t);

struct dt_tmpl {
	dt_gen_fn fn;
	int a;
	unsigned weight;
};

void dt_gen_alu(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_test(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_unary(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_mov(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_shift(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_shxd(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_mul(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_div(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_bt(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_bsf(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_xchg(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_movx(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_conv(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_lea(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_setcc(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_flagop(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_string(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_flagprobe(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_callret(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_misc(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_fault(struct dt_gen *g, const struct dt_tmpl *t);
void dt_gen_stack(struct dt_gen *g, const struct dt_tmpl *t);
/* a: index into the SSE table (gen_sse.c) */
void dt_gen_sse(struct dt_gen *g, const struct dt_tmpl *t);
extern const unsigned dt_nsse;

#endif
