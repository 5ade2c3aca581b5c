#!/usr/bin/env bash
# The CI-sized form of experiments/relu_vs_tanh.sh: alexnet-mini on 30 Fashion-MNIST images per
# class, one epoch per activation. Checks that the tanh network is the ReLU one with every ReLU
# replaced in place (same layers, same parameters, so the same initial weights), that both
# variants trained, and that the report's "first reaching" table gives the step the metrics show.
#   relu_vs_tanh_quick.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
alexnet=$1 python=$2 work=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
"$alexnet" pack --source fashion-mnist --per-class 30 --output "$work/fm.h5" --no-progress
"$repo/experiments/relu_vs_tanh.sh" --threshold 85 --out "$work/out" --alexnet "$alexnet" --python "$python" -- \
  --data "$work/fm.h5" --epochs 1 --batch 50 --log-every 1 --profile-every 0 --devices cpu --threads 1 \
  --loader-threads 1

# Same nodes and parameter counts, with tanh where relu was and no relu left.
tanh_net=$work/out/networks/tanh.toml
grep -q 'type = "relu"' "$tanh_net" && { echo "tanh.toml still has a ReLU"; exit 1; }
[ "$(grep -c 'type = "tanh"' "$tanh_net")" = 7 ] || { echo "tanh.toml should have 7 tanh layers"; exit 1; }
"$alexnet" info "$repo/experiments/alexnet-mini.toml" > "$work/relu.info"
"$alexnet" info "$tanh_net" | sed 's/^tanh\([0-9]\) *tanh /relu\1 relu /' > "$work/tanh.info"
diff <(sed 's/ \+/ /g; /^network/d' "$work/relu.info") <(sed 's/ \+/ /g; /^network/d' "$work/tanh.info") ||
  { echo "the tanh network differs from alexnet-mini beyond its activations"; exit 1; }

report=$work/out/report/report.md
for v in relu tanh; do
  [ -s "$work/out/$v/metrics/epochs.csv" ] || { echo "variant $v did not train"; exit 1; }
  # The first metrics row at or below the threshold, as images (step x 50), or the run's end.
  want=$(awk -F, 'NR > 1 && $4 * 100 <= 85 {printf "%d", $1 * 50; found = 1; exit}
                  END {if (!found) printf "> %d", last * 50} NR > 1 {last = $1}' "$work/out/$v/metrics/steps.csv")
  want=$(printf "%s" "$want" | sed 's/\([0-9]\)\([0-9]\{3\}\)$/\1,\2/')
  grep -q "^| 85% | $v | $want |" "$report" ||
    { echo "report: $v should first reach 85% at $want images"; grep "| $v |" "$report"; exit 1; }
  grep -q "^| 25% | $v |" "$report" || { echo "report lacks the 25% row of $v"; exit 1; }
done
[ -s "$work/out/report/train_error.png" ] || { echo "report lacks train_error.png"; exit 1; }
grep -q "train_error.png" "$report" || { echo "report.md does not show train_error.png"; exit 1; }
grep "^| 85% |" "$report"
