/* SPDX-License-Identifier: Apache-2.0 */
/* x87 instructions of the software CPU against the host's x87 unit: each
 * form runs natively and emulated on the same random operands (80-bit
 * specials: NaNs, infinities, denormals, pseudo-denormals, unnormals;
 * memory operands of every format), control words (precision, rounding,
 * some exceptions unmasked) and stack depths (empty registers, a full
 * stack), and the stack, tags, status word, stored memory and EFLAGS must
 * match. Plus FSAVE/FRSTOR and FXSAVE/FXRSTOR round trips, #MF and #NM. */
#include "emu_diff.h"

#include <stdio.h>

/* data block */
enum {
	D_A = 0x00, /* 80-bit operands */
	D_B = 0x10,
	D_C = 0x20,
	D_CW = 0x30,
	D_SW = 0x38,
	D_FL = 0x40,  /* flags in, then out */
	D_FLO = 0x48, /* flags out */
	D_MEM = 0x80, /* memory operand (up to 0x80 bytes) */
	D_FX = 0x100, /* FXSAVE image */
	D_SIZE = 0x300,
};

struct xop {
	const char *name;
	uint8_t op, modrm; /* modrm: a register form, or /digit << 3 for memory */
	uint8_t mem;       /* memory operand bytes (0: register form) */
	uint8_t cmpsz;     /* memory bytes compared (stores) */
};

#define R(n, o, m)                                                                                 \
	{                                                                                          \
		n, o, m, 0, 0                                                                      \
	}
#define M(n, o, d, sz)                                                                             \
	{                                                                                          \
		n, o, (uint8_t)((d) << 3), sz, sz                                                  \
	}
#define MS(n, o, d, sz, c)                                                                         \
	{                                                                                          \
		n, o, (uint8_t)((d) << 3), sz, c                                                   \
	}
#define ARITH_R(o, n)                                                                              \
	R(n " 1", o, 0xc1), R(n " 2", o, 0xc2), R(n " c9", o, 0xc9), R(n " d1", o, 0xd1),          \
	    R(n " da", o, 0xda), R(n " e1", o, 0xe1), R(n " ea", o, 0xea), R(n " f1", o, 0xf1),    \
	    R(n " fa", o, 0xfa), R(n " e9", o, 0xe9), R(n " f9", o, 0xf9), R(n " c0", o, 0xc0)
#define ARITH_M(o, n, sz)                                                                          \
	M(n "/0", o, 0, sz), M(n "/1", o, 1, sz), M(n "/2", o, 2, sz), M(n "/3", o, 3, sz),        \
	    M(n "/4", o, 4, sz), M(n "/5", o, 5, sz), M(n "/6", o, 6, sz), M(n "/7", o, 7, sz)

