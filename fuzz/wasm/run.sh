#!/usr/bin/env bash
# Run a wasm fuzzer for a fixed time budget: run.sh [SECONDS [TARGET]].
# TARGET "module" (default): build/fuzz/wasm_fuzz (decode, validate, run);
# "jit": build/fuzz/wasm_jit_fuzz (the compiler, and its results against the
# interpreter's). Seeds: binary modules of the spec suite, converted with
# wast2json into build/fuzz/wasm-seeds, and for "jit" also random modules
# that binaryen's wasm-opt -ttf makes from those files' bytes
# (build/fuzz/wasm-ttf-seeds). Findings go to build/fuzz/wasm-crashes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
target=${2:-module}
seeds=$root/build/fuzz/wasm-seeds
crashes=$root/build/fuzz/wasm-crashes
mkdir -p "$seeds" "$crashes"
if [ -z "$(ls -A "$seeds")" ]; then
	tmp=$(mktemp -d)
	for w in "$root"/../shared/wasm-testsuite/*.wast; do
		b=$(basename "$w" .wast)
		wast2json "$w" -o "$tmp/$b.json" >/dev/null 2>&1 || true
	done
	find "$tmp" -name '*.wasm' -size -64k -exec cp {} "$seeds/" \;
	rm -rf "$tmp"
fi
case "$target" in
module)
	fuzzer=$root/build/fuzz/wasm_fuzz
	corpus=$root/build/fuzz/wasm-corpus
	extra=()
	;;
jit)
	fuzzer=$root/build/fuzz/wasm_jit_fuzz
	corpus=$root/build/fuzz/wasm-jit-corpus
	ttf=$root/build/fuzz/wasm-ttf-seeds
	mkdir -p "$ttf"
	if [ -z "$(ls -A "$ttf")" ] && command -v wasm-opt >/dev/null; then
		for f in $(ls "$seeds" | sort | head -n 200); do
			wasm-opt -ttf "$seeds/$f" -o "$ttf/ttf-$f" --enable-sign-ext \
				--enable-mutable-globals --enable-nontrapping-float-to-int \
				--enable-simd --enable-bulk-memory --enable-multivalue \
				>/dev/null 2>&1 || true
		done
	fi
	extra=("$ttf")
	;;
*)
	echo "run.sh: unknown target $target (module or jit)" >&2
	exit 2
	;;
esac
mkdir -p "$corpus"
cd "$crashes"
exec "$fuzzer" -max_total_time="$secs" -seed=1 -rss_limit_mb=2048 \
	-timeout=10 -print_final_stats=1 "$corpus" "$seeds" "${extra[@]}"
