/* SPDX-License-Identifier: Apache-2.0 */
/* Comparing a native and an emulated run, reporting a mismatch (seed,
 * bytes, instruction names, first difference) and shrinking it to the
 * shortest prefix of items that still mismatches; the budgeted loop. */
#include "dt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const gpr_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

static const char *end_name(enum dt_end e)
{
	return e == DT_END_DONE ? "end" : e == DT_END_EXCEPT ? "exception" : "other";
}

static void hex16(char *buf, const uint8_t *x)
{
	for (int i = 15; i >= 0; i--)
		sprintf(buf + 2 * (15 - i), "%02x", x[i]);
}

int dt_compare(const struct dt_seq *s, const struct dt_result *nat, const struct dt_result *emu,
               char *what, size_t len)
{
	if (nat->end != emu->end || nat->end == DT_END_OTHER) {
		snprintf(what, len,
		         "native %s (vector %d rip %#" PRIx64
		         ") vs emulator %s (vector %d rip %#" PRIx64 ") %s%s",
		         end_name(nat->end), nat->vector, nat->r.rip, end_name(emu->end),
		         emu->vector, emu->r.rip, nat->msg, emu->msg);
		return 1;
	}
	uint16_t undef = s->undef_end;
	if (nat->end == DT_END_EXCEPT) {
		if (nat->vector != emu->vector || nat->r.rip != emu->r.rip) {
			snprintf(what, len,
			         "exception: native vector %d at %#" PRIx64
			         ", emulator vector %d at %#" PRIx64,
			         nat->vector, nat->r.rip, emu->vector, emu->r.rip);
			return 1;
		}
		/* A user page fault's error code (P, W, U, I bits) and address. */
		if (nat->vector == 14 && ((nat->err ^ emu->err) & 0x1f || nat->cr2 != emu->cr2)) {
			snprintf(what, len,
			         "#PF: native error %#" PRIx64 " cr2 %#" PRIx64
			         ", emulator error %#" PRIx64 " cr2 %#" PRIx64,
			         nat->err, nat->cr2, emu->err, emu->cr2);
			return 1;
		}
		if (nat->vector == 13 && nat->err != emu->err) {
			snprintf(what, len,
			         "#GP: native error code %#" PRIx64 ", emulator %#" PRIx64,
			         nat->err, emu->err);
			return 1;
		}
		const struct dt_insn *in = dt_insn_at(s, nat->r.rip - DT_SEQ);
		undef = in ? in->undef_before : DT_ARITH;
	}
	for (int i = 0; i < 16; i++)
		if (nat->r.gpr[i] != emu->r.gpr[i]) {
			snprintf(what, len, "%s: native %#018" PRIx64 " emulator %#018" PRIx64,
			         gpr_names[i], nat->r.gpr[i], emu->r.gpr[i]);
			return 1;
		}
	uint64_t fm = (DT_ARITH | DT_DF) & ~(uint64_t)undef;
	if ((nat->r.rflags ^ emu->r.rflags) & fm) {
		snprintf(what, len,
		         "rflags: native %#" PRIx64 " emulator %#" PRIx64
		         " (compared bits %#" PRIx64 ", differing %#" PRIx64 ")",
		         nat->r.rflags & fm, emu->r.rflags & fm, fm,
		         (nat->r.rflags ^ emu->r.rflags) & fm);
		return 1;
	}
	if (nat->r.mxcsr != emu->r.mxcsr) {
		snprintf(what, len, "mxcsr: native %#x emulator %#x", nat->r.mxcsr, emu->r.mxcsr);
		return 1;
	}
	for (int i = 0; i < 16; i++)
		if (memcmp(nat->r.xmm[i], emu->r.xmm[i], 16)) {
			char a[33], b[33];
			hex16(a, nat->r.xmm[i]);
			hex16(b, emu->r.xmm[i]);
			snprintf(what, len, "xmm%d: native %s emulator %s", i, a, b);
			return 1;
		}
	for (uint64_t i = 0; i < DT_DATA_SIZE; i++)
		if (nat->data[i] != emu->data[i]) {
			uint64_t a = i & ~7ULL, x, y;
			memcpy(&x, nat->data + a, 8);
			memcpy(&y, emu->data + a, 8);
			snprintf(what, len,
			         "memory at %#" PRIx64 ": native %#018" PRIx64
			         " emulator %#018" PRIx64,
			         (uint64_t)(DT_DATA + a), x, y);
			return 1;
		}
	return 0;
}