static const struct xop ops[] = {
    ARITH_R(0xd8, "d8"),
    R("fadd st(i),st dc c1", 0xdc, 0xc1),
    R("dc c2", 0xdc, 0xc2),
    R("fmul dc ca", 0xdc, 0xca),
    R("fsubr dc e1", 0xdc, 0xe1),
    R("fsub dc ea", 0xdc, 0xea),
    R("fdivr dc f1", 0xdc, 0xf1),
    R("fdiv dc fa", 0xdc, 0xfa),
    R("faddp de c1", 0xde, 0xc1),
    R("fmulp de ca", 0xde, 0xca),
    R("fsubrp de e1", 0xde, 0xe1),
    R("fsubp de ea", 0xde, 0xea),
    R("fdivrp de f2", 0xde, 0xf2),
    R("fdivp de f9", 0xde, 0xf9),
    R("fcompp", 0xde, 0xd9),
    R("fucom 1", 0xdd, 0xe1),
    R("fucom 2", 0xdd, 0xe2),
    R("fucomp", 0xdd, 0xe9),
    R("fucompp", 0xda, 0xe9),
    R("fucomi", 0xdb, 0xe9),
    R("fcomi", 0xdb, 0xf2),
    R("fucomip", 0xdf, 0xea),
    R("fcomip", 0xdf, 0xf1),
    R("fld st1", 0xd9, 0xc1),
    R("fld st2", 0xd9, 0xc2),
    R("fxch 1", 0xd9, 0xc9),
    R("fxch 2", 0xd9, 0xca),
    R("fst st2", 0xdd, 0xd2),
    R("fstp st1", 0xdd, 0xd9),
    R("ffree st1", 0xdd, 0xc1),
    R("fcmovb", 0xda, 0xc1),
    R("fcmove", 0xda, 0xca),
    R("fcmovbe", 0xda, 0xd2),
    R("fcmovu", 0xda, 0xd9),
    R("fcmovnb", 0xdb, 0xc2),
    R("fcmovne", 0xdb, 0xc9),
    R("fcmovnbe", 0xdb, 0xd1),
    R("fcmovnu", 0xdb, 0xda),
    R("fnop", 0xd9, 0xd0),
    R("fchs", 0xd9, 0xe0),
    R("fabs", 0xd9, 0xe1),
    R("ftst", 0xd9, 0xe4),
    R("fxam", 0xd9, 0xe5),
    R("fld1", 0xd9, 0xe8),
    R("fldl2t", 0xd9, 0xe9),
    R("fldl2e", 0xd9, 0xea),
    R("fldpi", 0xd9, 0xeb),
    R("fldlg2", 0xd9, 0xec),
    R("fldln2", 0xd9, 0xed),
    R("fldz", 0xd9, 0xee),
    R("f2xm1", 0xd9, 0xf0),
    R("fyl2x", 0xd9, 0xf1),
    R("fptan", 0xd9, 0xf2),
    R("fpatan", 0xd9, 0xf3),
    R("fxtract", 0xd9, 0xf4),
    R("fprem1", 0xd9, 0xf5),
    R("fdecstp", 0xd9, 0xf6),
    R("fincstp", 0xd9, 0xf7),
    R("fprem", 0xd9, 0xf8),
    R("fyl2xp1", 0xd9, 0xf9),
    R("fsqrt", 0xd9, 0xfa),
    R("fsincos", 0xd9, 0xfb),
    R("frndint", 0xd9, 0xfc),
    R("fscale", 0xd9, 0xfd),
    R("fsin", 0xd9, 0xfe),
    R("fcos", 0xd9, 0xff),
    ARITH_M(0xd8, "m32", 4),
    ARITH_M(0xdc, "m64", 8),
    ARITH_M(0xda, "m32int", 4),
    ARITH_M(0xde, "m16int", 2),
    M("fld m32", 0xd9, 0, 4),
    M("fld m64", 0xdd, 0, 8),
    M("fld m80", 0xdb, 5, 10),
    M("fild m16", 0xdf, 0, 2),
    M("fild m32", 0xdb, 0, 4),
    M("fild m64", 0xdf, 5, 8),
    M("fbld", 0xdf, 4, 10),
    R("ffreep st1", 0xdf, 0xc1),
    R("fcom dc d2", 0xdc, 0xd2),
    R("fcomp dc da", 0xdc, 0xda),
    M("fst m32", 0xd9, 2, 4),
    M("fstp m32", 0xd9, 3, 4),
    M("fst m64", 0xdd, 2, 8),
    M("fstp m64", 0xdd, 3, 8),
    M("fstp m80", 0xdb, 7, 10),
    M("fist m16", 0xdf, 2, 2),
    M("fistp m16", 0xdf, 3, 2),
    M("fist m32", 0xdb, 2, 4),
    M("fistp m32", 0xdb, 3, 4),
    M("fistp m64", 0xdf, 7, 8),
    M("fisttp m16", 0xdf, 1, 2),
    M("fisttp m32", 0xdb, 1, 4),
    M("fisttp m64", 0xdd, 1, 8),
    M("fbstp", 0xdf, 6, 10),
    MS("fnstenv", 0xd9, 6, 28, 12),
    M("fnstcw", 0xd9, 7, 2),
    M("fnstsw m", 0xdd, 7, 2),
    R("fnstsw ax", 0xdf, 0xe0),
    R("fnclex", 0xdb, 0xe2),
};

