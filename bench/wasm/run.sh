#!/usr/bin/env bash
# wasm benchmark: compute kernels (bench/wasm/kernels.c) compiled with the
# same clang -O2 natively and to wasm32-wasi, run natively, by capsa's
# interpreter (build/capsa wasm run), by node (V8) and by wabt's wasm-interp
# (which cannot run WASI, so it runs a variant exporting `run`).
# Prints a markdown table of medians (CPU seconds, user + system) and ratios
# to native.
#   bench/wasm/run.sh [RUNS]        default 5 runs per engine and kernel
#   WASM_BENCH_FACTOR=F             scale the work (default 10)
#   WASM_BENCH_WABT_FACTOR=F        smaller scale for wasm-interp (default 4); its
#                                   ratio is to the native time scaled to that work
#   WASM_BENCH_KERNELS="mix fib"    subset of kernels
#   WASM_BENCH_NO_WABT=1            leave out wasm-interp (slow)
#   WASM_BENCH_WABT_RUNS=N          runs for wasm-interp (default 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
factor=${WASM_BENCH_FACTOR:-10}
wfactor=${WASM_BENCH_WABT_FACTOR:-4}
kernels=${WASM_BENCH_KERNELS:-matmul crc32 sieve fib sort mix}
out=$root/build/bench-wasm
capsa=$root/build/capsa
src=$root/bench/wasm/kernels.c
mkdir -p "$out"
[ -x "$capsa" ] || make -C "$root" build/capsa >/dev/null
wasi_cc=(clang --target=wasm32-wasi --sysroot=/usr -O2)
clang -O2 "$src" -o "$out/kernels.native"
"${wasi_cc[@]}" "$src" -o "$out/kernels.wasm"

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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a / b}'; }

echo "Command: bench/wasm/run.sh $runs (WASM_BENCH_FACTOR=$factor; wasm-interp: factor $wfactor, ${WASM_BENCH_WABT_RUNS:-3} runs), $(date -u +%Y-%m-%d)"
echo
echo "| kernel | native s | capsa s | node s | wasm-interp s (factor $wfactor) | capsa/native | node/native | wasm-interp/native |"
echo "|---|---|---|---|---|---|---|---|"
for k in $kernels; do
	expect=$("$out/kernels.native" "$k" "$factor")
	# Runs alternate between the engines, so that a change in the load
	# the other builds put on the machine hits all of them alike.
	ns=() cs=() vs=()
	for ((i = 0; i < runs; i++)); do
		ns+=("$(time_cmd "$expect" "$out/kernels.native" "$k" "$factor")")
		cs+=("$(time_cmd "$expect" "$capsa" wasm run "$out/kernels.wasm" "$k" "$factor")")
		vs+=("$(time_cmd "$expect" node --no-warnings "$root/bench/wasm/node_wasi.mjs" \
			"$out/kernels.wasm" "$k" "$factor")")
	done
	n=$(printf '%s\n' "${ns[@]}" | median)
	c=$(printf '%s\n' "${cs[@]}" | median)
	v=$(printf '%s\n' "${vs[@]}" | median)
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
	echo "| $k | $n | $c | $v | $w | $(ratio "$c" "$n") | $(ratio "$v" "$n") | $wr |"
done
