#!/usr/bin/env bash
# The CI-sized form of experiments/split_vs_single.sh: alexnet-mini on 40 Fashion-MNIST images
# per class (300 to train, 100 held out as val), one epoch per placement. Checks that every variant trained, that split and single
# (the same function) reach the same validation error, and that the report and its plots exist.
#   split_vs_single_quick.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
alexnet=$1 python=$2 work=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
"$alexnet" pack --source fashion-mnist --per-class 40 --val 100 --output "$work/fm.h5" --no-progress
"$repo/experiments/split_vs_single.sh" --out "$work/out" --alexnet "$alexnet" --python "$python" -- \
  --data "$work/fm.h5" --epochs 1 --batch 50 --profile-every 2 --log-every 2 --devices cpu
for v in split single dense; do
  [ -s "$work/out/$v/metrics/epochs.csv" ] || { echo "variant $v did not train"; exit 1; }
  [ -s "$work/out/$v/timing.json" ] || { echo "variant $v has no per-layer timing"; exit 1; }
  grep -q "| $v " "$work/out/report/report.md" || { echo "variant $v missing from the report"; exit 1; }
done
# 6 steps (300 images, batch 50), --profile-every 2: steps 0 and 1 are warm-up (cuDNN's search,
# lazy loading on a GPU) and count nowhere; steps 2 and 4 are profiled, 3 and 5 make the full step.
for v in split single dense; do
  "$python" -c 'import json, sys
t = json.load(open(sys.argv[1]))
assert (t["profiled_steps"], t["full_steps"]) == (2, 2), (sys.argv[1], t["profiled_steps"], t["full_steps"])
assert t["input_copy_ms"] > 0, (sys.argv[1], "the profiled steps time the input copy")' \
    "$work/out/$v/timing.json"
done
# The manifest records each convolution's algorithms per tower and input shape (rewritten after the
# first step), on the CPU its one fixed way.
for v in split single dense; do
  "$python" -c 'import json, sys
m = json.load(open(sys.argv[1]))
towers = m["towers"] if m["placement"] == "split" else 1
convs = {(a["node"], a["tower"]) for a in m["algorithms"] if a["input"][0] == 50}
want = {(n, t) for n in ("conv1", "conv2", "conv3", "conv4", "conv5") for t in range(towers)}
assert convs == want, (sys.argv[1], sorted(convs))
assert all((a["forward"], a["chosen_by"]) == ("im2col+gemm", "fixed") for a in m["algorithms"])
assert m["started_at_step"] == 0' "$work/out/$v/manifest.json"
done
for png in curves.png timing.png conv1-split.png conv1-single.png conv1-dense.png; do
  [ -s "$work/out/report/$png" ] || { echo "report lacks $png"; exit 1; }
  grep -q "$png" "$work/out/report/report.md" || { echo "report.md does not show $png"; exit 1; }
done
# split and single compute the same function from the same seed: same validation error (one
# image of 100 of slack for float order).
val() { awk -F, 'NR == 2 {print $5}' "$work/out/$1/metrics/epochs.csv"; }
awk -v a="$(val split)" -v b="$(val single)" 'BEGIN {
  d = a - b; if (d < 0) d = -d
  if (d > 1.5 / 100) { print "split val error " a " but single " b; exit 1 }
  print "split and single val error: " a ", " b }'
