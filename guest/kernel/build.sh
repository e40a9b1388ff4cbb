#!/usr/bin/env bash
# Build capsa's minimal guest kernel from Debian's linux-source-6.1 (installed
# through scripts/install-deps.sh when missing).
#
#   guest/kernel/build.sh [OUTDIR]
#
# Prints the directory holding vmlinux, bzImage and config on its last line.
# Results are cached under $CAPSA_CACHE (default /var/cache/capsa) by a hash
# of the kernel source version, the config fragment, the patches and the
# recipe version below, so an unchanged tree is never rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CAPSA_CACHE:-/var/cache/capsa}
tarball=/usr/src/linux-source-6.1.tar.xz
jobs=${JOBS:-$(nproc)}

log() { printf 'guest-kernel: %s\n' "$*" >&2; }

if [ ! -r "$tarball" ] || ! command -v bc >/dev/null || ! command -v flex >/dev/null; then
	log "installing the kernel source and build tools (scripts/install-deps.sh)"
	"$here/../../scripts/install-deps.sh"
fi
if [ ! -r "$tarball" ]; then
	log "missing $tarball after installing linux-source-6.1"
	exit 1
fi
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %s "$tarball")
# Bump when a change to this script changes what it builds.
recipe=1
hash=$( { echo "$srcver recipe $recipe"; cat "$here/microvm.config" "$here"/patches/*.patch; } |
	sha256sum | cut -c1-16)
out=${1:-$cache/kernel/$hash}
if [ -s "$out/vmlinux" ] && [ -s "$out/bzImage" ]; then
	log "cached kernel $hash"
	echo "$out"
	exit 0
fi

# One build at a time per cache: a second caller waits, then finds the result.
mkdir -p "$cache"
exec 9>"$cache/kernel-build.lock"
if ! flock -n 9; then
	log "another kernel build is running; waiting for it"
	flock 9
fi
if [ -s "$out/vmlinux" ] && [ -s "$out/bzImage" ]; then
	log "cached kernel $hash"
	echo "$out"
	exit 0
fi

work=$cache/kernel-build/linux-source-6.1
stamp=$cache/kernel-build/source-version
mkdir -p "$cache/kernel-build" "$out"
if [ ! -d "$work" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
	log "unpacking linux-source-6.1 ($srcver)"
	rm -rf "$work"
	tar -C "$cache/kernel-build" -xJf "$tarball"
	for p in "$here"/patches/*.patch; do
		log "applying $(basename "$p")"
		patch -s -p1 -d "$work" <"$p"
	done
	echo "$hash" >"$stamp"
fi

cd "$work"
log "configuring (tinyconfig + microvm.config)"
make -s tinyconfig >/dev/null
KCONFIG_CONFIG=.config scripts/kconfig/merge_config.sh -m .config "$here/microvm.config" >/dev/null
make -s olddefconfig >/dev/null
# Every line of the fragment must have survived olddefconfig.
missing=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=n) opt=${line%=n}; grep -q "^$opt=" .config && { log "not applied: $line"; missing=1; } ;;
	CONFIG_*=*) grep -qx "$line" .config || { log "not applied: $line"; missing=1; } ;; esac
done <"$here/microvm.config"
[ $missing = 0 ] || { log "config fragment not fully applied"; exit 1; }

log "building vmlinux and bzImage with -j$jobs (about 14 min from scratch on 2 cores)"
start=$(date +%s)
# Progress: one line per 200 compiled objects.
make -j"$jobs" vmlinux bzImage 2>&1 | awk -v s="$start" '
	/^  (CC|AS|LD|AR)/ { n++; if (n % 200 == 0) { printf "guest-kernel: %d objects, %ds\n", n, systime() - s > "/dev/stderr"; fflush("/dev/stderr") } next }
	/error|Error/ { print > "/dev/stderr" }
	{ }'
[ "${PIPESTATUS[0]}" = 0 ] || { log "kernel build failed"; exit 1; }
cp vmlinux "$out/vmlinux.tmp" && mv "$out/vmlinux.tmp" "$out/vmlinux"
cp arch/x86/boot/bzImage "$out/bzImage.tmp" && mv "$out/bzImage.tmp" "$out/bzImage"
cp .config "$out/config"
cp System.map "$out/System.map"
log "built in $(($(date +%s) - start)) s"
echo "$out"
