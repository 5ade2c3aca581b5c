#!/usr/bin/env bash
# A checkpoint taken mid-epoch and resumed with a larger --batch stands past the new epoch's last
# batch: --resume refuses it with one message naming the run and exit status 2 (it used to train
# on forever, the epoch's end never reached).
#   resume_past_epoch.sh ALEXNET WORKDIR
set -euo pipefail
alexnet=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
rm -rf "$work" && mkdir -p "$work"
require_fashion_mnist
"$alexnet" pack --source fashion-mnist --per-class 4 --output "$work/small.h5" --no-progress
"$alexnet" train --net "$here/../../experiments/alexnet-mini.toml" --data "$work/small.h5" --devices cpu \
  --batch 4 --epochs 2 --max-steps 5 --progress false --out "$work/run"
set +e
"$alexnet" train --resume "$work/run" --batch 16 --progress false 2> "$work/resume.err"
rc=$?
set -e
cat "$work/resume.err"
[ "$rc" -eq 2 ] || { echo "exit status $rc, expected 2"; exit 1; }
grep -q "$work/run: the checkpoint stands at epoch 1, batch 6, past this run's 2 epochs of 2 batches" "$work/resume.err" ||
  { echo "the message does not say where the checkpoint stands"; exit 1; }
