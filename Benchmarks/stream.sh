#!/usr/bin/env bash
# Indexing a QEMU migration stream: `itsdump info STREAM` (one pass over the stream, pages
# located, not copied) next to `cat STREAM >/dev/null`, on the real streams and on a
# generated stream of a RAM-GiB guest; RUNS interleaved runs (Benchmarks/compare.py: median
# wall time, min-max, CPU time, the command's own peak RSS), and the ratios against issue 22's
# target 3: throughput at least 1.0x cat's (cat's time / itsdump's), peak RSS at most 16 MiB
# whatever the stream's size.
#
# Usage: Benchmarks/stream.sh [RAM-GiB] [RUNS]     (defaults 4 and 7; needs RAM-GiB + 1 GiB in /var/tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
gib=${1:-4}
runs=${2:-7}
shared=${ITSDUMP_SHARED_FIXTURES:-../shared/fixtures}
work=$(mktemp -d /var/tmp/itsdump-stream.XXXXXX)
trap 'rm -rf "$work"' EXIT
swift build -c release -q
bin=$(swift build -c release --show-bin-path)/itsdump

row() {  # label file [target]: the verdicts against the targets only for the generated stream
  local label=$1 file=$2 target=${3:-}
  cat "$file" >/dev/null
  python3 Benchmarks/compare.py --runs "$runs" --json "$work/r.json" --ratio "cat/itsdump" \
    cat -- cat "$file" \;\; itsdump -- "$bin" info "$file" | sed "s|^|$label: |"
  python3 - "$work/r.json" "$file" "$target" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
target = sys.argv[3] == "target"
def verdict(ok):
    return ": %s" % ("met" if ok else "NOT met") if target else ", fixed costs dominate here"
mib = os.path.getsize(sys.argv[2]) / 1048576
c, i, ratio = r["cat"], r["itsdump"], r["cat / itsdump"]
print("  throughput: cat %.0f MiB/s, itsdump %.0f MiB/s: %.2fx cat's (per-round %.2f-%.2f; target >= 1.0x%s)"
      % (mib / c["medianMs"] * 1000, mib / i["medianMs"] * 1000, ratio["ratio"], ratio["min"], ratio["max"],
         verdict(ratio["ratio"] >= 1.0)))
print("  peak RSS: itsdump %.1f MiB (target <= 16 MiB%s)" % (i["peakRSSKiB"] / 1024, verdict(i["peakRSSKiB"] <= 16384)))
PY
}

for s in tcg-basic kvm-basic; do
  mkdir -p "$work/$s"
  zstd -d -q --long=28 -c "$shared/$s/snapshot.tar.zst" | tar x -C "$work/$s" migration.bin
  row "$s/migration.bin" "$work/$s/migration.bin"
done
python3 Benchmarks/make_big_stream.py "$work/big.mig" --ram-gib "$gib"
row "big.mig (${gib} GiB guest)" "$work/big.mig" target
"$bin" routes "$work/big.mig" --format json >/dev/null && echo "routes on big.mig: ok"
