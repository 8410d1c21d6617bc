#!/usr/bin/env bash
# Builds the libFuzzer harnesses and runs one: Fuzz/run.sh TARGET SECONDS [extra libFuzzer flags]
# TARGET: fuzz-elf fuzz-raw fuzz-stream fuzz-kdump fuzz-regs fuzz-debugfs fuzz-walker fuzz-driver fuzz-qcow2 fuzz-btf
# (or "all"). fuzz-driver reads the guest kernel's reduced debug vmlinux from the shared fixtures
# ($ITSDUMP_SHARED_FIXTURES or ../../shared/fixtures, unpacked once into FUZZ_WORK);
# FUZZ_DRIVER_CORE=core.elf adds a seed cut from that core's driver walk.
# FUZZ_SCRATCH names another build folder (.build-NAME), so that a run can start while another
# run's binaries are in use. FUZZ_PROCS=N runs N processes of each target on one corpus (they share finds through it) and
# sums their executions. FUZZ_WORK is where corpora and logs live (/var/tmp/itsdump-fuzz).
# fuzz-walker and fuzz-driver run with ASAN's use-after-free quarantine and malloc stack traces
# off: the code they run per input (HostileImage or the driver walk -> ITSLayout) is safe Swift
# under strict memory safety, with no unsafe pointer to misuse, and the quarantine cost 40% of
# the speed; the allocation limit still holds.
# -detect_leaks=0: leaks are not what is sought (ASAN's LeakSanitizer is off too), and with it on,
# libFuzzer runs an input a second time whenever its mallocs and frees differ in number (about
# half of all inputs: the walk's caches): fuzz-stream and fuzz-kdump ran 1.7-2.5x faster without.
# Limits (DEVELOPERS.md): 1 s per input (-timeout), 64 MiB per allocation (-malloc_limit_mb),
# 2 GiB RSS in all; fuzz-stream, fuzz-kdump and fuzz-elf: 256 MiB RSS and a CPU-time limit that
# grows with the input's size, checked by the harness (issue 17). Crashes and slow inputs land in Fuzz/artifacts/; the summary line of the run
# goes to Fuzz/results/TARGET.txt.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: run.sh TARGET SECONDS}
seconds=${2:?usage: run.sh TARGET SECONDS}
shift 2
targets=(fuzz-elf fuzz-raw fuzz-stream fuzz-kdump fuzz-regs fuzz-debugfs fuzz-walker fuzz-driver fuzz-qcow2 fuzz-btf)
[ "$target" = all ] || targets=("$target")
set +e
scratch=${FUZZ_SCRATCH:-.build}
swift build -c release --scratch-path "$scratch" --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address -q 2>&1 | grep -v -e '^$' -e 'ld.gold: warning: Cannot export local symbol'
build=${PIPESTATUS[0]}
set -e
[ "$build" -eq 0 ] || { echo "run.sh: building the fuzz targets failed" >&2; exit 2; }
failed=0
work=${FUZZ_WORK:-/var/tmp/itsdump-fuzz}
python3 make_seeds.py "$work/seeds" >/dev/null
mkdir -p artifacts results
procs=${FUZZ_PROCS:-1}
if [[ " ${targets[*]} " == *" fuzz-driver "* ]]; then
  shared=${ITSDUMP_SHARED_FIXTURES:-../../shared/fixtures}
  vmlinux_zst=$shared/kernel/vmlinux-6.1.0-56-arm64.its.debug.zst
  [ -f "$vmlinux_zst" ] || { echo "run.sh: fuzz-driver needs $vmlinux_zst (set ITSDUMP_SHARED_FIXTURES)" >&2; exit 2; }
  export ITSDUMP_FUZZ_VMLINUX=$work/vmlinux-6.1.0-56-arm64.debug
  [ -s "$ITSDUMP_FUZZ_VMLINUX" ] || zstd -q -d --long=28 -f "$vmlinux_zst" -o "$ITSDUMP_FUZZ_VMLINUX"
  if [ -n "${FUZZ_DRIVER_CORE:-}" ]; then
    ITSDUMP_FUZZ_SEED_CORE=$FUZZ_DRIVER_CORE ITSDUMP_FUZZ_SEED_OUT=$work/seeds/fuzz-driver/from-core \
      ASAN_OPTIONS=detect_leaks=0 "$scratch/release/fuzz-driver"
    ITSDUMP_FUZZ_SEED_CORE=$FUZZ_DRIVER_CORE ITSDUMP_FUZZ_SEED_OUT=$work/seeds/fuzz-driver/from-core-tables ITSDUMP_FUZZ_SEED_TABLES=1 \
      ASAN_OPTIONS=detect_leaks=0 "$scratch/release/fuzz-driver"
  fi
fi
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t"
  asan=detect_leaks=0:allocator_may_return_null=1
  case $t in fuzz-walker | fuzz-driver) asan=$asan:quarantine_size_mb=0:malloc_context_size=0 ;; esac
  # fuzz-driver's inputs carry the pages of a whole walk (its table seed is 200 KB).
  max_len=65600
  [ "$t" = fuzz-driver ] && max_len=262144
  # fuzz-qcow2: an image with 16 KiB clusters (extended L2 entries need them) is five clusters.
  [ "$t" = fuzz-qcow2 ] && max_len=131072
  # The file parsers (issue 17): amplification is a finding. 256 MiB RSS in all; the harness
  # aborts an input that takes more CPU than 0.25 s + 20 us per byte (FuzzTargets.bounded), so
  # -timeout is only the hard stop; a dictionary of each format's tokens.
  rss=2048 timeout=1 extra=()
  # ASAN's use-after-free quarantine (256 MiB by default) would fill the 256 MiB by itself.
  case $t in fuzz-stream | fuzz-kdump | fuzz-elf) rss=256 timeout=10 extra=(-dict="dicts/$t.dict") asan=$asan:quarantine_size_mb=16:malloc_context_size=0 ;; esac
  set +e
  rm -f "$work/$t".*.log
  pids=()
  for p in $(seq 1 "$procs"); do
    ASAN_OPTIONS=$asan "$scratch/release/$t" "$work/corpus/$t" "$work/seeds/$t" \
      -max_total_time="$seconds" -timeout="$timeout" -malloc_limit_mb=64 -rss_limit_mb="$rss" -max_len="$max_len" \
      -detect_leaks=0 -artifact_prefix="artifacts/$t-" -print_final_stats=1 "${extra[@]}" "$@" >"$work/$t.$p.log" 2>&1 &
    pids+=($!)
  done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
  set -e
  log="$work/$t.1.log"
  runs=$(cat "$work/$t".*.log | grep -E '^stat::number_of_executed_units' | awk '{n += $2} END {print n}')
  cov=$(grep -E '#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*ft: ([0-9]+).*corp: ([0-9]+).*/cov \1, ft \2, corpus \3/' || true)
  crashes=$(ls artifacts/ 2>/dev/null | grep -c "^$t-" || true)
  line="$t: ${seconds}s x $procs process(es), ${runs:-?} executions, ${cov:-?}, exit $status, artifacts $crashes ($(date -u +%Y-%m-%d))"
  echo "$line" | tee "results/$t.txt"
  [ $status -eq 0 ] || { for l in "$work/$t".*.log; do tail -30 "$l"; done; failed=1; }
done
exit $failed
