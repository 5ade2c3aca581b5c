#!/usr/bin/env bash
# End to end on the CPU: pack a Fashion-MNIST subset, train alexnet-mini split across two CPU
# towers, check what the run directory holds, evaluate it (>= 80% top-1 accuracy), evaluate the
# same checkpoint placed on one device (identical predictions), and read the TensorBoard events
# with TensorBoard's own reader where the tensorboard package is installed.
#   train_fashion.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
alexnet=$1 python=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
net="$here/../../experiments/alexnet-mini.toml"
rm -rf "$work" && mkdir -p "$work"
"$alexnet" pack --source fashion-mnist --per-class 1000 --output "$work/fashion.h5" --no-progress
"$alexnet" train --net "$net" --data "$work/fashion.h5" --placement split --devices cpu --batch 100 --epochs 5 \
  --lr 0.05 --out "$work/run" --progress false --log-every 20
for f in config.toml manifest.json metrics/steps.csv metrics/epochs.csv; do
  [ -s "$work/run/$f" ] || { echo "missing $f in the run directory"; exit 1; }
done
ls "$work"/run/logs/alexnet.* >/dev/null
ls "$work"/run/tensorboard/events.out.tfevents.* >/dev/null
ls "$work"/run/checkpoints/step-*.h5 >/dev/null
grep -q '"command_line": "alexnet train' "$work/run/manifest.json"
grep -q '"hdf5"' "$work/run/manifest.json"

"$alexnet" eval --checkpoint "$work/run" --data "$work/fashion.h5" --predictions "$work/split.csv" | tee "$work/eval.txt"
error=$(sed -n 's/.*top-1 error \([0-9.]*\)%.*/\1/p' "$work/eval.txt")
awk -v e="$error" 'BEGIN { if (e + 0 > 20.0) { print "top-1 error " e "% is above 20%"; exit 1 } }'

"$alexnet" eval --checkpoint "$work/run" --data "$work/fashion.h5" --placement single --predictions "$work/single.csv"
# Same classes for every image, and probabilities equal to float tolerance.
"$python" - "$work/split.csv" "$work/single.csv" <<'PY'
import csv, sys
a = list(csv.DictReader(open(sys.argv[1])))
b = list(csv.DictReader(open(sys.argv[2])))
assert len(a) == len(b) == 10000, (len(a), len(b))
for x, y in zip(a, b):
    assert x["index"] == y["index"] and x["top1"] == y["top1"], (x, y)
    assert abs(float(x["probability1"]) - float(y["probability1"])) < 1e-4, (x, y)
print("split and single predictions agree on", len(a), "images")
PY

# Logits (eval --logits): a NumPy file whose argmax is each image's predicted class.
"$alexnet" eval --checkpoint "$work/run" --data "$work/fashion.h5" --logits "$work/logits.npy" > /dev/null
"$python" - "$work/logits.npy" "$work/split.csv" <<'PY'
import csv, sys
import numpy as np
z = np.load(sys.argv[1])
rows = list(csv.DictReader(open(sys.argv[2])))
assert z.shape == (10000, 10) and z.dtype == np.float32, (z.shape, z.dtype)
assert all(int(r["top1"]) == z[int(r["index"])].argmax() for r in rows)
print("logits.npy", z.shape, "agrees with the predictions")
PY

# TensorBoard's own reader, where the package is installed (pip install tensorboard).
for py in "$python" python3; do
  if "$py" -c "import tensorboard" 2>/dev/null; then
    "$py" - "$work/run/tensorboard" <<'PY'
import sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1])
acc.Reload()
tags = acc.Tags()["scalars"]
for t in ["train/loss", "train/top1_error", "train/top5_error", "train/lr", "train/images_per_s",
          "train/data_wait_s", "val/top1_error", "val/top5_error"]:
    assert t in tags, (t, tags)
loss = acc.Scalars("train/loss")
assert len(loss) >= 10 and loss[-1].value < loss[0].value, [e.value for e in loss]
print("tensorboard reads", len(tags), "scalar tags,", len(loss), "loss points")
PY
    exit 0
  fi
done
echo "tensorboard check skipped: the tensorboard package is not installed (pip install tensorboard)"
