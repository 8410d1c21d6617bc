#!/usr/bin/env bash
# `itsdump routes --output json` on the real kdump-zlib dump of tcg-kdump next to the same on
# its ELF core, and on a generated kdump of a 64 GiB guest holding the same tables: best wall
# time of RUNS runs and peak RSS. Expected: milliseconds, flat in the guest's size.
#
# Usage: Benchmarks/kdump.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
shared=${ITSDUMP_SHARED_FIXTURES:-../shared/fixtures}
work=$(mktemp -d /var/tmp/itsdump-kdump.XXXXXX)
trap 'rm -rf "$work"' EXIT
swift build -c release -q
bin=$(swift build -c release --show-bin-path)/itsdump
zstd -d -q --long=28 -c "$shared/tcg-kdump/snapshot.tar.zst" | tar x -C "$work" core.elf core.kdump-zlib
python3 Benchmarks/make_big_kdump.py fixtures/tcg-kdump/core.extract.elf "$work/big.kdump" --ram-gib 64
regs="$shared/tcg-kdump/its-regs.json"
m() { python3 Benchmarks/measure.py "$@"; }
m "itsdump routes core.elf" "$runs" "$bin" routes "$work/core.elf" --regs "$regs" --format json
m "itsdump routes core.kdump-zlib" "$runs" "$bin" routes "$work/core.kdump-zlib" --regs "$regs" --format json
m "itsdump routes big.kdump (64 GiB guest)" "$runs" "$bin" routes "$work/big.kdump" --regs "$regs" --format json
for f in core.kdump-zlib big.kdump; do
  "$bin" routes "$work/$f" --regs "$regs" --format json | sed -n '/"routes": \[/,/"schemaVersion"/p' > "$work/$f.json"
done
"$bin" routes "$work/core.elf" --regs "$regs" --format json | sed -n '/"routes": \[/,/"schemaVersion"/p' > "$work/elf.json"
cmp -s "$work/elf.json" "$work/core.kdump-zlib.json" && cmp -s "$work/elf.json" "$work/big.kdump.json" \
  && echo "routes: identical on the three dumps" || { echo "routes: DIFFER"; exit 1; }
