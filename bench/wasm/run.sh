#!/usr/bin/env bash
# wasm benchmark: compute kernels compiled with the same clang -O2 natively
# and to wasm32-wasi, run natively, by capsa's JIT (build/capsa wasm run
# --engine jit) and interpreter (--engine interp), by node (V8: its default
# tiers, and its baseline compiler Liftoff alone: --liftoff-only; node 20's
# V8 still tiers up to TurboFan with --liftoff --no-wasm-tier-up, through
# dynamic tiering) and by wabt's wasm-interp (which cannot run WASI, so it
# runs a variant exporting `run`).
# Two kernel sets: bench/wasm/kernels.c, on which the engines are tuned,
# and the held-out bench/wasm/kernels2.c, on which they are not; each gets
# its own table. Every run's output is checked against the native checksum.
# Prints markdown tables of medians (CPU seconds, user + system), ratios to
# native and their geometric means. An engine this host lacks shows "n/a".
#   bench/wasm/run.sh [RUNS]        default 5 runs per engine and kernel
#   WASM_BENCH_SET=tuned|heldout    one kernel set (default both)
#   WASM_BENCH_FACTOR=F             scale the work (default 10)
#   WASM_BENCH_WABT_FACTOR=F        smaller scale for wasm-interp (default 4); its
#                                   ratio is to the native time scaled to that work
#   WASM_BENCH_KERNELS="mix fib"    subset of kernels (of either set)
#   WASM_BENCH_NO_WABT=1            leave out wasm-interp (slow)
#   WASM_BENCH_WABT_RUNS=N          runs for wasm-interp (default 3)
#   WASM_BENCH_SIMD=1               build the wasm with -msimd128 (clang then
#                                   autovectorizes to wasm SIMD, as it does to
#                                   SSE2 natively)
#   WASM_BENCH_CHECKS=1             instead: the cost of --fuel and --timeout
#                                   in the JIT, each kernel run alternately
#                                   plain, with --fuel (a budget it never
#                                   exhausts) and with --timeout (one that
#                                   never expires); costs are to the plain run
#   WASM_BENCH_CAPSA=PATH           the capsa binary to run (default build/capsa)
#   WASM_BENCH_BASE=PATH            with WASM_BENCH_CHECKS: also another capsa
#                                   binary the same three ways (e.g. an older
#                                   build), its costs to this one's plain run
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
factor=${WASM_BENCH_FACTOR:-10}
wfactor=${WASM_BENCH_WABT_FACTOR:-4}
out=$root/build/bench-wasm
capsa=${WASM_BENCH_CAPSA:-$root/build/capsa}
mkdir -p "$out"
[ -x "$capsa" ] || make -C "$root" build/capsa >/dev/null
wasi_cc=(clang --target=wasm32-wasi --sysroot=/usr -O2)
simd_note=""
if [ -n "${WASM_BENCH_SIMD:-}" ]; then
	wasi_cc+=(-msimd128)
	simd_note="; WASM_BENCH_SIMD=1: wasm built with -msimd128"
fi
declare -A set_kernels=([tuned]="matmul crc32 sieve fib sort mix"
	[heldout]="nbody hashtab strsearch json lz bigmul")
declare -A set_src=([tuned]=kernels [heldout]=kernels2)
declare -A set_title=([tuned]="Tuned set (bench/wasm/kernels.c)"
	[heldout]="Held-out set (bench/wasm/kernels2.c)")
