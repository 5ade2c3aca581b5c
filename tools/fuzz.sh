#!/usr/bin/env bash
# Builds the libFuzzer targets (test/fuzz/, clang, ASan + UBSan, CPU backend) into build-fuzz/
# and runs one, or all, for a bounded time from its seed corpus (test/fuzz/corpus/TARGET).
#   tools/fuzz.sh TARGET SECONDS       e.g. tools/fuzz.sh network_file 600
#   tools/fuzz.sh all SECONDS          each target in turn (CI: 60 seconds each)
# Targets: network_file, run_file, image, dataset_file, checkpoint_file (the last two write HDF5
# files whose structure the input chooses: test/fuzz/fuzzed_hdf5.h). A crash leaves its input as
# build-fuzz/crash-*; add it to the target's corpus as a regression input once fixed. New inputs
# the fuzzer finds go to build-fuzz/corpus-TARGET/, not into the repository's corpus.
# FUZZ_SEED=N fixes libFuzzer's seed (CI uses 1, so that its run is the one checked here; 0, the
# default, draws one).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(network_file run_file image dataset_file checkpoint_file)
[ $# -eq 2 ] || { sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 2; }
target=$1 seconds=$2
if [ "$target" = all ]; then
  run=("${targets[@]}")
else
  [[ " ${targets[*]} " == *" $target "* ]] || { echo "fuzz.sh: unknown target '$target' (${targets[*]})" >&2; exit 2; }
  run=("$target")
fi
tools/setup.sh --fuzz
build=${BUILD_DIR:-build-fuzz}
CC=clang CXX=clang++ BUILD_DIR=$build tools/build.sh -DALEXNET_CUDA=OFF -DALEXNET_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo $(printf -- '--target fuzz_%s ' "${run[@]}")
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${run[@]}"; do
  mkdir -p "$build/corpus-$t"
  echo "== fuzz_$t for $seconds s"
  # -rss_limit_mb: a reader that allocates what a header claims is a finding too.
  rc=0
  (cd "$build" && "./fuzz_$t" -seed="${FUZZ_SEED:-0}" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    "corpus-$t" "../test/fuzz/corpus/$t" > "fuzz_$t.log" 2>&1) || rc=$?
  grep -E "^#[0-9]+.*DONE|stat::number_of_executed_units|ERROR:|SUMMARY:|crash-|timeout-|oom-" "$build/fuzz_$t.log" || true
  if [ "$rc" -ne 0 ]; then
    # The stack and the input's name, so that a CI log alone says where to look.
    echo "fuzz_$t: a finding (exit $rc); the end of its log ($build/fuzz_$t.log):" >&2
    tail -n 40 "$build/fuzz_$t.log" | cut -c1-300 >&2
    exit 1
  fi
done
