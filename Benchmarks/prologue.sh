# Sourced by routes.sh and zeroconf.sh, from the repository root, with $stop and $runs set:
# $shared (the real fixtures), $work (a scratch folder removed on exit), $bin (the release
# build), $regs (the stop's its-regs.json), the stop's core.elf unpacked into $work, and
# measure LABEL CMD… (best wall time of $runs runs and peak RSS, measure.py).
shared=${ITSDUMP_SHARED_FIXTURES:-../shared/fixtures}
work=$(mktemp -d /var/tmp/itsdump-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
swift build -c release -q
bin=$(swift build -c release --show-bin-path)/itsdump
zstd -d -q --long=28 -c "$shared/$stop/snapshot.tar.zst" | tar x -C "$work" core.elf
regs="$shared/$stop/its-regs.json"

measure() {  # label, command...
  local label=$1; shift
  python3 Benchmarks/measure.py "$label" "$runs" "$@" | tee -a "$work/results.txt"
}
