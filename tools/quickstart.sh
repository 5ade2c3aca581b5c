#!/usr/bin/env bash
# The main job, from nothing: installs what is missing, builds the `alexnet` binary, packs
# Fashion-MNIST from Debian's dataset-fashion-mnist (train 55,000, val 5,000 held out of the
# training images, test the official 10,000), trains alexnet-mini split across two towers and on
# one device (single) for the same epochs from the same seed, evaluates both on the test images,
# and prints their per-epoch agreement, the split run's per-layer timing, each stage's wall time
# and the commands to run next. Everything is left under runs/quickstart-<time>/.
# EPOCHS (default: the run file's) changes how long each run trains.
set -euo pipefail
cd "$(dirname "$0")/.."
# Where no GPU driver is present the CUDA objects could never run: build the CPU backend alone,
# in a folder of its own (build-cpu/), which spares compiling them (docs/testing.md gives the time).
cuda=()
if [ -z "${BUILD_DIR:-}" ] && [ ! -e /dev/nvidiactl ] && ! command -v nvidia-smi > /dev/null 2>&1; then
  BUILD_DIR=build-cpu
  cuda=(-DALEXNET_CUDA=OFF)
fi
build=${BUILD_DIR:-build}
alexnet="$build/alexnet"
run_file=experiments/runs/mini-fashion.toml
data=data/fashion-mnist.h5
epochs=${EPOCHS:-$(sed -n 's/^epochs *= *\([0-9]*\).*/\1/p' "$run_file")}

stages=()
stage_start=$SECONDS
# stage NAME: records the wall time since the previous stage ended.
stage() {
  stages+=("$(printf '%-34s %4d s' "$1" $((SECONDS - stage_start)))")
  stage_start=$SECONDS
}

tools/setup.sh
stage "set-up (apt)"
BUILD_DIR=$build tools/build.sh --target alexnet "${cuda[@]}"
stage "build (the alexnet binary${cuda[*]:+, CPU backend only})"

mkdir -p data runs
# A file packed before val was held out of train has no test split: pack it again.
if [ ! -f "$data" ] || ! "$alexnet" info --data "$data" | grep '^test ' >/dev/null; then
  "$alexnet" pack --source fashion-mnist --output "$data" --force
fi
"$alexnet" info --data "$data"
stage "pack Fashion-MNIST"

root=runs/quickstart-$(date +%Y%m%d-%H%M%S)
mkdir -p "$root"
# The two runs train side by side, each on half the cores: on 2 cores that beat one after the
# other by a fifth (one thread each: 179 + 170 images/s; one run on both threads: 271; measured
# with OpenBLAS's SSE3 kernels, before alexnet chose its AVX-512 ones).
threads=$(($(nproc) / 2))
common=(--config "$run_file" --data "$data" --epochs "$epochs")
if [ "$threads" -ge 1 ]; then
  echo "== training alexnet-mini for $epochs epochs, split (two towers) and single (one device) side by side,"
  echo "   $threads thread(s) each; single's progress is in $root/single.log"
  "$alexnet" train "${common[@]}" --placement single --threads "$threads" --progress false \
    --out "$root/single" > "$root/single.log" 2>&1 &
  single_pid=$!
  trap 'kill "$single_pid" 2>/dev/null || true' EXIT
  "$alexnet" train "${common[@]}" --placement split --threads "$threads" --out "$root/split"
  wait "$single_pid" || { tail -5 "$root/single.log"; echo "the single run failed: $root/single.log"; exit 1; }
  trap - EXIT
else
  for p in split single; do "$alexnet" train "${common[@]}" --placement "$p" --out "$root/$p"; done
fi
stage "train split and single ($epochs epochs)"
evals=()
for p in split single; do
  "$alexnet" eval --checkpoint "$root/$p" --data "$data" --split test --predictions "$root/$p/predictions.csv" \
    --threads "$((threads > 0 ? threads : 1))" > "$root/$p/eval.txt" &
  evals+=($!)
