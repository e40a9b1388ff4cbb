#!/usr/bin/env bash
# Run the wasm module fuzzer for a fixed time budget (seconds, default 60).
# Seeds: binary modules of the spec suite, converted with wast2json into
# build/fuzz/wasm-seeds; findings go to build/fuzz/wasm-crashes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
seeds=$root/build/fuzz/wasm-seeds
corpus=$root/build/fuzz/wasm-corpus
crashes=$root/build/fuzz/wasm-crashes
mkdir -p "$seeds" "$corpus" "$crashes"
if [ -z "$(ls -A "$seeds")" ]; then
	tmp=$(mktemp -d)
	for w in "$root"/../shared/wasm-testsuite/*.wast; do
		b=$(basename "$w" .wast)
		wast2json "$w" -o "$tmp/$b.json" >/dev/null 2>&1 || true
	done
	find "$tmp" -name '*.wasm' -size -64k -exec cp {} "$seeds/" \;
	rm -rf "$tmp"
fi
cd "$crashes"
exec "$root/build/fuzz/wasm_fuzz" -max_total_time="$secs" -seed=1 -rss_limit_mb=2048 \
	-timeout=10 -print_final_stats=1 "$corpus" "$seeds"
