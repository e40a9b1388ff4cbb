#!/usr/bin/env bash
# Boot the demo VM: capsa's minimal Linux guest on 2 vCPUs; its init prints
# "capsa demo: Linux is up on N vCPUs" and restarts the machine, which ends
# the VM. Called by `make demo` after the build; usable on its own:
#   scripts/demo.sh [--cpus N] [extra capsa vm run options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
kdir=$(cat build/guest/kernel-path)
# The accelerator: KVM on hosts with VMX/SVM; capsa's software CPU where KVM is
# missing (auto) and on paravirtual KVM hosts (kvm_pvm), where KVM emulates guest
# kernel code at about a million instructions per second and the software CPU
# boots this guest some 30 to 80 times faster (docs/benchmarks.md). CAPSA_ACCEL overrides.
accel=${CAPSA_ACCEL:-auto}
if [ "$accel" = auto ] && [ -e /sys/module/kvm_pvm ]; then accel=emu; fi
# Paravirtual KVM runs only 32-bit int $0x80 user space (docs/vm.md).
init=build/guest/initramfs-64.cpio
if [ "$accel" != emu ] && [ -e /sys/module/kvm_pvm ] && [ -r /dev/kvm ]; then
	init=build/guest/initramfs-32.cpio
fi
cpus=2
if [ "${1:-}" = "--cpus" ]; then cpus=$2; shift 2; fi
echo "capsa demo: booting $kdir/vmlinux with $(basename "$init") on $cpus vCPUs (--accel $accel)" >&2
start=$(date +%s.%N)
set +e
build/capsa vm run --accel "$accel" --kernel "$kdir/vmlinux" --initrd "$init" --cpus "$cpus" --memory 256M \
	--cmdline "console=ttyS0 reboot=k panic=-1" "$@"
rc=$?
set -e
echo "capsa demo: VM exited with status $rc after $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s" >&2
exit $rc
