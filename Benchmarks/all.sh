#!/usr/bin/env bash
# Every benchmark of issue 22's table (Benchmarks/README.md, "All targets"), one after the other,
# each through compare.py (medians of RUNS >= 7 interleaved runs, min-max, CPU time, the command's
# own peak RSS), then the lines that compare a figure with its target, gathered at the end.
#
# Usage: Benchmarks/all.sh [RUNS]      (RUNS defaults to 7)
#   FULL_VMLINUX=/path/to/vmlinux-6.1.0-56-arm64  also times the driver view with the whole debug
#                                                 vmlinux (target 5); without it, the reduced one only.
#   STREAM_GIB=N                                  size of the generated stream (default 4).
# Needs the real fixtures (../shared/fixtures or $ITSDUMP_SHARED_FIXTURES) and about 6 GiB free
# in /var/tmp (the 4 GiB stream). Takes about 15 minutes on a 2-core machine. Run it on a quiet
# machine: other work on the cores moves the medians (the ratios of interleaved runs less so).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
(( runs >= 7 )) || { echo "all.sh: RUNS must be at least 7" >&2; exit 2; }
log=$(mktemp /var/tmp/itsdump-bench-all.XXXXXX.txt)
echo "itsdump benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$log"
step() {  # title, command...
  local title=$1; shift
  printf '\n== %s: %s\n' "$title" "$*" | tee -a "$log"
  "$@" 2>&1 | tee -a "$log"
}
step "1. start-up" Benchmarks/startup.sh kvm-basic "$runs"
step "2. output that streams" Benchmarks/render.sh "$runs"
step "3. stream index" Benchmarks/stream.sh "${STREAM_GIB:-4}" "$runs"
step "4. kdump" Benchmarks/kdump.sh "$runs"
if [ -n "${FULL_VMLINUX:-}" ]; then
  step "5. driver view" Benchmarks/driver.sh "$runs" --full
else
  step "5. driver view (reduced vmlinux only; set FULL_VMLINUX for the target)" Benchmarks/driver.sh "$runs"
fi
step "zero configuration (issue 20), tcg-basic" Benchmarks/zeroconf.sh tcg-basic "$runs"
step "zero configuration (issue 20), kvm-basic" Benchmarks/zeroconf.sh kvm-basic "$runs"
printf '\n== Against the targets\n'
grep -E 'target|met|x \(per-round' "$log" | grep -v '^#' || true
echo "(whole log: $log)"