/* ---- inputs ---- */
static void rnd_f80(uint64_t *r, uint8_t *v)
{
	static const struct {
		uint64_t m;
		uint16_t se;
	} special[] = {
	    {0, 0},
	    {0, 0x8000},
	    {0x8000000000000000ULL, 0x7fff}, /* inf */
	    {0x8000000000000000ULL, 0xffff}, /* -inf */
	    {0xc000000000000000ULL, 0xffff}, /* indefinite */
	    {0xc000000000001234ULL, 0x7fff}, /* QNaN */
	    {0xa000000000000000ULL, 0x7fff}, /* SNaN */
	    {0x0000000000000001ULL, 0x0000}, /* denormal */
	    {0x8000000000000001ULL, 0x0000}, /* pseudo-denormal */
	    {0x4000000000000000ULL, 0x3fff}, /* unnormal */
	    {0x8000000000000000ULL, 0x3fff}, /* 1 */
	    {0xc000000000000000ULL, 0x3fff}, /* 1.5 */
	    {0xa000000000000000ULL, 0x4000}, /* 2.5 */
	    {0x8000000000000000ULL, 0x403e}, /* 2^63 */
	    {0x8000000000000000ULL, 0xc03e}, /* -2^63 */
	    {0xffffffffffffffffULL, 0x7ffe}, /* max */
	    {0x8000000000000000ULL, 0x0001}, /* min normal */
	    {0xc90fdaa22168c234ULL, 0x4000}, /* ~pi */
	    {0x8000000000000000ULL, 0x400d}, /* 2^14 */
	    {0xffff000000000000ULL, 0x401e}, /* ~2^31 */
	};
	uint64_t x = dr_next(r), m;
	uint16_t se;
	switch (x % 5) {
	case 0:
		m = special[(x >> 8) % (sizeof(special) / sizeof(special[0]))].m;
		se = special[(x >> 8) % (sizeof(special) / sizeof(special[0]))].se;
		break;
	case 1:
		m = dr_next(r);
		se = (uint16_t)(x >> 16);
		break;
	default: /* normal values of moderate size */
		m = dr_next(r) | 0x8000000000000000ULL;
		if (x & 0x100)
			m &= ~0xffffffffULL;
		se = (uint16_t)(((x >> 20) & 1) << 15 | (0x3fff - 40 + (x >> 24) % 100));
		break;
	}
	memcpy(v, &m, 8);
	memcpy(v + 8, &se, 2);
}

static void rnd_mem(uint64_t *r, uint8_t *m, unsigned sz)
{
	uint64_t x = dr_next(r), v;
	switch (sz) {
	case 4:
		if (x & 1) {
			v = rnd_f32(r);
			break;
		}
		/* fall through */
	case 2:
		v = (x & 2) ? (uint64_t)(int64_t)(int16_t)(x >> 16) : dr_next(r);
		if (x & 4)
			v = (uint64_t)(int64_t)((int64_t)(x >> 40) % 1000);
		break;
	case 8:
		v = (x & 1)   ? rnd_f64(r)
		    : (x & 2) ? (uint64_t)(int64_t)(int32_t)(x >> 16)
		              : dr_next(r);
		break;
	default:
		rnd_f80(r, m);
		return;
	}
	memcpy(m, &v, 8);
}

static uint16_t rnd_cw(uint64_t *r)
{
	uint64_t x = dr_next(r);
	static const uint16_t pc[4] = {0x300, 0x300, 0x200, 0};
	uint16_t cw = (uint16_t)(0x40 | pc[x & 3] | ((x >> 2) & 3) << 10 | 0x3f);
	if ((x >> 4) % 4 == 0) /* unmask some of IE, DE, ZE, PE */
		cw &= (uint16_t) ~((x >> 8) & 0x27);
	return cw;
}

/* ---- code ---- */
static void build(struct dcode *c, const struct xop *o, unsigned depth)
{
	c->n = 0;
	DC(c, 0xdb, 0xe3);       /* fninit */
	DC(c, 0xd9, 0x6f, D_CW); /* fldcw */
	static const uint8_t ld[3] = {D_A, D_B, D_C};
	for (unsigned k = 0; k < depth; k++) {
		uint8_t b[3] = {0xdb, 0x6f, ld[k % 3]}; /* fldt */
		dc_put(c, b, 3);
	}
	if (depth)
		DC(c, 0xd9, 0xe5);     /* fxam: condition codes that the operation may keep */
	DC(c, 0xff, 0x77, D_FL, 0x9d); /* push D_FL(%rdi); popfq */
	if (o->mem) {
		uint8_t b[6] = {o->op, (uint8_t)(0x87 | o->modrm), D_MEM, 0, 0, 0}; /* disp32 */
		dc_put(c, b, 6);
	} else {
		uint8_t b[2] = {o->op, o->modrm};
		dc_put(c, b, 2);
	}
	DC(c, 0x9c, 0x59, 0x48, 0x89, 0x4f, D_FLO); /* pushfq; pop %rcx; mov %rcx, FLO */
	DC(c, 0x66, 0x89, 0x47, D_SW);              /* mov %ax, SW (FNSTSW AX result) */
	DC(c, 0x0f, 0xae, 0x87, 0x00, 0x01, 0, 0);  /* fxsave D_FX(%rdi) */
	DC(c, 0xdb, 0xe3, 0xc3);                    /* fninit; ret */
}

