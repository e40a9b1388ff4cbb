#!/usr/bin/env bash
# Boot the demo VM: capsa's minimal Linux guest on 2 vCPUs; its init prints
# "capsa demo: Linux is up on N vCPUs" and restarts the machine, which ends
# the VM. Called by `make demo` after the build; usable on its own:
#   scripts/demo.sh [--cpus N] [extra capsa vm run options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
kdir=$(cat build/guest/kernel-path)
# Paravirtual KVM hosts run only 32-bit int $0x80 user space (docs/vm.md).
if [ -e /sys/module/kvm_pvm ]; then init=build/guest/initramfs-32.cpio; else init=build/guest/initramfs-64.cpio; fi
cpus=2
if [ "${1:-}" = "--cpus" ]; then cpus=$2; shift 2; fi
echo "capsa demo: booting $kdir/vmlinux with $(basename "$init") on $cpus vCPUs" >&2
[ -e /sys/module/kvm_pvm ] &&
	echo "capsa demo: this host emulates guest kernel code; the boot takes about a minute" >&2
start=$(date +%s.%N)
set +e
build/capsa vm run --kernel "$kdir/vmlinux" --initrd "$init" --cpus "$cpus" --memory 256M \
	--cmdline "console=ttyS0 reboot=k panic=-1" "$@"
rc=$?
set -e
echo "capsa demo: VM exited with status $rc after $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s" >&2
exit $rc
