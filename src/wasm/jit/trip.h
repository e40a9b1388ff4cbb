/* SPDX-License-Identifier: Apache-2.0 */
/* Counted loops under fuel (trip.c): a loop whose back edges are counted
 * from its induction variable, without a fuel check per iteration. */
#ifndef CAPSA_WASM_JIT_TRIP_H
#define CAPSA_WASM_JIT_TRIP_H

#include "wasm/jit/jc.h"

/* One counted loop: the shape found in its body and the code's labels. */
struct jtrip {
	const uint8_t *brif;       /* the final br_if 0's opcode */
	uint32_t j;                /* the induction variable (an i32 local) */
	uint32_t step, bound;      /* a local's index or a constant */
	uint8_t step_local;        /* step is a local (else a constant) */
	uint8_t bound_local;       /* bound is a local (else a constant) */
	uint8_t neg;               /* the transformed increment is -step */
	uint8_t cmp;               /* the compare's opcode (0: br_if on j itself) */
	uint8_t tk;                /* the transform T (trip.c) */
	uint32_t ent;              /* label: computes the loop's bound, then the head */
	uint32_t head;             /* label: the loop's head */
	uint32_t trap_lo, trap_hi; /* its out-of-line traps */
	uint32_t site_lo, site_hi; /* its sites (memory accesses) */
	uint32_t outer;            /* the loop holding it (an index; UINT32_MAX: none) */
	uint32_t cell;             /* its first cell past trip_cell (0, or 3 in a nest) */
	uint32_t resv;             /* holding counted loops: the back edges they may take
	                            * per iteration without looking at the fuel (0: none) */
};

/* At the head of a loop without parameters or results (the operand stack
 * spilled, c->r after its block type), before head is bound: when the loop is counted, emits the
 * code computing its clamped bound and opens it (c->trip_open: 1 + the
 * index of the innermost open one, 0: none). */
void jc_trip_loop(struct jc *c, uint32_t head);
/* The frame cells the counted loops of the function (c->r at its first
 * instruction) need: 0 (none), 3, or 6 when one holds others (c->trip_cell;
 * UINT32_MAX: none). */
uint32_t jc_trip_wanted(const struct jc *c);
/* Then (after the locals got their registers): keeps the register the
 * loops compare with from the locals and the temporaries. */
void jc_trip_reserve(struct jc *c);
/* Whether the br_if at c->cur_off ends the open counted loop; then
 * jc_trip_branch compiles it. */
int jc_trip_final(const struct jc *c);
void jc_trip_branch(struct jc *c);
/* Before out-of-line trap i's code: charges the back edges its counted
 * loop has taken, if it is in one. */
void jc_trip_trap(struct jc *c, uint32_t i);
/* After the traps: where faults in counted loops continue (jit_site.pad). */
void jc_trip_pads(struct jc *c);

#endif