/* the parts of two runs' data that must agree */
/* Condition codes the SDM leaves undefined after `o` (compared only where
 * defined: processors differ there, and the emulator keeps them), plus C1
 * after FCOMI/FUCOMI, which the SDM clears and some processors keep. */
static uint16_t undefined_cc(const struct xop *o)
{
	unsigned op = o->op, m = o->modrm, ext = (m >> 3) & 7;
	int arith_op = op == 0xd8 || op == 0xdc || op == 0xda || op == 0xde;
	if (o->mem) {
		if (arith_op)
			return (ext == 2 || ext == 3) ? 0 : 0x4500;
		return (op == 0xd9 && ext >= 4) || (op == 0xdd && ext == 7) ? 0 : 0x4500;
	}
	if ((op == 0xd8 || op == 0xdc) && (ext == 2 || ext == 3))
		return 0; /* FCOM(P) */
	if ((op == 0xde && m == 0xd9) || (op == 0xda && m == 0xe9) || (op == 0xdd && m >= 0xe0))
		return 0; /* FCOMPP, FUCOMPP, FUCOM(P) */
	if ((op == 0xdb || op == 0xdf) && m >= 0xe8 && m < 0xf8)
		return 0x200; /* FCOMI family */
	if (op == 0xd9 && (m == 0xe4 || m == 0xe5 || m == 0xf5 || m == 0xf8))
		return 0; /* FTST, FXAM, FPREM1, FPREM */
	if (op == 0xd9 && (m == 0xf2 || m == 0xfb || m == 0xfe || m == 0xff))
		return 0x4100; /* C2 is the range flag */
	if ((op == 0xdf && m == 0xe0) || (op == 0xdb && m == 0xe2))
		return 0; /* FNSTSW AX, FNCLEX */
	if (((op == 0xdd || op == 0xdf) && m < 0xc8) || (op == 0xd9 && m == 0xd0))
		return 0x4700; /* FFREE(P), FNOP: all four undefined */
	return 0x4500;
}

static void normalize(uint8_t *d, const struct xop *o)
{
	uint16_t cc = undefined_cc(o);
	const uint8_t *st0 = d + D_FX + 32;
	int nan = (st0[9] & 0x7f) == 0x7f && st0[8] == 0xff;
	/* FPREM/FPREM1 with no remainder (NaN, invalid, unmasked exception):
	 * the quotient bits are not defined */
	if (o->op == 0xd9 && (o->modrm == 0xf5 || o->modrm == 0xf8) &&
	    (nan || (d[D_FX + 2] & 0x81)))
		cc |= 0x4300;
	d[D_FX + 2] &= (uint8_t)~cc;
	d[D_FX + 3] &= (uint8_t) ~(cc >> 8);
	uint64_t fl;
	memcpy(&fl, d + D_FLO, 8);
	fl &= 0x8d5;
	memcpy(d + D_FLO, &fl, 8);
	if (!(o->op == 0xdf && o->modrm == 0xe0))
		memset(d + D_SW, 0, 2); /* AX is only defined for FNSTSW AX */
	if (o->mem)
		memset(d + D_MEM + o->cmpsz, 0, 0x80 - o->cmpsz);
	uint8_t *fx = d + D_FX;
	uint8_t tag = fx[4];
	/* FXAM of an empty register: C1 is the sign bit of whatever it holds */
	if (o->op == 0xd9 && o->modrm == 0xe5 && (fx[3] & 0x45) == 0x41)
		fx[3] &= (uint8_t)~0x02;
	unsigned top = (fx[2] | fx[3] << 8) >> 11 & 7;
	memset(fx + 6, 0, 26); /* FOP, FIP, FDP, MXCSR: not compared */
	for (unsigned i = 0; i < 8; i++) {
		if (!((tag >> ((top + i) & 7)) & 1))
			memset(fx + 32 + 16 * i, 0, 16); /* an empty register's bits */
		memset(fx + 32 + 16 * i + 10, 0, 6);
	}
	memset(fx + 160, 0, 512 - 160);
}

