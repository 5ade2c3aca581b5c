#!/usr/bin/env bash
# The data position of a checkpoint counts images, so a run resumes under another global batch
# (another --batch, or another number of replicas): a mid-epoch checkpoint resumed with a larger
# --batch finishes its epoch where the new batch no longer fits and goes on. A checkpoint that
# stands past the run's epochs (--resume with fewer --epochs) is refused with one message naming
# the run and exit status 2.
#   resume_past_epoch.sh ALEXNET WORKDIR
set -euo pipefail
alexnet=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
rm -rf "$work" && mkdir -p "$work"
require_fashion_mnist
"$alexnet" pack --source fashion-mnist --per-class 4 --output "$work/small.h5" --no-progress
common=(--net "$here/../../experiments/alexnet-mini.toml" --data "$work/small.h5" --devices cpu --progress false)

# 5 steps of 4 images: the checkpoint stands at image 20 of epoch 1.
"$alexnet" train "${common[@]}" --batch 4 --epochs 2 --max-steps 5 --out "$work/run"
"$alexnet" train --resume "$work/run" --batch 16 --max-steps 0 --progress false
last=$(ls "$work/run/checkpoints" | tail -n 1)
grep -q "epoch 2/2: train loss" "$work/run/logs/"alexnet.*INFO* ||
  { echo "the resumed run with --batch 16 did not finish its second epoch"; exit 1; }
echo "resumed at image 20 with --batch 16: finished epoch 2 ($last)"

# 18 steps of 4: into the third epoch; resumed with --epochs 1 the checkpoint stands past the run.
"$alexnet" train "${common[@]}" --batch 4 --epochs 3 --max-steps 18 --out "$work/far"
set +e
"$alexnet" train --resume "$work/far" --epochs 1 --progress false 2> "$work/resume.err"
rc=$?
set -e
cat "$work/resume.err"
[ "$rc" -eq 2 ] || { echo "exit status $rc, expected 2"; exit 1; }
grep -q "$work/far: the checkpoint stands at epoch 3, image .*, past this run's 1 epochs" "$work/resume.err" ||
  { echo "the message does not say where the checkpoint stands"; exit 1; }
echo "a checkpoint past the run's epochs: exit 2 with its place named"
