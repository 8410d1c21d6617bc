#!/usr/bin/env bash
# Zero configuration (issue 20): times `itsdump routes --output json` with no flags (kallsyms,
# BTF in guest RAM and the driver's records) next to the state-file path (`--regs
# its-regs.json`) on a real ELF core, and on a generated sparse ELF core of a 64 GiB guest
# built from the whole real core (make_sparse_core.py copies every page of it into a file
# hole: the kernel image, the driver's records and the tables sit at their addresses, the rest
# of the 64 GiB is a hole). Best wall time of RUNS runs and peak RSS (measure.py), the ratios
# zero-config / state file and 64 GiB / real, and a check that all four give identical routes.
# Targets (issue 20): zero-config ≤ 2× the state-file path, 64 GiB ≤ 1.2× the real core,
# peak RSS ≤ 32 MiB.
#
# Usage: Benchmarks/zeroconf.sh [STOP] [RUNS]    (STOP defaults to tcg-basic, RUNS to 10)
# A stop without a VMCOREINFO note (kvm-*) also pays the scan of guest RAM for VMCOREINFO,
# which stops at the first page that holds it.
set -euo pipefail
cd "$(dirname "$0")/.."
stop=${1:-tcg-basic}
runs=${2:-10}
source Benchmarks/prologue.sh
python3 Benchmarks/make_sparse_core.py "$work/core.elf" "$work/sparse-64g.elf" --ram-gib 64

echo "stop $stop, best of $runs runs; core.elf $(du -h --apparent-size "$work/core.elf" | cut -f1), sparse $(du -h --apparent-size "$work/sparse-64g.elf" | cut -f1) apparent"
measure "routes --regs core.elf" "$bin" routes "$work/core.elf" --regs "$regs" --format json
measure "routes core.elf (zero-config)" "$bin" routes "$work/core.elf" --format json
measure "routes --regs sparse-64g.elf" "$bin" routes "$work/sparse-64g.elf" --regs "$regs" --format json
measure "routes sparse-64g.elf (zero-config)" "$bin" routes "$work/sparse-64g.elf" --format json
awk '{ for (i = 1; i <= NF; i++) if ($i == "ms") t[NR] = $(i - 1); for (i = 1; i <= NF; i++) if ($i == "KiB") r[NR] = $(i - 1) }
     END { printf "zero-config / state file: %.2fx (real core), %.2fx (64 GiB)\n", t[2] / t[1], t[4] / t[3];
           printf "64 GiB / real core, zero-config: %.2fx\n", t[4] / t[2];
           m = 0; for (k in r) if (r[k] > m) m = r[k]; printf "largest peak RSS: %d KiB\n", m }' "$work/results.txt"
for f in core.elf sparse-64g.elf; do
  "$bin" routes "$work/$f" --regs "$regs" --format json | sed -n '/^  "routes": \[/,$p' > "$work/$f.regs.json"
  "$bin" routes "$work/$f" --format json | sed -n '/^  "routes": \[/,$p' > "$work/$f.zero.json"
done
if cmp -s "$work/core.elf.regs.json" "$work/core.elf.zero.json" && cmp -s "$work/core.elf.zero.json" "$work/sparse-64g.elf.zero.json" \
   && cmp -s "$work/core.elf.regs.json" "$work/sparse-64g.elf.regs.json"; then
  echo "routes: identical on both dumps, with --regs and with no flags"
else
  echo "routes: DIFFER"; exit 1
fi