static void hexd(const char *what, const uint8_t *p, unsigned n)
{
	char line[3 * 64 + 1];
	unsigned k = 0;
	for (unsigned j = 0; j < n && k < 64; j++, k++)
		sprintf(line + 3 * k, "%02x ", p[j]);
	print_error("%s %s\n", what, line);
}

static unsigned diff_x87(unsigned rounds, uint64_t seed)
{
	uint8_t *page = dn_page();
	if (!page)
		skip();
	struct tmach t;
	tm_init(&t);
	uint64_t r = seed;
	unsigned runs = 0;
	static uint8_t in[D_SIZE] __attribute__((aligned(64)));
	static uint8_t nat[D_SIZE] __attribute__((aligned(64)));
	static uint8_t emu[D_SIZE];
	static const unsigned depths[] = {0, 1, 2, 3, 3, 3, 8};
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		const struct xop *o = &ops[k];
		for (unsigned j = 0; j < rounds; j++) {
			unsigned depth = depths[dr_next(&r) % 7];
			struct dcode c;
			build(&c, o, depth);
			memset(in, 0, D_SIZE);
			rnd_f80(&r, in + D_A);
			rnd_f80(&r, in + D_B);
			rnd_f80(&r, in + D_C);
			uint16_t cw = rnd_cw(&r);
			memcpy(in + D_CW, &cw, 2);
			uint64_t fl = 0x202 | (dr_next(&r) & 0x8d5);
			memcpy(in + D_FL, &fl, 8);
			if (o->mem)
				rnd_mem(&r, in + D_MEM, o->mem);
			memcpy(nat, in, D_SIZE);
			memcpy(emu, in, D_SIZE);
			dn_run(page, &c, nat);
			de_run(&t, &c, emu, D_SIZE);
			normalize(nat, o);
			normalize(emu, o);
			if (memcmp(nat, emu, D_SIZE) != 0) {
				hexd("in  ", in, 0x40);
				hexd("mem ", in + D_MEM, 16);
				for (unsigned q = 0; q < D_SIZE; q += 16)
					if (memcmp(nat + q, emu + q, 16)) {
						print_error("offset %#x\n", q);
						hexd("host", nat + q, 16);
						hexd("emu ", emu + q, 16);
					}
				fail_msg("%s: depth %u, cw %#x", o->name, depth, cw);
			}
			runs++;
		}
	}
	tm_fini(&t);
	munmap(page, 4096);
	return runs;
}

static void test_x87_diff(void **st)
{
	(void)st;
	unsigned n = diff_x87(300, 0x87);
	print_message("%u runs\n", n);
	assert_true(n > 30000);
}

/* FNSAVE/FRSTOR and FNSTENV/FLDENV (32- and 16-bit forms) with random
 * stacks: the saved image (control, status, full tag word, the non-empty
 * registers) and the state after restoring match the host's */
