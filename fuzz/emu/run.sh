#!/usr/bin/env bash
# Run the software CPU's fuzz target for SECONDS (default 30). The corpus
# lives in build/ and is seeded with a few short code fragments.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-30}
corpus=$root/build/fuzz/emu-corpus
mkdir -p "$corpus"
# handler choice byte, then code: a loop with arithmetic, a divide by zero,
# memory traffic, a far jump through garbage, an interrupt and hlt.
printf '\x00\x48\x31\xc0\x48\xff\xc0\x48\x83\xf8\x10\x75\xf6\xf4' >"$corpus/seed-loop"
printf '\x00\x31\xc9\xf7\xf1\xeb\xfe' >"$corpus/seed-de"
printf '\x01\x48\x89\x03\x48\x8b\x0b\xf3\xa4\x0f\x0b' >"$corpus/seed-mem"
printf '\x00\xcd\x80\xcc\x0f\x05\xcf\xf4' >"$corpus/seed-int"
exec "$root/build/fuzz/emu_cpu_fuzz" -max_total_time="$secs" -max_len=4096 \
	-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "$corpus"
