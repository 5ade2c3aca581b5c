#!/usr/bin/env bash
# The main job, from nothing: installs what is missing, builds, packs Fashion-MNIST from Debian's
# dataset-fashion-mnist, trains alexnet-mini split across two towers and on one device (single),
# evaluates both, and prints their comparison and the split run's per-layer timing. Everything
# is left under runs/quickstart-<time>/. On a 2-core machine it takes about 13 minutes after
# set-up. SPLIT_EPOCHS and SINGLE_EPOCHS change how long each run trains.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
build=${BUILD_DIR:-build}
alexnet="$build/alexnet"
run_file=experiments/runs/mini-fashion.toml
data=data/fashion-mnist.h5
split_epochs=${SPLIT_EPOCHS:-5}
single_epochs=${SINGLE_EPOCHS:-1}

mkdir -p data runs
if [ ! -f "$data" ]; then
  "$alexnet" pack --source fashion-mnist --output "$data"
fi
root=runs/quickstart-$(date +%Y%m%d-%H%M%S)
echo "== training alexnet-mini, split over two CPU towers, $split_epochs epochs -> $root/split"
"$alexnet" train --config "$run_file" --data "$data" --placement split --epochs "$split_epochs" --out "$root/split"
echo "== training alexnet-mini, single (one device, groups = 2), $single_epochs epochs -> $root/single"
"$alexnet" train --config "$run_file" --data "$data" --placement single --epochs "$single_epochs" --out "$root/single"

for p in split single; do
  "$alexnet" eval --checkpoint "$root/$p" --data "$data" --predictions "$root/$p/predictions.csv" | tee "$root/$p/eval.txt"
done
"$alexnet" eval --checkpoint "$root/split" --data "$data" --views 10 | tee "$root/split/eval-10-views.txt"
"$alexnet" time --config "$run_file" --placement split --iterations 5 --write "$root/split" > /dev/null
"$alexnet" time --config "$run_file" --placement single --iterations 5 --write "$root/single" > /dev/null

accuracy() { sed -n 's/.*top-1 error \([0-9.]*\)%.*/\1/p' "$1" | awk '{printf "%.2f%%", 100 - $1}'; }
# Column n of epochs.csv in the row of epoch e (empty when the run had fewer epochs).
at_epoch() { awk -F, -v e="$2" -v c="$3" 'NR > 1 && $1 == e {print $c}' "$1/metrics/epochs.csv"; }
mean_rate() { awk -F, 'NR > 1 {s += $8; n++} END {if (n) printf "%.0f", s / n}' "$1/metrics/epochs.csv"; }
echo
echo "== alexnet-mini on Fashion-MNIST (val = the 10,000 test images), CPU"
printf '%-34s %-18s %-18s\n' "" "split (2 towers)" "single (1 device)"
printf '%-34s %-18s %-18s\n' "epochs trained" "$split_epochs" "$single_epochs"
printf '%-34s %-18s %-18s\n' "test accuracy (centre crop)" "$(accuracy "$root/split/eval.txt")" "$(accuracy "$root/single/eval.txt")"
printf '%-34s %-18s %-18s\n' "test accuracy (ten views)" "$(accuracy "$root/split/eval-10-views.txt")" "-"
for e in $(seq 1 "$single_epochs"); do
  a=$(at_epoch "$root/split" "$e" 5) b=$(at_epoch "$root/single" "$e" 5)
  printf '%-34s %-18s %-18s\n' "test accuracy after epoch $e" "$(awk -v x="$a" 'BEGIN{printf "%.2f%%", 100 * (1 - x)}')" \
    "$(awk -v x="$b" 'BEGIN{printf "%.2f%%", 100 * (1 - x)}')"
done
printf '%-34s %-18s %-18s\n' "training images/s (mean of epochs)" "$(mean_rate "$root/split")" "$(mean_rate "$root/single")"
echo
cat "$root/split/timing.txt"
echo
echo "runs, metrics (CSV, TensorBoard), checkpoints, predictions and timing are in $root/"
