#!/usr/bin/env bash
# gpu-bundle's run-gpu.sh (tools/run-gpu.sh), the parts a CPU machine can check:
#   - --check-glibc: a version above the host's fails with the message, one below passes, and a
#     bundle whose MANIFEST.txt needs more than the host has stops at that step;
#   - --list lists every step, and their budgets fit the 8 minutes the one-shot check has;
#   - on a fake host whose nvidia-smi lists a GPU the tests cannot see, gpu-layers FAILS (a GPU
#     test that skips there would hide a broken driver) and the summary says why.
#   run_gpu_checks.sh ALEXNET_TESTS WORKDIR
set -euo pipefail
tests=$(realpath "$1") work=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
run_gpu=$repo/tools/run-gpu.sh
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAILED: $*"; exit 1; }

# --- the glibc check alone ---
if out=$("$run_gpu" --check-glibc 99.1); then fail "--check-glibc 99.1 passed: $out"; fi
[[ $out == *"older than the 99.1 that the bundle's binaries and libraries need"* ]] || fail "message: $out"
[[ $out == *"glibc >= 99.1"* ]] || fail "no advice in: $out"
out=$("$run_gpu" --check-glibc 2.0) || fail "--check-glibc 2.0 failed: $out"
echo "ok: --check-glibc ($(getconf GNU_LIBC_VERSION))"

# --- the list: every step, within the 8 minutes ---
dry=$("$run_gpu" --list "$work/dry")
steps="glibc unpack libraries versions relocated gpu-layers gpu-net paper-net deterministic memcheck initcheck
  nccl ranks-nccl time-split time-single torch-fp32 torch-tf32 cudnn-parts"
for s in $steps; do
  grep -q "^$s " <<< "$dry" || fail "--list does not list $s:"$'\n'"$dry"
done
sum=$(sed -n 's/^sum of the budgets: \([0-9]*\) s.*/\1/p' <<< "$dry")
pack=$(sed -n 's/.*then at most \([0-9]*\) s to pack.*/\1/p' <<< "$dry")
if [ -z "$sum" ] || [ -z "$pack" ]; then fail "no sum of budgets in:"$'\n'"$dry"; fi
[ $((sum + pack)) -lt 480 ] || fail "the budgets add up to $((sum + pack)) s, not under 8 minutes"
[ ! -e "$work/dry" ] || fail "--list made its logs folder"
echo "ok: --list lists $(wc -w <<< "$steps") steps, $sum s of budgets + $pack s to pack"

# --- a fake bundle on a fake GPU host ---
bundle=$work/bundle
mkdir -p "$bundle/bin" "$bundle/empty" "$work/fakebin"
cp "$run_gpu" "$bundle/"
mkdir -p "$bundle/experiments/bench" && cp "$repo/experiments/bench/compare_torch.py" "$bundle/experiments/bench/"
ln -s "$tests" "$bundle/bin/alexnet_tests"
printf '#!/bin/sh\necho "alexnet (a stand-in)"\n' > "$bundle/bin/alexnet" && chmod +x "$bundle/bin/alexnet"
tar -C "$bundle/empty" -cJf "$bundle/lib.tar.xz" .
: > "$bundle/cuda-libs.txt"
echo "glibc needed: 2.0 (a test)" > "$bundle/MANIFEST.txt"
# nvidia-smi that lists one GPU the CUDA runtime here cannot see.
# shellcheck disable=SC2016  # $1 is the fake's own argument
printf '#!/bin/sh\n[ "$1" = -L ] && echo "GPU 0: NVIDIA H200 (UUID: GPU-fake)"\nexit 0\n' > "$work/fakebin/nvidia-smi"
chmod +x "$work/fakebin/nvidia-smi"
export PATH=$work/fakebin:$PATH TMPDIR=$work
if "$bundle/run-gpu.sh" "$work/logs" > "$work/run.log" 2>&1; then fail "run-gpu.sh passed on the fake host"; fi
summary=$(cat "$work/logs/summary.txt")
grep -q "gpu-layers *FAILED: nvidia-smi lists 1 GPU(s), but [0-9]* GPU test run(s) skipped: no CUDA device is visible" \
  <<< "$summary" || fail "gpu-layers did not fail on skips:"$'\n'"$summary"
grep -q "^=== summary .*FAILED: a required step is not ok" <<< "$summary" || fail "the verdict is not FAILED:"$'\n'"$summary"
grep -q "glibc *ok" <<< "$summary" || fail "the glibc step did not pass:"$'\n'"$summary"
echo "ok: skipped GPU tests fail the run where nvidia-smi lists a GPU"

# --- the same bundle needing a newer glibc than the host's: stops at once ---
echo "glibc needed: 99.1 (libfake.so imports nothing@GLIBC_99.1)" > "$bundle/MANIFEST.txt"
if "$bundle/run-gpu.sh" "$work/logs-glibc" > "$work/run-glibc.log" 2>&1; then fail "ran on too old a glibc"; fi
grep -q "glibc *FAILED" "$work/logs-glibc/summary.txt" || fail "no glibc failure in the summary"
grep -q "libfake.so imports nothing@GLIBC_99.1" "$work/run-glibc.log" || fail "the message names no library"
[ ! -e "$work/logs-glibc/gpu-layers.log" ] || fail "steps ran after the glibc check failed"
echo "ok: a bundle needing glibc 99.1 stops at the glibc step"
