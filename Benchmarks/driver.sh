#!/usr/bin/env bash
# `itsdump driver` (the guest ITS driver's view through DWARF) on real cores: tcg-basic (VMCOREINFO
# from its ELF note) and kvm-basic (VMCOREINFO found in guest RAM), with the reduced debug
# vmlinux of ../shared/fixtures/kernel, next to a plain `routes`; medians of RUNS interleaved runs
# (Benchmarks/compare.py: wall min-max, CPU time, the command's own peak RSS).
#
# Usage: Benchmarks/driver.sh [RUNS] [--full] [--base BIN]
#   --full      also with the whole debug vmlinux (313 MB): $FULL_VMLINUX when that names the
#               file, else fetched with `apt-get download linux-image-6.1.0-56-arm64-dbg:arm64`
#               (~800 MB; root needed to add the arm64 architecture). Never in CI.
#   --base BIN  also runs another build (e.g. main's release binary) on the same cases,
#               interleaved, and prints the ratios new/base (issue 22's "today" column).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=7
full=
base=
while [ $# -gt 0 ]; do
  case $1 in
    --full) full=1 ;;
    --base) base=$2; shift ;;
    *) runs=$1 ;;
  esac
  shift
done
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
full_vmlinux=
if [ -n "$full" ] && [ -n "${FULL_VMLINUX:-}" ]; then
  full_vmlinux=$FULL_VMLINUX
elif [ -n "$full" ]; then
  ( cd "$work" && { dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq; }; } \
    && apt-get download -q linux-image-6.1.0-56-arm64-dbg:arm64 \
    && dpkg-deb --fsys-tarfile linux-image-6.1.0-56-arm64-dbg_*_arm64.deb | tar x ./usr/lib/debug/boot/vmlinux-6.1.0-56-arm64 \
    && rm linux-image-6.1.0-56-arm64-dbg_*_arm64.deb )
  full_vmlinux="$work/usr/lib/debug/boot/vmlinux-6.1.0-56-arm64"
fi

# One compare.py run: every case with this build (and with --base's), interleaved.
args=()
ratios=()
add() {  # label, command...
  local label=$1; shift
  args+=("$label" -- "$bin" "$@" \;\;)
  if [ -n "$base" ]; then
    args+=("$label (base)" -- "$base" "$@" \;\;)
    ratios+=(--ratio "$label/$label (base)")
  fi
}
add "routes tcg-basic (no kernel view)" routes "$work/tcg-basic/core.elf" --regs "$shared/tcg-basic/its-regs.json" --format json
for s in tcg-basic kvm-basic; do
  add "driver $s, reduced vmlinux" driver "$work/$s/core.elf" --vmlinux "$work/vmlinux.reduced" --format json
done
if [ -n "$full_vmlinux" ]; then
  for s in tcg-basic kvm-basic; do
    add "driver $s, full vmlinux" driver "$work/$s/core.elf" --vmlinux "$full_vmlinux" --format json
  done
fi
python3 Benchmarks/compare.py --runs "$runs" "${ratios[@]}" "${args[@]}"

# The views must not depend on which vmlinux gave the types.
if [ -n "$full_vmlinux" ]; then
  for s in tcg-basic kvm-basic; do
    "$bin" driver "$work/$s/core.elf" --vmlinux "$work/vmlinux.reduced" --format json | grep -v vmlinux > "$work/a.json"
    "$bin" driver "$work/$s/core.elf" --vmlinux "$full_vmlinux" --format json | grep -v vmlinux > "$work/b.json"
    if cmp -s "$work/a.json" "$work/b.json"; then echo "driver $s: identical with both vmlinux files"; else echo "driver $s: DIFFER"; exit 1; fi
  done
fi
