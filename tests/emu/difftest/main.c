/* SPDX-License-Identifier: Apache-2.0 */
/* build/difftest: the differential tester's long run (`make difftest`).
 *   difftest [-n SEQUENCES] [-t SECONDS] [-s SEED] [-r REPORTS]
 *   difftest -x SEED      one sequence: its instructions, both results
 *   -I                    integer instructions only (no SSE); put it first
 *   difftest -b SEED      one sequence's bytes to stdout (for a disassembler),
 *                         the offsets and names of its instructions to stderr
 * Exit status 1 if any sequence mismatched. */
#include "dt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int show_one(uint64_t seed, unsigned opts)
{
	char why[256];
	struct dt_native *n = dt_native_start(why, sizeof(why));
	struct dt_emul *em = n ? dt_emul_create(why, sizeof(why)) : NULL;
	struct dt_seq *s = malloc(sizeof(*s));
	if (!n || !em || !s) {
		fprintf(stderr, "difftest: %s\n", why);
		dt_native_stop(n);
		free(s);
		return 2;
	}
	dt_generate(s, seed, dt_items_for(seed), opts);
	int cls = dt_report(n, em, s, stdout, 1u << DT_C_STROVL);
	printf("%s\n", cls < 0 ? "no mismatch" : "mismatch");
	dt_emul_destroy(em);
	dt_native_stop(n);
	free(s);
	return cls < 0 ? 0 : 1;
}

static int dump_one(uint64_t seed, unsigned opts)
{
	struct dt_seq *s = malloc(sizeof(*s));
	if (!s)
		return 2;
	dt_generate(s, seed, dt_items_for(seed), opts);
	fwrite(s->code, 1, s->len, stdout);
	for (unsigned i = 0; i < s->ninsn; i++)
		fprintf(stderr, "%u %u %s\n", s->insn[i].off, s->insn[i].len, s->insn[i].name);
	free(s);
	return 0;
}

int main(int argc, char **argv)
{
	struct dt_loop cfg = {.seed = (uint64_t)time(NULL) << 20,
	                      .max_report = 10,
	                      .log = stdout,
	                      .prio = 1u << DT_C_STROVL};
	cfg.max_seqs = 1000000;
	cfg.max_secs = 600;
	int c;
	const char *xseed = NULL;
	while ((c = getopt(argc, argv, "n:t:s:r:x:b:I")) != -1) {
		switch (c) {
		case 'n':
			cfg.max_seqs = strtoull(optarg, NULL, 0);
			break;
		case 't':
			cfg.max_secs = strtod(optarg, NULL);
			break;
		case 's':
			cfg.seed = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			cfg.max_report = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'x':
			xseed = optarg;
			break;
		case 'b':
			return dump_one(strtoull(optarg, NULL, 0), cfg.gen_opts);
		case 'I':
			cfg.gen_opts |= DT_GEN_NO_SSE;
			break;
		default:
			fprintf(stderr, "usage: difftest [-n seqs] [-t secs] [-s seed] [-r "
			                "reports] [-x seed]\n");
			return 2;
		}
	}
	if (xseed)
		return show_one(strtoull(xseed, NULL, 0), cfg.gen_opts);
	printf("difftest: seed %#" PRIx64 ", up to %" PRIu64 " sequences or %.0f s\n", cfg.seed,
	       cfg.max_seqs, cfg.max_secs);
	fflush(stdout);
	struct dt_stats st;
	char why[256];
	if (dt_loop_run(&cfg, &st, why, sizeof(why))) {
		fprintf(stderr, "difftest: %s\n", why);
		return 2;
	}
	printf("%" PRIu64 " sequences, %" PRIu64 " instructions, %" PRIu64 " mismatches (%" PRIu64
	       " sequences ended in an exception natively)\n",
	       st.seqs, st.insns, st.mismatches, st.native_exceptions);
	for (int i = 0; i < DT_C_NCLASS; i++)
		printf("  %-8s %10" PRIu64 " instructions %6" PRIu64 " mismatches\n",
		       dt_class_names[i], st.cls_insns[i], st.cls_mismatch[i]);
	if (st.other_mismatch)
		printf("  (%" PRIu64 " mismatches not reproduced by any prefix)\n",
		       st.other_mismatch);
	return st.mismatches ? 1 : 0;
}
