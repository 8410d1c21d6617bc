#!/usr/bin/env bash
# Indexing a QEMU migration stream: `itsdump info STREAM` (one pass over the stream, pages
# located, not copied) next to `cat STREAM >/dev/null`, on the real streams and on a
# generated stream of a RAM-GiB guest; best wall time of RUNS runs, throughput and peak RSS.
# Target: at least 0.9x cat's throughput; memory proportional to the page count.
#
# Usage: Benchmarks/stream.sh [RAM-GiB] [RUNS]     (defaults 4 and 3; needs RAM-GiB + 1 GiB in /var/tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
gib=${1:-4}
runs=${2:-3}
shared=${ITSDUMP_SHARED_FIXTURES:-../shared/fixtures}
work=$(mktemp -d /var/tmp/itsdump-stream.XXXXXX)
trap 'rm -rf "$work"' EXIT
swift build -c release -q
bin=$(swift build -c release --show-bin-path)/itsdump

row() {  # label file
  local label=$1 file=$2
  local mib=$(( $(stat -c %s "$file") / 1048576 ))
  for cmd in cat itsdump; do
    # Drop nothing from the page cache (no root assumptions): both runs read warm data.
    if [ $cmd = cat ]; then out=$(python3 Benchmarks/measure.py "cat $label" "$runs" cat "$file")
    else out=$(python3 Benchmarks/measure.py "itsdump info $label" "$runs" "$bin" info "$file"); fi
    ms=$(echo "$out" | awk '{print $(NF-5)}')
    echo "$out   $(awk "BEGIN{printf \"%.0f MiB/s\", $mib / ($ms / 1000)}")"
  done
}

for s in tcg-basic kvm-basic; do
  mkdir -p "$work/$s"
  zstd -d -q --long=28 -c "$shared/$s/snapshot.tar.zst" | tar x -C "$work/$s" migration.bin
  row "$s/migration.bin" "$work/$s/migration.bin"
done
python3 Benchmarks/make_big_stream.py "$work/big.mig" --ram-gib "$gib"
cat "$work/big.mig" >/dev/null
row "big.mig (${gib} GiB guest)" "$work/big.mig"
"$bin" routes "$work/big.mig" --format json >/dev/null && echo "routes on big.mig: ok"