static void test_x87_save(void **st)
{
	(void)st;
	uint8_t *page = dn_page();
	if (!page)
		skip();
	struct tmach t;
	tm_init(&t);
	uint64_t r = 0x5a5e;
	static uint8_t in[D_SIZE] __attribute__((aligned(64)));
	static uint8_t nat[D_SIZE] __attribute__((aligned(64)));
	static uint8_t emu[D_SIZE];
	static const struct xop none = {"save", 0xd9, 0xd0, 0, 0};
	unsigned runs = 0;
	for (unsigned j = 0; j < 3000; j++) {
		unsigned depth = (unsigned)(dr_next(&r) % 9), o16 = j & 1, env = (j >> 1) & 1;
		struct dcode c = {.n = 0};
		DC(&c, 0xdb, 0xe3, 0xd9, 0x6f, D_CW);
		static const uint8_t ld[3] = {D_A, D_B, D_C};
		for (unsigned k = 0; k < depth; k++) {
			uint8_t b[3] = {0xdb, 0x6f, ld[k % 3]};
			dc_put(&c, b, 3);
		}
		if (j & 4)
			DC(&c, 0xd9, 0xf6); /* fdecstp: TOP moves, tags stay */
		if (j & 8)
			DC(&c, 0xdd, 0xc1); /* ffree st(1) */
		/* fnsave / fnstenv D_MEM(%rdi); fld1; fldpi; frstor / fldenv D_MEM(%rdi) */
		uint8_t sv[4] = {0x66, env ? 0xd9 : 0xdd, env ? 0x77 : 0x77, 0x80};
		uint8_t rs[4] = {0x66, env ? 0xd9 : 0xdd, env ? 0x67 : 0x67, 0x80};
		dc_put(&c, sv + !o16, 4 - !o16);
		DC(&c, 0xd9, 0xe8, 0xd9, 0xeb);
		dc_put(&c, rs + !o16, 4 - !o16);
		DC(&c, 0x0f, 0xae, 0x87, 0x00, 0x01, 0, 0, 0xdb, 0xe3, 0xc3);
		memset(in, 0, D_SIZE);
		rnd_f80(&r, in + D_A);
		rnd_f80(&r, in + D_B);
		rnd_f80(&r, in + D_C);
		uint16_t cw = (uint16_t)(rnd_cw(&r) | 0x3f);
		memcpy(in + D_CW, &cw, 2);
		memcpy(nat, in, D_SIZE);
		memcpy(emu, in, D_SIZE);
		dn_run(page, &c, nat);
		de_run(&t, &c, emu, D_SIZE);
		unsigned hdr = o16 ? 6 : 12, regs = o16 ? 14 : 28;
		uint16_t tw;
		memcpy(&tw, nat + D_MEM + (o16 ? 4 : 8), 2);
		assert_memory_equal(nat + D_MEM, emu + D_MEM, hdr);
		unsigned top = (nat[D_MEM + (o16 ? 3 : 5)] >> 3) & 7;
		for (unsigned i = 0; i < 8 && !env; i++)
			if (((tw >> (2 * ((top + i) & 7))) & 3) != 3)
				assert_memory_equal(nat + D_MEM + regs + 10 * i,
				                    emu + D_MEM + regs + 10 * i, 10);
		normalize(nat, &none);
		normalize(emu, &none);
		if (memcmp(nat + D_FX, emu + D_FX, 160))
			print_error("run %u: depth %u, o16 %u, env %u\n", j, depth, o16, env);
		memset(nat + D_MEM, 0, 0x80);
		memset(emu + D_MEM, 0, 0x80);
		assert_memory_equal(nat, emu, D_SIZE);
		runs++;
	}
	print_message("%u runs\n", runs);
	tm_fini(&t);
	munmap(page, 4096);
}

static uint16_t fx_sw(const struct x86_vcpu_state *s)
{
	return (uint16_t)(s->fx.bytes[2] | s->fx.bytes[3] << 8);
}

/* #MF from a pending unmasked exception at the next waiting instruction,
 * #NM with CR0.TS (and FWAIT only with CR0.MP too), CR0.EM */
static void test_x87_exceptions(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	uint16_t cw = 0x37b; /* ZE unmasked */
	memcpy(t.ram + TM_DATA, &cw, 2);
	struct dcode c = {.n = 0};
	DC(&c, 0xd9, 0x2f);                   /* fldcw (%rdi) */
	DC(&c, 0xd9, 0xee, 0xd9, 0xe8);       /* fldz; fld1 */
	DC(&c, 0xd8, 0xf1);                   /* fdiv %st(1), %st: 1/0 */
	DC(&c, 0x49, 0xc7, 0xc7, 1, 0, 0, 0); /* mov $1, %r15 */
	DC(&c, 0x9b);                         /* fwait */
	DC(&c, 0x49, 0xc7, 0xc7, 0, 0, 0, 0, 0xf4);
	struct x86_vcpu_state s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], 16);
	/* ZE, ES and B set, TOP 6; ST0 still 1.0 */
	assert_int_equal(fx_sw(&s), 0x8000 | 0x80 | 0x4 | 6 << 11);
	static const uint8_t one[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f};
	assert_memory_equal(&s.fx.bytes[32], one, 10);
	/* masked: the result is +inf, no exception */
	cw = 0x37f;
	memcpy(t.ram + TM_DATA, &cw, 2);
	s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], 0);
	static const uint8_t inf[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x7f};
	assert_memory_equal(&s.fx.bytes[32], inf, 10);
	/* CR0.TS: the first x87 instruction raises #NM */
	s = run_exc(&t, &c, 0, 8);
	assert_int_equal(s.gpr[X86_R15], 7);
	/* CR0.EM: #NM too */
	s = run_exc(&t, &c, 0, 4);
	assert_int_equal(s.gpr[X86_R15], 7);
	/* FWAIT with CR0.TS: #NM only if CR0.MP (set by the harness) */
	c.n = 0;
	DC(&c, 0x9b, 0x49, 0xc7, 0xc7, 0, 0, 0, 0, 0xf4);
	s = run_exc(&t, &c, 0, 8);
	assert_int_equal(s.gpr[X86_R15], 7);
	tm_fini(&t);
}

