#!/usr/bin/env bash
# Zero configuration (issue 20): times `itsdump routes --format json` with no flags (kallsyms,
# BTF in guest RAM and the driver's records) next to the state-file path (`--regs
# its-regs.json`) on a real ELF core, and on a generated sparse ELF core of a 64 GiB guest
# built from the whole real core (make_sparse_core.py copies every page of it into a file
# hole: the kernel image, the driver's records and the tables sit at their addresses, the rest
# of the 64 GiB is a hole). compare.py runs the four commands interleaved, RUNS rounds: median
# wall time (min-max), median CPU time, each command's own peak RSS, and the ratios
# zero-config / state file and 64 GiB / real; then a check that all four give identical routes.
# Targets (issue 20): zero-config ≤ 2× the state-file path, 64 GiB ≤ 1.2× the real core,
# peak RSS ≤ 32 MiB. On a shared machine compare the CPU column and the ratios, not the walls.
#
# Usage: Benchmarks/zeroconf.sh [STOP] [RUNS]    (STOP defaults to tcg-basic, RUNS to 15, at least 7)
# A stop without a VMCOREINFO note (kvm-*) also pays for finding VMCOREINFO from the vCPUs'
# registers and kallsyms (README, "Zero configuration"; the scan of guest RAM is the fallback).
set -euo pipefail
cd "$(dirname "$0")/.."
stop=${1:-tcg-basic}
runs=${2:-15}
(( runs >= 7 )) || { echo "zeroconf.sh: RUNS must be at least 7 (interleaved rounds)" >&2; exit 2; }
source Benchmarks/prologue.sh
python3 Benchmarks/make_sparse_core.py "$work/core.elf" "$work/sparse-64g.elf" --ram-gib 64

echo "stop $stop, $runs interleaved rounds; core.elf $(du -h --apparent-size "$work/core.elf" | cut -f1), sparse $(du -h --apparent-size "$work/sparse-64g.elf" | cut -f1) apparent"
python3 Benchmarks/compare.py --runs "$runs" \
  --ratio "zero core.elf/regs core.elf" --ratio "zero sparse-64g/regs sparse-64g" --ratio "zero sparse-64g/zero core.elf" \
  "regs core.elf" -- "$bin" routes "$work/core.elf" --regs "$regs" --format json ';;' \
  "zero core.elf" -- "$bin" routes "$work/core.elf" --format json ';;' \
  "regs sparse-64g" -- "$bin" routes "$work/sparse-64g.elf" --regs "$regs" --format json ';;' \
  "zero sparse-64g" -- "$bin" routes "$work/sparse-64g.elf" --format json
# With no flags the guest kernel's records also name each route (irq, name, and where the PCI
# address came from: issue 19); everything the tables say must be the same.
for f in core.elf sparse-64g.elf; do
  "$bin" routes "$work/$f" --regs "$regs" --format json > "$work/$f.regs.json"
  "$bin" routes "$work/$f" --format json > "$work/$f.zero.json"
done
if python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
named = {"irq", "name", "bdfSource"}
def routes(f):
    return [{k: v for k, v in r.items() if k not in named} for r in json.load(open(w + "/" + f))["routes"]]
a = routes("core.elf.regs.json")
sys.exit(0 if all(routes(f) == a for f in ("core.elf.zero.json", "sparse-64g.elf.regs.json", "sparse-64g.elf.zero.json")) else 1)
PY
then
  echo "routes: identical on both dumps, with --regs and with no flags (but for the names zero configuration adds)"
else
  echo "routes: DIFFER"; exit 1
fi
