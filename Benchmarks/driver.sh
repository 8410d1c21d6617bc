#!/usr/bin/env bash
# `itsdump driver` (the guest ITS driver's view through DWARF) on real cores: tcg-basic (VMCOREINFO
# from its ELF note) and kvm-basic (VMCOREINFO found by scanning guest RAM), with the reduced
# debug vmlinux of ../shared/fixtures/kernel; best wall time of RUNS runs and peak RSS.
#
# Usage: Benchmarks/driver.sh [RUNS] [--full]
#   --full  also with the whole debug vmlinux: fetches linux-image-6.1.0-56-arm64-dbg:arm64
#           (~800 MB) with `apt-get download` (needs root to add the arm64 architecture), or
#           takes it from $FULL_VMLINUX when that names the file already. Never in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
full=${2:-}
shared=${ITSDUMP_SHARED_FIXTURES:-../shared/fixtures}
work=$(mktemp -d /var/tmp/itsdump-driver.XXXXXX)
trap 'rm -rf "$work"' EXIT
swift build -c release -q
bin=$(swift build -c release --show-bin-path)/itsdump
zstd -q -d "$shared/kernel/vmlinux-6.1.0-56-arm64.its.debug.zst" -o "$work/vmlinux.reduced"
for s in tcg-basic kvm-basic; do
  mkdir -p "$work/$s"
  zstd -d -q --long=28 -c "$shared/$s/snapshot.tar.zst" | tar x -C "$work/$s" core.elf
done
m() { python3 Benchmarks/measure.py "$@"; }
m "itsdump routes tcg-basic (no kernel view)" "$runs" "$bin" routes "$work/tcg-basic/core.elf" --regs "$shared/tcg-basic/its-regs.json" --format json
m "itsdump driver tcg-basic, reduced vmlinux" "$runs" "$bin" driver "$work/tcg-basic/core.elf" --vmlinux "$work/vmlinux.reduced" --format json
m "itsdump driver kvm-basic, reduced vmlinux" "$runs" "$bin" driver "$work/kvm-basic/core.elf" --vmlinux "$work/vmlinux.reduced" --format json
if [ "$full" = --full ] && [ -n "${FULL_VMLINUX:-}" ]; then
  full_vmlinux=$FULL_VMLINUX
elif [ "$full" = --full ]; then
  ( cd "$work" && { dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq; }; } \
    && apt-get download -q linux-image-6.1.0-56-arm64-dbg:arm64 && dpkg-deb -x linux-image-6.1.0-56-arm64-dbg_*_arm64.deb dbg )
  full_vmlinux="$work/dbg/usr/lib/debug/boot/vmlinux-6.1.0-56-arm64"
fi
if [ "$full" = --full ]; then
  m "itsdump driver tcg-basic, full vmlinux" "$runs" "$bin" driver "$work/tcg-basic/core.elf" --vmlinux "$full_vmlinux" --format json
  m "itsdump driver kvm-basic, full vmlinux" "$runs" "$bin" driver "$work/kvm-basic/core.elf" --vmlinux "$full_vmlinux" --format json
fi