/* FXSAVE/FXRSTOR round trip; FXSAVE leaves bytes 416-511 alone; FXRSTOR
 * checks alignment and MXCSR */
static void test_fxsave(void **st)
{
	(void)st;
	struct tmach t;
	tm_init(&t);
	struct dcode c = {.n = 0};
	DC(&c, 0xd9, 0xeb, 0xd9, 0xe8);             /* fldpi; fld1 */
	DC(&c, 0x66, 0x0f, 0x76, 0xc0);             /* pcmpeqd %xmm0, %xmm0 */
	DC(&c, 0x66, 0x41, 0x0f, 0x6e, 0xf8);       /* movd %r8d, %xmm7 */
	DC(&c, 0x48, 0x0f, 0xae, 0x07);             /* fxsaveq (%rdi) */
	DC(&c, 0xdb, 0xe3, 0x66, 0x0f, 0xef, 0xc0); /* fninit; pxor %xmm0, %xmm0 */
	DC(&c, 0x66, 0x0f, 0xef, 0xff);             /* pxor %xmm7, %xmm7 */
	DC(&c, 0x48, 0x0f, 0xae, 0x0f);             /* fxrstorq (%rdi) */
	DC(&c, 0x49, 0xc7, 0xc7, 0, 0, 0, 0, 0xf4);
	memset(t.ram + TM_DATA, 0xa5, 512);
	struct x86_vcpu_state s0 = tm_state(&t);
	(void)s0;
	struct x86_vcpu_state s;
	tm_load(&t, TM_CODE, c.b, c.b + c.n);
	tm_long_mode(&t, TM_CODE);
	s = tm_state(&t);
	s.gpr[X86_RDI] = TM_DATA;
	s.gpr[X86_R8] = 0x12345678;
	struct err e;
	assert_int_equal(emu_cpu_set_state(t.cpu, &s, &e), 0);
	s = tm_run_halt(&t);
	assert_int_equal(s.gpr[X86_R15], 0);
	static const uint8_t one[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f};
	assert_memory_equal(&s.fx.bytes[32], one, 10);
	assert_int_equal(fx_sw(&s) >> 11 & 7, 6);
	assert_int_equal(s.fx.bytes[4], 0xc0);
	uint32_t x0, x7;
	memcpy(&x0, &s.fx.bytes[160], 4);
	memcpy(&x7, &s.fx.bytes[160 + 7 * 16], 4);
	assert_int_equal(x0, 0xffffffffu);
	assert_int_equal(x7, 0x12345678u);
	/* the image: MXCSR_MASK 0xffff, the available bytes untouched */
	uint32_t mm;
	memcpy(&mm, t.ram + TM_DATA + 28, 4);
	assert_int_equal(mm, 0xffff);
	assert_int_equal(t.ram[TM_DATA + 416], 0xa5);
	assert_int_equal(t.ram[TM_DATA + 511], 0xa5);
	/* FXRSTOR with a reserved MXCSR bit, and from a misaligned address: #GP */
	c.n = 0;
	DC(&c, 0x48, 0x0f, 0xae, 0x0f, 0xf4);
	uint32_t bad = 0x10000;
	memcpy(t.ram + TM_DATA + 24, &bad, 4);
	s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], 13);
	c.n = 0;
	DC(&c, 0x48, 0x0f, 0xae, 0x4f, 8, 0xf4); /* fxrstorq 8(%rdi) */
	s = run_exc(&t, &c, 0, 0);
	assert_int_equal(s.gpr[X86_R15], 13);
	tm_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_x87_diff),
	    cmocka_unit_test(test_x87_save),
	    cmocka_unit_test(test_x87_exceptions),
	    cmocka_unit_test(test_fxsave),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