static void print_seq(FILE *f, const struct dt_seq *s)
{
	fprintf(f, "  bytes:");
	for (uint32_t i = 0; i < s->len; i++)
		fprintf(f, " %02x", s->code[i]);
	fprintf(f, "\n");
	for (unsigned i = 0; i < s->ninsn; i++) {
		const struct dt_insn *in = &s->insn[i];
		fprintf(f, "  %#" PRIx64 ": %-12s size %-2u %-3s undef-before %#05x |",
		        (uint64_t)(DT_SEQ + in->off), in->name, in->size, in->mem ? "mem" : "",
		        in->undef_before);
		for (unsigned k = 0; k < in->len; k++)
			fprintf(f, " %02x", s->code[in->off + k]);
		fprintf(f, "\n");
	}
}

static void print_state(FILE *f, const char *who, const struct dt_result *r)
{
	fprintf(f, "  %s: %s vector %d rip %#" PRIx64 " rflags %#" PRIx64 " mxcsr %#x %s\n", who,
	        end_name(r->end), r->vector, r->r.rip, r->r.rflags, r->r.mxcsr, r->msg);
	for (int i = 0; i < 16; i += 4)
		fprintf(f,
		        "    %-3s %016" PRIx64 " %-3s %016" PRIx64 " %-3s %016" PRIx64
		        " %-3s %016" PRIx64 "\n",
		        gpr_names[i], r->r.gpr[i], gpr_names[i + 1], r->r.gpr[i + 1],
		        gpr_names[i + 2], r->r.gpr[i + 2], gpr_names[i + 3], r->r.gpr[i + 3]);
}

/* Both runs of one sequence; 1 if they differ (what says how). */
static int run_both(struct dt_native *n, struct dt_emul *em, const struct dt_seq *s,
                    struct dt_result *nat, struct dt_result *emu, char *what, size_t len)
{
	if (dt_native_run(n, s, nat) || dt_emul_run(em, s, emu)) {
		snprintf(what, len, "a runner failed");
		return 1;
	}
	return dt_compare(s, nat, emu, what, len);
}

