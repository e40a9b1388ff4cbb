#!/usr/bin/env bash
# Run the kernel-image fuzzer for SECONDS (default 30), seeded with the test
# guests (ELF with and without PVH note, bzImage). Corpus lives in build/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-30}
corpus=$root/build/fuzz/vm-corpus
mkdir -p "$corpus"
for g in testguest.elf testguest-nopvh.elf testguest.bzImage; do
	[ -f "$root/build/guests/$g" ] && cp -f "$root/build/guests/$g" "$corpus/seed-$g"
done
exec "$root/build/fuzz/vm_kernel_image_fuzz" -max_total_time="$secs" -max_len=131072 \
	-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "$corpus"