sets=${WASM_BENCH_SET:-tuned heldout}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# time_cmd EXPECTED CMD...: CPU seconds (user + system) of one run, which
# the other builds sharing the machine disturb far less than wall time;
# checks the output.
time_cmd() {
	local want=$1
	shift
	local tf outp
	tf=$(mktemp)
	outp=$(/usr/bin/time -f "%U %S" -o "$tf" "$@" 2>&1)
	if ! grep -q -- "$want" <<<"$outp"; then
		echo "bench: unexpected output from $*: $outp" >&2
		rm -f "$tf"
		exit 1
	fi
	awk '{printf "%.3f\n", $1 + $2}' "$tf"
	rm -f "$tf"
}
med_n() {
	local n=$1 want=$2
	shift 2
	for ((i = 0; i < n; i++)); do time_cmd "$want" "$@"; done | median
}
ratio() {
	case "$1$2" in *n/a* | *-*) echo "n/a" ;; *) awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}' ;; esac
}
# geomean VALUES...: geometric mean, "n/a" if any value is.
geomean() {
	case " $* " in *" n/a "* | *" - "*) echo "n/a" && return ;; esac
	printf '%s\n' "$@" | awk '{s += log($1); n++} END {printf "%.2f", exp(s / n)}'
}

# checks_table SET: WASM_BENCH_CHECKS=1's table for one kernel set.
checks_table() {
	local set=$1 src bin base=${WASM_BENCH_BASE:-}
	src=$root/bench/wasm/${set_src[$set]}.c
	bin=$out/${set_src[$set]}
	"${wasi_cc[@]}" "$src" -o "$bin.wasm" -lm
	clang -O2 "$src" -o "$bin.native" -lm
	local -a how=("" "--fuel 1000000000000000" "--timeout 1000000")
	local -a bins=("$capsa")
	[ -n "$base" ] && bins+=("$base")
	echo
	echo "${set_title[$set]}, capsa jit CPU seconds (median of $runs), cost against the plain run of $capsa:"
	echo
	local head="| kernel | plain s | --fuel s | --timeout s | --fuel cost | --timeout cost |"
	local rule="|---|---|---|---|---|---|"
	if [ -n "$base" ]; then
		head+=" base plain s | base --fuel s | base --timeout s | base plain cost | base --fuel cost | base --timeout cost |"
		rule+="---|---|---|---|---|---|"
	fi
	echo "$head"
	echo "$rule"
	for k in ${WASM_BENCH_KERNELS:-${set_kernels[$set]}}; do
		case " ${set_kernels[$set]} " in *" $k "*) ;; *) continue ;; esac
		local expect
		expect=$("$bin.native" "$k" "$factor")
		local -A t=()
		for ((i = 0; i < runs; i++)); do
			for b in "${!bins[@]}"; do
				for h in "${!how[@]}"; do
					# shellcheck disable=SC2086 # the flags split into words
					t[$b.$h]+="$(time_cmd "$expect" "${bins[$b]}" wasm run --engine jit \
						${how[$h]} "$bin.wasm" "$k" "$factor") "
				done
			done
		done
		local row="| $k" plain="" m
		for b in "${!bins[@]}"; do
			local -a med=()
			for h in "${!how[@]}"; do
				m=$(printf '%s\n' ${t[$b.$h]} | median)
				med+=("$m")
				[ -z "$plain" ] && plain=$m
			done
			row+=" | ${med[0]} | ${med[1]} | ${med[2]}"
			[ "$b" = 0 ] && med=("${med[1]}" "${med[2]}")
			for m in "${med[@]}"; do
				row+=" | $(awk -v a="$m" -v b="$plain" 'BEGIN {printf "%+.1f %%", 100 * (a / b - 1)}')"
			done
		done
		echo "$row |"
	done
}

if [ -n "${WASM_BENCH_CHECKS:-}" ]; then
	echo "Command: WASM_BENCH_CHECKS=1 bench/wasm/run.sh $runs (WASM_BENCH_FACTOR=$factor), $(date -u +%Y-%m-%d)"
	for set in $sets; do checks_table "$set"; done
	exit 0
fi

