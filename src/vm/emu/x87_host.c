/* SPDX-License-Identifier: Apache-2.0 */
/* The host x87 kernels: each loads the guest's ST1 and ST0 (80-bit, which
 * raises nothing), runs one instruction under the given control word and
 * returns the status word it produced; the register stack is stored back
 * and the host's x87 unit is reset and given its own control word again. */
#include "vm/emu/x87_impl.h"

const uint8_t x87_indefinite[10] = {0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff};

#define XK(name, body)                                                                             \
	static uint16_t name(struct x87k *k)                                                       \
	{                                                                                          \
		uint16_t sv, sw;                                                                   \
		__asm__ volatile("fnstcw %[sv]\n\tfninit\n\tfldcw %[cw]\n\t"                       \
		                 "fldt %[r1]\n\tfldt %[r0]\n\t" body "\n\t"                        \
		                 "fnstsw %[sw]\n\tfstpt %[r0]\n\tfstpt %[r1]\n\t"                  \
		                 "fninit\n\tfldcw %[sv]"                                           \
		                 : [sv] "=m"(sv), [sw] "=m"(sw), [r0] "+m"(k->r0),                 \
		                   [r1] "+m"(k->r1), [m] "+m"(k->m)                                \
		                 : [cw] "m"(k->cw)                                                 \
		                 : "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)",     \
		                   "st(7)");                                                       \
		return sw;                                                                         \
	}

/* register forms with ST(1): D8 (ST0 op= ST1), DC (ST1 op= ST0), DE (DC and pop) */
#define XREG(op, n) XK(k_reg_##op##_##n, ".byte 0x" #op ", 0x" #n)
#define XREG8(op, a, b, c, d, e, f, g, h)                                                          \
	XREG(op, a)                                                                                \
	XREG(op, b) XREG(op, c) XREG(op, d) XREG(op, e) XREG(op, f) XREG(op, g) XREG(op, h)
XREG8(d8, c1, c9, d1, d9, e1, e9, f1, f9)
XREG8(dc, c1, c9, d1, d9, e1, e9, f1, f9)
XREG8(de, c1, c9, d1, d9, e1, e9, f1, f9)
#define XREGT(op)                                                                                  \
	{                                                                                          \
		k_reg_##op##_c1, k_reg_##op##_c9, k_reg_##op##_d1, k_reg_##op##_d9,                \
		    k_reg_##op##_e1, k_reg_##op##_e9, k_reg_##op##_f1, k_reg_##op##_f9             \
	}
const x87_kfn x87_k_reg[3][8] = {XREGT(d8), XREGT(dc), XREGT(de)};

/* memory forms: ST0 op= m */
#define XMEM(name, mn) XK(k_##name, mn " %[m]")
#define XMEM8(t, s)                                                                                \
	XMEM(add##t, "fadd" s)                                                                     \
	XMEM(mul##t, "fmul" s)                                                                     \
	XMEM(com##t, "fcom" s)                                                                     \
	XMEM(comp##t, "fcomp" s)                                                                   \
	XMEM(sub##t, "fsub" s)                                                                     \
	XMEM(subr##t, "fsubr" s) XMEM(div##t, "fdiv" s) XMEM(divr##t, "fdivr" s)
XMEM8(f32, "s")
XMEM8(f64, "l")
XMEM(addi32, "fiaddl")
XMEM(muli32, "fimull")
XMEM(comi32, "ficoml")
XMEM(compi32, "ficompl")
XMEM(subi32, "fisubl")
XMEM(subri32, "fisubrl")
XMEM(divi32, "fidivl")
XMEM(divri32, "fidivrl")
XMEM(addi16, "fiadds")
XMEM(muli16, "fimuls")
XMEM(comi16, "ficoms")
XMEM(compi16, "ficomps")
XMEM(subi16, "fisubs")
XMEM(subri16, "fisubrs")
XMEM(divi16, "fidivs")
XMEM(divri16, "fidivrs")
#define XMEMT(t)                                                                                   \
	{                                                                                          \
		k_add##t, k_mul##t, k_com##t, k_comp##t, k_sub##t, k_subr##t, k_div##t, k_divr##t  \
	}
const x87_kfn x87_k_mem[4][8] = {XMEMT(f32), XMEMT(f64), XMEMT(i32), XMEMT(i16)};

/* D9 E0..FF (the entries for FDECSTP/FINCSTP are not used) */
#define XD9(n)                        XK(k_d9_##n, ".byte 0xd9, 0x" #n)
#define XD9_8(a, b, c, d, e, f, g, h) XD9(a) XD9(b) XD9(c) XD9(d) XD9(e) XD9(f) XD9(g) XD9(h)
XD9_8(e0, e1, e2, e3, e4, e5, e6, e7)
XD9_8(e8, e9, ea, eb, ec, ed, ee, ef)
XD9_8(f0, f1, f2, f3, f4, f5, f6, f7)
XD9_8(f8, f9, fa, fb, fc, fd, fe, ff)
#define XD9T(a, b, c, d, e, f, g, h)                                                               \
	k_d9_##a, k_d9_##b, k_d9_##c, k_d9_##d, k_d9_##e, k_d9_##f, k_d9_##g, k_d9_##h
const x87_kfn x87_k_d9[32] = {
    XD9T(e0, e1, e2, e3, e4, e5, e6, e7),
    XD9T(e8, e9, ea, eb, ec, ed, ee, ef),
    XD9T(f0, f1, f2, f3, f4, f5, f6, f7),
    XD9T(f8, f9, fa, fb, fc, fd, fe, ff),
};

/* FCOM ST(1) / FUCOM ST(1): condition codes for FCOM(P)(P), FUCOM(P)(P),
 * FCOMI(P) and FUCOMI(P) */
XK(k_fcom1, ".byte 0xd8, 0xd1")
XK(k_fucom1, ".byte 0xdd, 0xe1")
const x87_kfn x87_k_fcom = k_fcom1, x87_k_fucom = k_fucom1;

XK(k_ld_f32, "flds %[m]")
XK(k_ld_f64, "fldl %[m]")
XK(k_ld_i16, "filds %[m]")
XK(k_ld_i32, "fildl %[m]")
XK(k_ld_i64, "fildll %[m]")
XK(k_ld_bcd, "fbld %[m]")
const x87_kfn x87_k_ld[X87_NLD] = {k_ld_f32, k_ld_f64, k_ld_i16, k_ld_i32, k_ld_i64, k_ld_bcd};

XK(k_st_f32, "fsts %[m]")
XK(k_st_f64, "fstl %[m]")
XK(k_st_i16, "fists %[m]")
XK(k_st_i32, "fistl %[m]")
XK(k_st_i64, "fld %%st(0)\n\tfistpll %[m]")
XK(k_st_t16, "fld %%st(0)\n\tfisttps %[m]")
XK(k_st_t32, "fld %%st(0)\n\tfisttpl %[m]")
XK(k_st_t64, "fld %%st(0)\n\tfisttpll %[m]")
XK(k_st_bcd, "fld %%st(0)\n\tfbstp %[m]")
const x87_kfn x87_k_st[X87_NST] = {k_st_f32, k_st_f64, k_st_i16, k_st_i32, k_st_i64,
                                   k_st_t16, k_st_t32, k_st_t64, k_st_bcd};
