#!/usr/bin/env bash
# Start-up (issue 22, target 1): `itsdump --version` against /bin/true (target: ≤ 3×), and
# `itsdump routes --format json` on a real core, with --regs and with no flags (zero
# configuration), against `cat core.elf >/dev/null` with a warm page cache (target: ≤ 0.25×).
# Release build; Benchmarks/compare.py runs the five commands RUNS times interleaved and gives
# medians (min-max), CPU time and each command's own peak RSS; the ratios are of median wall
# times, with the CPU-time ratios beside them (wall times are noisy on a shared machine).
#
# Usage: Benchmarks/startup.sh [STOP] [RUNS]     (STOP defaults to kvm-basic, RUNS to 11; ≥ 7)
set -euo pipefail
cd "$(dirname "$0")/.."
stop=${1:-kvm-basic}
runs=${2:-11}
[ "$runs" -ge 7 ] || { echo "startup.sh: RUNS must be at least 7" >&2; exit 2; }
source Benchmarks/prologue.sh
cat "$work/core.elf" >/dev/null   # warm the page cache

echo "stop $stop, $runs interleaved runs; core.elf $(du -h --apparent-size "$work/core.elf" | cut -f1); $bin"
python3 Benchmarks/compare.py --runs "$runs" --json "$work/startup.json" \
    --ratio "itsdump --version//bin/true" \
    --ratio "itsdump routes --regs --format json/cat core.elf >/dev/null" \
    --ratio "itsdump routes --format json (zero-config)/cat core.elf >/dev/null" \
    "/bin/true" -- /bin/true \;\; \
    "itsdump --version" -- "$bin" --version \;\; \
    "cat core.elf >/dev/null" -- cat "$work/core.elf" \;\; \
    "itsdump routes --regs --format json" -- "$bin" routes "$work/core.elf" --regs "$regs" --format json \;\; \
    "itsdump routes --format json (zero-config)" -- "$bin" routes "$work/core.elf" --format json

python3 - "$work/startup.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
def line(a, b, target):
    wall = r[a]["medianMs"] / r[b]["medianMs"]
    cpu = r[a]["cpuMedianMs"] / r[b]["cpuMedianMs"]
    verdict = "met" if wall <= target else "NOT met (%.2fx over)" % (wall / target)
    print("%-60s %5.2fx wall, %5.2fx CPU; target <= %.2fx: %s" % ("%s / %s" % (a, b), wall, cpu, target, verdict))
line("itsdump --version", "/bin/true", 3.0)
line("itsdump routes --regs --format json", "cat core.elf >/dev/null", 0.25)
line("itsdump routes --format json (zero-config)", "cat core.elf >/dev/null", 0.25)
EOF
