#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# wasm compile throughput and start-up, capsa's engines against node (V8).
#   bench/wasm/compile.sh [RUNS]     medians of RUNS (default 11)
# Modules: a large random module from binaryen (wasm-opt -ttf of 1,000,000
# bytes of a fixed xorshift stream; wasm 2.0 with SIMD, bulk memory,
# multi-value) and the benchmark's kernel programs (clang -O2, wasm32-wasi).
# Compile: the median time to load (decode + validate) and instantiate the
# module in capsa (build/wasm/compile_time; the JIT compiles a function on
# its first call; also the time of one call of every export with one unit
# of fuel, in which the JIT compiles each export and the interpreter makes
# its code of each function called), and of the JIT made to compile every
# function at instantiation (jit-eager: the compiler's own speed); and of
# `new WebAssembly.Module()` in node: as node ships (lazy: functions are
# validated now and compiled on first call) and with Liftoff alone
# compiling every function at once (--liftoff-only
# --no-wasm-lazy-compilation); throughput is code-section bytes per second
# of that. Start-up: wall time from exec to exit of a hello-world program
# (tests/wasm/progs/hello.c). An engine this host lacks shows "n/a".
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-11}
out=$root/build/bench-wasm
capsa=$root/build/capsa
probe=$root/build/wasm/compile_time
mkdir -p "$out"
if ! log=$(make -C "$root" --no-print-directory build/capsa build/wasm/compile_time 2>&1); then
	echo "$log" >&2
	exit 1
fi
wasi_cc=(clang --target=wasm32-wasi --sysroot=/usr -O2)

# The inputs, rebuilt each time from sources and fixed seeds.
node -e 'const n = +process.argv[1], b = Buffer.alloc(n); let s = 2463534242;
for (let i = 0; i < n; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; b[i] = s & 255; }
process.stdout.write(b);' 1000000 >"$out/ttf-large.dat"
wasm-opt -ttf "$out/ttf-large.dat" -o "$out/ttf-large.wasm" --enable-sign-ext \
	--enable-mutable-globals --enable-nontrapping-float-to-int --enable-simd \
	--enable-bulk-memory --enable-multivalue 2>/dev/null
"${wasi_cc[@]}" "$root/bench/wasm/kernels.c" -o "$out/kernels.wasm"
"${wasi_cc[@]}" "$root/bench/wasm/kernels2.c" -o "$out/kernels2.wasm" -lm
"${wasi_cc[@]}" "$root/tests/wasm/progs/hello.c" -o "$out/hello.wasm"
clang -O2 "$root/tests/wasm/progs/hello.c" -o "$out/hello.native"

field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }
mbs() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.1f", b / s / 1e6}'; }
ms() { awk -v s="$1" 'BEGIN {printf "%.1f", s * 1000}'; }

# capsa ENGINE MODULE: "load+instantiate s | first calls s | MB/s" or n/a.
capsa_cell() {
	local r
	if ! r=$("$probe" "$1" "$2" "$runs" 2>&1); then
		echo "n/a | n/a | n/a"
		return
	fi
	local code li fc
	code=$(field code_bytes <<<"$r")
	li=$(awk -v a="$(field load <<<"$r")" -v b="$(field instantiate <<<"$r")" \
		'BEGIN {printf "%.4f", a + b}')
	fc=$(field first_calls <<<"$r")
	echo "$(ms "$li") | $(ms "$fc") | $(mbs "$code" "$li")"
}
node_cell() {
	local mod=$1 code=$2 t
	shift 2
	t=$(node "$@" "$root/bench/wasm/node_compile.mjs" "$mod" "$runs" | field compile)
	echo "$(ms "$t") | $(mbs "$code" "$t")"
}

echo "Command: bench/wasm/compile.sh $runs, $(date -u +%Y-%m-%d)"
echo
echo "Compile (ms, median of $runs; MB/s of code section):"
echo
echo "| module | code bytes | capsa jit ms | jit first calls ms | jit MB/s | jit eager ms | jit eager first calls ms | jit eager MB/s | capsa interp ms | interp first calls ms | interp MB/s | node (lazy) ms | node MB/s | liftoff eager ms | liftoff MB/s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for m in ttf-large kernels kernels2; do
	mod=$out/$m.wasm
	code=$("$capsa" wasm inspect "$mod" | awk '$1 == "code" {print $NF}')
	echo "| $m | $code | $(capsa_cell jit "$mod") | $(capsa_cell jit-eager "$mod") |" \
		"$(capsa_cell interp "$mod") |" \
		"$(node_cell "$mod" "$code") |" \
		"$(node_cell "$mod" "$code" --liftoff-only --no-wasm-lazy-compilation) |"
done

# Start-up: exec to exit, wall clock, alternating between the engines.
wall() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || return 1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
hello=$out/hello.wasm
jit_ok=1
"$capsa" wasm run --engine jit "$hello" >/dev/null 2>&1 || jit_ok=0
declare -a tn tj ti tv tl
for ((i = 0; i < runs; i++)); do
	tn+=("$(wall "$out/hello.native")")
	[ "$jit_ok" = 1 ] && tj+=("$(wall "$capsa" wasm run --engine jit "$hello")")
	ti+=("$(wall "$capsa" wasm run --engine interp "$hello")")
	tv+=("$(wall node --no-warnings "$root/bench/wasm/node_wasi.mjs" "$hello")")
	tl+=("$(wall node --no-warnings --liftoff-only \
		"$root/bench/wasm/node_wasi.mjs" "$hello")")
done
med_ms() { printf '%s\n' "$@" | median | awk '{printf "%.1f", $1 / 1000}'; }
jit_ms=n/a
[ "$jit_ok" = 1 ] && jit_ms=$(med_ms "${tj[@]}")
echo
echo "Start-up of hello.wasm (ms from exec to exit, median of $runs):"
echo
echo "| native | capsa jit | capsa interp | node | node liftoff |"
echo "|---|---|---|---|---|"
echo "| $(med_ms "${tn[@]}") | $jit_ms | $(med_ms "${ti[@]}") | $(med_ms "${tv[@]}") | $(med_ms "${tl[@]}") |"
