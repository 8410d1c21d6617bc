#!/usr/bin/env bash
# Output that streams (issue 22, target 2): `itsdump routes` on generated guests of 131,072 and
# 1,000,000 routes (make_many_devices.py: KVM ABI 0, flat device table; the 1M case also in
# QEMU's format with a two-level table), --format json and text, medians of RUNS interleaved
# runs (compare.py: wall, min-max, CPU, the command's own peak RSS), against the targets for
# 1M routes in JSON: <= 3 s and <= 64 MiB. First checks that each input gives N x M routes
# and no finding. BASELINE=path/to/another/itsdump adds its runs (e.g. a build of main) and
# the ratios.
#
# Usage: Benchmarks/render.sh [RUNS]     (RUNS defaults to 7; needs ~60 MiB in /var/tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
work=$(mktemp -d /var/tmp/itsdump-render.XXXXXX)
trap 'rm -rf "$work"' EXIT
swift build -c release -q
bin=$(swift build -c release --show-bin-path)/itsdump
gpa=0x40000000

make() {  # name, generator arguments...
  local name=$1; shift
  python3 Benchmarks/make_many_devices.py "$@" "$work/$name" >/dev/null
}
make k131k --format kvm --devices 128 --events 1024
make k1m --format kvm --devices 1000 --events 1000
make q1m --format qemu --devices 1000 --events 1000 --two-level

for case in "k131k 131072 128" "k1m 1000000 1000" "q1m 1000000 1000"; do
  set -- $case
  summary=$("$bin" routes "$work/$1.img@$gpa" --regs "$work/$1-regs.json" | grep -E '^[0-9]+ routes on|^findings:' | tr '\n' ' ')
  if [[ "$summary" != "$2 routes on $3 devices findings: none " ]]; then
    echo "$1: expected $2 routes on $3 devices and no finding, got: $summary"; exit 1
  fi
  echo "$1: $summary"
done

args=()
ratios=()
for case in k131k k1m q1m; do
  for fmt in json text; do
    args+=("$case $fmt" -- "$bin" routes "$work/$case.img@$gpa" --regs "$work/$case-regs.json" --format "$fmt" ";;")
    if [[ -n "${BASELINE:-}" ]]; then
      args+=("$case $fmt (baseline)" -- "$BASELINE" routes "$work/$case.img@$gpa" --regs "$work/$case-regs.json" --format "$fmt" ";;")
      ratios+=(--ratio "$case $fmt/$case $fmt (baseline)")
    fi
  done
done
nice -n 10 python3 Benchmarks/compare.py --runs "$runs" --json "$work/result.json" "${ratios[@]}" "${args[@]}"

python3 - "$work/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for case in ("k1m json", "q1m json"):
    x = r[case]
    print("%s: %.2f s median (target <= 3 s: %s), %.1f MiB peak RSS (target <= 64 MiB: %s)" % (
        case, x["medianMs"] / 1000, "met" if x["medianMs"] <= 3000 else "NOT met",
        x["peakRSSKiB"] / 1024, "met" if x["peakRSSKiB"] <= 64 * 1024 else "NOT met"))
PY
