#!/usr/bin/env bash
# Run the qcow2 fuzzer for SECONDS (default 30), seeded with small images made
# by qemu-img (cluster sizes, refcount widths, compression, a backing file,
# data written by qemu-io). Corpus lives in build/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-30}
corpus=$root/build/fuzz/qcow2-corpus
mkdir -p "$corpus"
if command -v qemu-img >/dev/null && [ ! -f "$corpus/seed-plain" ]; then
	seeds=$(mktemp -d)
	trap 'rm -rf "$seeds"' EXIT
	head -c 262144 /dev/urandom >"$seeds/base.raw"
	qemu-img create -q -f qcow2 "$corpus/seed-plain" 1M
	qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=8 "$corpus/seed-small" 256K
	qemu-img create -q -f qcow2 -o compat=0.10 "$corpus/seed-v2" 1M
	qemu-img convert -q -c -O qcow2 "$seeds/base.raw" "$corpus/seed-compressed"
	qemu-img convert -q -O qcow2 -o cluster_size=4096 "$seeds/base.raw" "$corpus/seed-data"
	qemu-img create -q -f qcow2 -u -b base.raw -F raw "$corpus/seed-backing" 256K
	qemu-io -c "write -P 0x5a 8k 12k" -c "write -z 64k 64k" "$corpus/seed-plain" >/dev/null
fi
# the fuzzer's scratch image (and whatever backing files it names) stay in build/
export TMPDIR=$root/build/fuzz/qcow2-tmp
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
exec "$root/build/fuzz/disk_qcow2_fuzz" -max_total_time="$secs" -max_len=65536 \
	-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "$corpus"
