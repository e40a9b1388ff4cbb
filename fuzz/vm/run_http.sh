#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run the control API fuzzer (HTTP parsing and routing) for SECONDS (default
# 30), seeded with one request per endpoint. Corpus lives in build/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-30}
corpus=$root/build/fuzz/vm-http-corpus
mkdir -p "$corpus"
seed() {
	local name=$1 method=$2 path=$3 body=${4:-}
	printf '%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
		"$method" "$path" "${#body}" "$body" >"$corpus/seed-$name"
}
seed info GET /
seed config GET /vm/config
seed machine PUT /machine-config '{"vcpu_count":2,"mem_size_mib":128,"smt":false,"track_dirty_pages":true}'
seed machine-patch PATCH /machine-config '{"mem_size_mib":64}'
seed boot PUT /boot-source '{"kernel_image_path":"/etc/hostname","initrd_path":null,"boot_args":"console=ttyS0"}'
seed drive PUT /drives/root '{"drive_id":"root","path_on_host":"/etc/hostname","is_root_device":true,"is_read_only":true,"cache_type":"Writeback","io_engine":"Sync","rate_limiter":{"bandwidth":{"size":1000,"refill_time":100},"ops":{"size":10,"one_time_burst":0,"refill_time":1000}}}'
seed net PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"tap0","guest_mac":"02:00:00:00:00:01","rx_rate_limiter":{"bandwidth":{"size":1,"refill_time":1}}}'
seed vsock PUT /vsock '{"guest_cid":3,"uds_path":"/tmp/v.sock"}'
seed start PUT /actions '{"action_type":"InstanceStart"}'
seed cad PUT /actions '{"action_type":"SendCtrlAltDel"}'
seed pause PATCH /vm '{"state":"Paused"}'
seed create PUT /snapshot/create '{"snapshot_path":"/tmp/x","snapshot_type":"Full"}'
seed load PUT /snapshot/load '{"snapshot_path":"/tmp/x","resume_vm":true}'
seed logger PUT /logger '{"log_path":"/dev/null","level":"Debug","show_level":true,"show_log_origin":false}'
seed metrics PUT /metrics '{"metrics_path":"/dev/null"}'
seed flush PUT /actions '{"action_type":"FlushMetrics"}'
seed version GET /version
seed entropy PUT /entropy '{"rate_limiter":{"bandwidth":null,"ops":null}}'
seed drive-patch PATCH /drives/root '{"drive_id":"root","path_on_host":"/etc/hostname","rate_limiter":{"ops":{"size":10,"refill_time":1000}}}'
seed balloon PUT /balloon '{"amount_mib":1}'
exec "$root/build/fuzz/vm_http_fuzz" -max_total_time="$secs" -max_len=20000 \
	-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
	-dict="$root/fuzz/vm/http.dict" "$corpus"