int dt_report(struct dt_native *n, struct dt_emul *em, const struct dt_seq *s, void *log,
              unsigned prio)
{
	FILE *f = log;
	struct dt_result *nat = malloc(sizeof(*nat)), *emu = malloc(sizeof(*emu));
	struct dt_seq *t = malloc(sizeof(*t));
	char what[512];
	int cls = -1;
	if (!nat || !emu || !t)
		goto out;
	if (f)
		fprintf(f, "MISMATCH seed %#" PRIx64 " (%u items, %u instructions)\n", s->seed,
		        s->nitems, s->ninsn);
	for (unsigned k = 1; k <= s->nitems; k++) {
		*t = *s;
		dt_truncate(t, k);
		if (!run_both(n, em, t, nat, emu, what, sizeof(what)))
			continue;
		/* Blame the instruction where either side faulted, else one of a
		 * priority class in the last item, else the last one. */
		const struct dt_insn *in = &t->insn[t->ninsn - 1], *at = NULL;
		for (unsigned i = k > 1 ? t->item_insns[k - 2] : 0; i < t->ninsn; i++)
			if (prio & (1u << t->insn[i].cls))
				in = &t->insn[i];
		if (emu->end == DT_END_EXCEPT && emu->r.rip >= DT_SEQ)
			at = dt_insn_at(t, emu->r.rip - DT_SEQ);
		if (!at && nat->end == DT_END_EXCEPT && nat->r.rip >= DT_SEQ)
			at = dt_insn_at(t, nat->r.rip - DT_SEQ);
		in = at ? at : in;
		cls = in->cls;
		if (f) {
			fprintf(f,
			        "  shortest mismatching prefix: %u of %u items; last instruction "
			        "%s (%s)\n",
			        k, s->nitems, in->name, dt_class_names[in->cls]);
			fprintf(f, "  first difference: %s\n", what);
			print_seq(f, t);
			fprintf(f, "  initial rflags %#" PRIx64 "\n", t->init.rflags);
			for (int i = 0; i < 16; i += 4)
				fprintf(f,
				        "    %-3s %016" PRIx64 " %-3s %016" PRIx64
				        " %-3s %016" PRIx64 " %-3s %016" PRIx64 "\n",
				        gpr_names[i], t->init.gpr[i], gpr_names[i + 1],
				        t->init.gpr[i + 1], gpr_names[i + 2], t->init.gpr[i + 2],
				        gpr_names[i + 3], t->init.gpr[i + 3]);
			print_state(f, "native", nat);
			print_state(f, "emulator", emu);
		}
		break;
	}
	if (cls < 0 && f)
		fprintf(f, "  no prefix mismatches on its own (state-dependent?)\n");
out:
	if (f)
		fflush(f);
	free(nat);
	free(emu);
	free(t);
	return cls;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int dt_loop_run(const struct dt_loop *cfg, struct dt_stats *st, char *why, size_t whylen)
{
	memset(st, 0, sizeof(*st));
	struct dt_native *n = dt_native_start(why, whylen);
	if (!n)
		return -1;
	struct dt_emul *em = dt_emul_create(why, whylen);
	if (!em) {
		dt_native_stop(n);
		return -1;
	}
	struct dt_seq *s = malloc(sizeof(*s));
	struct dt_result *nat = malloc(sizeof(*nat)), *emu = malloc(sizeof(*emu));
	int rc = 0;
	unsigned reported = 0;
	double t0 = now();
	if (!s || !nat || !emu) {
		snprintf(why, whylen, "out of memory");
		rc = -1;
		goto out;
	}
	for (uint64_t i = 0; !cfg->max_seqs || i < cfg->max_seqs; i++) {
		if ((i & 15) == 0 && cfg->max_secs > 0 && now() - t0 > cfg->max_secs)
			break;
		uint64_t seed = cfg->seed + i;
		dt_generate(s, seed, dt_items_for(seed), cfg->gen_opts);
		char what[512];
		dt_native_submit(n, s);
		int erc = dt_emul_run(em, s, emu);
		if (dt_native_collect(n, nat) || erc) {
			snprintf(why, whylen, "runner failed at seed %#" PRIx64, seed);
			rc = -1;
			goto out;
		}
		st->seqs++;
		st->insns += s->ninsn;
		for (unsigned k = 0; k < s->ninsn; k++)
			st->cls_insns[s->insn[k].cls]++;
		if (nat->end == DT_END_EXCEPT)
			st->native_exceptions++;
		if (!dt_compare(s, nat, emu, what, sizeof(what)))
			continue;
		st->mismatches++;
		int full = reported++ < cfg->max_report;
		int cls = dt_report(n, em, s, full ? cfg->log : NULL, cfg->prio);
		if (!full && cfg->log) /* one line each beyond the full reports */
			fprintf(cfg->log, "mismatch seed %#" PRIx64 " (%s): %s\n", seed,
			        cls >= 0 ? dt_class_names[cls] : "?", what);
		if (cls >= 0)
			st->cls_mismatch[cls]++;
		else
			st->other_mismatch++;
	}
out:
	free(s);
	free(nat);
	free(emu);
	dt_emul_destroy(em);
	dt_native_stop(n);
	return rc;
}
