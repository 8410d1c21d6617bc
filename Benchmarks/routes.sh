#!/usr/bin/env bash
# Times `itsdump routes --output json` on a real ELF core and on a generated sparse ELF of a
# 64 GiB guest holding the same tables, next to `cat DUMP >/dev/null` on the real one: wall time
# (median of N interleaved runs, compare.py) and peak RSS. Expected: both dumps take the same few milliseconds, and memory
# does not grow with the dump's size.
#
# Usage: Benchmarks/routes.sh [STOP] [RUNS]     (STOP defaults to kvm-basic, RUNS to 10)
set -euo pipefail
cd "$(dirname "$0")/.."
stop=${1:-kvm-basic}
runs=${2:-10}
source Benchmarks/prologue.sh
python3 Benchmarks/make_sparse_core.py "fixtures/$stop/core.extract.elf" "$work/sparse-64g.elf" --ram-gib 64

echo "stop $stop, $runs interleaved runs; core.elf $(du -h --apparent-size "$work/core.elf" | cut -f1), sparse $(du -h --apparent-size "$work/sparse-64g.elf" | cut -f1) apparent"
python3 Benchmarks/compare.py --runs "$runs" --ratio "routes sparse-64g.elf/routes core.elf" \
  "cat core.elf >/dev/null" -- cat "$work/core.elf" ';;' \
  "routes core.elf" -- "$bin" routes "$work/core.elf" --regs "$regs" --format json ';;' \
  "routes sparse-64g.elf" -- "$bin" routes "$work/sparse-64g.elf" --regs "$regs" --format json
"$bin" routes "$work/core.elf" --regs "$regs" --format json | grep -v '"path"' > "$work/a.json"
"$bin" routes "$work/sparse-64g.elf" --regs "$regs" --format json | grep -v '"path"' > "$work/b.json"
if cmp -s "$work/a.json" "$work/b.json"; then echo "routes: identical on both dumps"; else echo "routes: DIFFER"; exit 1; fi
