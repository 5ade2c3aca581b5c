#!/usr/bin/env bash
# Resuming is bit-exact on the CPU: a run stopped mid-epoch (by --max-steps, and by SIGINT) and
# resumed ends with the same weights and momentum, bit for bit, as one that ran straight through.
# Also: a NaN loss stops the run with a message naming the step, keeping the last checkpoint.
#   resume.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
alexnet=$1 python=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
net="$here/../../experiments/alexnet-mini.toml"
rm -rf "$work" && mkdir -p "$work"
"$alexnet" pack --source fashion-mnist --per-class 40 --output "$work/small.h5" --no-progress
common=(--net "$net" --data "$work/small.h5" --placement split --devices cpu --batch 50 --progress false
        --log-every 1 --loader-threads 2)

"$alexnet" train "${common[@]}" --epochs 2 --out "$work/straight"
"$alexnet" train "${common[@]}" --epochs 2 --out "$work/stopped" --max-steps 11
"$alexnet" train --resume "$work/stopped" --max-steps 0

# SIGINT during a run writes a checkpoint and exits cleanly; resuming finishes the run.
"$alexnet" train "${common[@]}" --epochs 40 --out "$work/interrupted" &
pid=$!
for _ in $(seq 600); do
  if [ -f "$work/interrupted/metrics/steps.csv" ] && [ "$(wc -l < "$work/interrupted/metrics/steps.csv")" -ge 4 ]; then
    break
  fi
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
ls "$work"/interrupted/checkpoints/step-*.h5 > /dev/null
"$alexnet" train --resume "$work/interrupted" --epochs 2 --max-steps 0

"$python" - "$work/straight" "$work/stopped" "$work/interrupted" <<'PY'
import glob, sys
import h5py, numpy as np
def last(run):
    return sorted(glob.glob(run + "/checkpoints/step-*.h5"))[-1]
a = h5py.File(last(sys.argv[1]), "r")
for other in sys.argv[2:]:
    b = h5py.File(last(other), "r")
    assert a.attrs["step"] == b.attrs["step"], (a.attrs["step"], b.attrs["step"])
    for group in ("params", "momentum"):
        for name in a[group]:
            x, y = a[group][name][:], b[group][name][:]
            assert x.shape == y.shape and np.array_equal(x, y), (other, group, name, np.abs(x - y).max())
    print(other, ": bit-identical to the uninterrupted run at step", a.attrs["step"])
PY

# The ten-view test on the same checkpoint, and its predictions file.
"$alexnet" eval --checkpoint "$work/straight" --data "$work/small.h5" --views 10 --predictions "$work/ten.csv" | tee "$work/ten.txt"
grep -q "on 400 test images (10 views, split): top-1 error" "$work/ten.txt"
[ "$(wc -l < "$work/ten.csv")" -eq 401 ]
head -1 "$work/ten.csv" | grep "index,label,top1,name1,probability1" >/dev/null

# A NaN loss: exit status 1, the step named, the last good checkpoint kept.
set +e
"$alexnet" train "${common[@]}" --epochs 2 --lr 1e9 --out "$work/nan" 2> "$work/nan.err"
rc=$?
set -e
cat "$work/nan.err"
[ "$rc" -eq 1 ] || { echo "expected exit status 1 for a NaN loss, got $rc"; exit 1; }
grep -q "at step [0-9]*" "$work/nan.err"