done
for pid in "${evals[@]}"; do wait "$pid"; done
cat "$root/split/eval.txt" "$root/single/eval.txt"
stage "evaluate on test (centre crop)"
"$alexnet" time --config "$run_file" --placement split --iterations 5 --write "$root/split" > /dev/null
stage "per-layer timing (5 steps)"

accuracy() { sed -n 's/.*top-1 error \([0-9.]*\)%.*/\1/p' "$1" | awk '{printf "%.2f%%", 100 - $1}'; }
# Column c of epochs.csv in the row of epoch e.
at_epoch() { awk -F, -v e="$2" -v c="$3" 'NR > 1 && $1 == e {print $c}' "$1/metrics/epochs.csv"; }
mean_rate() { awk -F, 'NR > 1 {s += $8; n++} END {if (n) printf "%.0f", s / n}' "$1/metrics/epochs.csv"; }
row() { printf '%-34s %-18s %-18s %s\n' "$@"; }
echo
echo "== alexnet-mini on Fashion-MNIST, CPU, $epochs epochs each, seed $(sed -n 's/^seed *= *//p' "$run_file")"
echo "   split and single compute the same function: their gap is float-order drift, not a different model"
row "" "split (2 towers)" "single (1 device)" "split - single"
for e in $(seq 1 "$epochs"); do
  a=$(at_epoch "$root/split" "$e" 5) b=$(at_epoch "$root/single" "$e" 5)
  row "val error after epoch $e" "$(awk -v x="$a" 'BEGIN{printf "%.2f%%", 100 * x}')" \
    "$(awk -v x="$b" 'BEGIN{printf "%.2f%%", 100 * x}')" "$(awk -v x="$a" -v y="$b" 'BEGIN{printf "%+.2f points", 100 * (x - y)}')"
done
row "test accuracy (centre crop)" "$(accuracy "$root/split/eval.txt")" "$(accuracy "$root/single/eval.txt")" ""
row "training images/s (side by side)" "$(mean_rate "$root/split")" "$(mean_rate "$root/single")" ""
echo
cat "$root/split/timing.txt"
echo
echo "== wall time per stage"
printf '%s\n' "${stages[@]}"
printf '%-34s %4d s\n' "total" "$SECONDS"
echo
cat <<EOF
== runs, metrics (CSV, TensorBoard), checkpoints, predictions and timing are in $root/
Next:
  # the paper's ten-view test (four corners, centre, and their mirror images)
  $alexnet eval --checkpoint $root/split --data $data --views 10
  # a report with the runs' curves and per-layer timing (markdown and PNG)
  tools/report $root/split $root/single --out $root/report
  # per-layer timing of the paper's full net (227x227, 1000 classes); on GPUs add --devices cuda:0,cuda:1
  $alexnet time --net experiments/alexnet.toml --placement split --batch 16 --iterations 3 --devices cpu
  # the same run on two GPUs (a CUDA build: tools/build.sh on a machine with the CUDA toolkit)
  $alexnet train --config $run_file --data $data --devices cuda:0,cuda:1 --out runs/mini-gpu
  # the paper's recipe on ImageNet (pack the ILSVRC-2012 folders first: docs/experiments.md)
  $alexnet train --config experiments/runs/paper.toml --out runs/paper
  # one process per tower (the same function, bit for bit, as the split run above): on this machine
  $alexnet launch --nproc 2 -- train --config $run_file --data $data --devices cpu --threads 1 --out runs/mini-2proc
  # two data-parallel replicas of the split (4 processes; --batch is per replica), under mpirun
  mpirun --allow-run-as-root --oversubscribe -np 4 -x MASTER_ADDR=127.0.0.1 -x MASTER_PORT=29500 \
    $alexnet train --config $run_file --data $data --devices cpu --threads 1 --batch 64 --out runs/mini-4proc
EOF
