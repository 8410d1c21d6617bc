# Sourced by routes.sh and zeroconf.sh, from the repository root, with $stop and $runs set:
# $shared (the real fixtures), $work (a scratch folder removed on exit), $bin (the release
# build), $regs (the stop's its-regs.json), and the stop's core.elf unpacked into $work. The
# scripts time with Benchmarks/compare.py (medians of interleaved runs).
shared=${ITSDUMP_SHARED_FIXTURES:-../shared/fixtures}
work=$(mktemp -d /var/tmp/itsdump-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
swift build -c release -q
bin=$(swift build -c release --show-bin-path)/itsdump
zstd -d -q --long=28 -c "$shared/$stop/snapshot.tar.zst" | tar x -C "$work" core.elf
regs="$shared/$stop/its-regs.json"