jit_ok=0
echo "Command: bench/wasm/run.sh $runs (WASM_BENCH_FACTOR=$factor; wasm-interp: factor $wfactor, ${WASM_BENCH_WABT_RUNS:-3} runs$simd_note), $(date -u +%Y-%m-%d)"
for set in $sets; do
	src=$root/bench/wasm/${set_src[$set]}.c
	bin=$out/${set_src[$set]}
	clang -O2 "$src" -o "$bin.native" -lm
	"${wasi_cc[@]}" "$src" -o "$bin.wasm" -lm
	first=${set_kernels[$set]%% *}
	"$capsa" wasm run --engine jit "$bin.wasm" "$first" 0.001 >/dev/null 2>&1 && jit_ok=1
	echo
	echo "${set_title[$set]}:"
	echo
	echo "| kernel | native s | capsa jit s | capsa interp s | node s | liftoff s | wasm-interp s (factor $wfactor) | jit/native | interp/native | node/native | liftoff/native | wasm-interp/native |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	rj=() ri=() rv=() rl=() rw=()
	for k in ${WASM_BENCH_KERNELS:-${set_kernels[$set]}}; do
		case " ${set_kernels[$set]} " in *" $k "*) ;; *) continue ;; esac
		expect=$("$bin.native" "$k" "$factor")
		# Runs alternate between the engines, so that a change in the load
		# the other builds put on the machine hits all of them alike.
		ns=() js=() cs=() vs=() ls=()
		for ((i = 0; i < runs; i++)); do
			ns+=("$(time_cmd "$expect" "$bin.native" "$k" "$factor")")
			if [ "$jit_ok" = 1 ]; then
				js+=("$(time_cmd "$expect" "$capsa" wasm run --engine jit "$bin.wasm" "$k" "$factor")")
			fi
			cs+=("$(time_cmd "$expect" "$capsa" wasm run --engine interp "$bin.wasm" "$k" "$factor")")
			vs+=("$(time_cmd "$expect" node --no-warnings "$root/bench/wasm/node_wasi.mjs" \
				"$bin.wasm" "$k" "$factor")")
			ls+=("$(time_cmd "$expect" node --no-warnings --liftoff-only \
				"$root/bench/wasm/node_wasi.mjs" "$bin.wasm" "$k" "$factor")")
		done
		n=$(printf '%s\n' "${ns[@]}" | median)
		j=n/a
		[ "$jit_ok" = 1 ] && j=$(printf '%s\n' "${js[@]}" | median)
		c=$(printf '%s\n' "${cs[@]}" | median)
		v=$(printf '%s\n' "${vs[@]}" | median)
		l=$(printf '%s\n' "${ls[@]}" | median)
		if [ -z "${WASM_BENCH_NO_WABT:-}" ]; then
			"${wasi_cc[@]}" -DBARE_KERNEL="$k" -DBARE_FACTOR="$wfactor" -nostartfiles \
				-Wl,--no-entry "$src" -o "$out/bare_$k.wasm"
			w=$(med_n "${WASM_BENCH_WABT_RUNS:-3}" "run() => i32:" wasm-interp "$out/bare_$k.wasm" --run-all-exports)
			# native time at wasm-interp's scale: the kernels' work is linear in it
			nw=$(awk -v n="$n" -v a="$wfactor" -v b="$factor" 'BEGIN {print n * a / b}')
			wr=$(ratio "$w" "$nw")
		else
			w=-
			wr=-
		fi
		rj+=("$(ratio "$j" "$n")") ri+=("$(ratio "$c" "$n")") rv+=("$(ratio "$v" "$n")")
		rl+=("$(ratio "$l" "$n")") rw+=("$wr")
		echo "| $k | $n | $j | $c | $v | $l | $w | ${rj[-1]} | ${ri[-1]} | ${rv[-1]} | ${rl[-1]} | $wr |"
	done
	[ ${#ri[@]} -gt 0 ] || continue
	echo "| geometric mean | | | | | | | $(geomean "${rj[@]}") | $(geomean "${ri[@]}") | $(geomean "${rv[@]}") | $(geomean "${rl[@]}") | $(geomean "${rw[@]}") |"
done
