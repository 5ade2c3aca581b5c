#!/usr/bin/env bash
# alexnet show and alexnet eval --features on a small run: a colourised pack (reproducible), one
# short training run, the three PNGs and the colour statistic, features numpy reads with the right
# shape, and bad input (exit 2, nothing written).
#   show.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"
cd "$work"
pack() { "$alexnet" pack --source fashion-mnist --per-class 30 --val 50 --no-progress --output "$@"; }
pack colour.h5 --colourise 5
pack colour-again.h5 --colourise 5
pack colour-other.h5 --colourise 6
pack grey.h5
# Same seed, same pixels; another seed, other colours.
if "$python" -c "import h5py" 2> /dev/null; then
  "$python" - << 'PY'
import h5py, numpy as np
a, b, c = (h5py.File(f, "r") for f in ("colour.h5", "colour-again.h5", "colour-other.h5"))
for split in ("train", "val", "test"):
    assert a[split]["images"].shape[-1] == 3, a[split]["images"].shape
    assert np.array_equal(a[split]["images"][:], b[split]["images"][:]), split
    assert not np.array_equal(a[split]["images"][:], c[split]["images"][:]), split
print("colourise: the same seed gives the same images")
PY
fi
train() {
  "$alexnet" train --net "$net" --data "$1" --out "$2" --epochs 1 --batch 50 --lr 0.02 --devices cpu \
    --threads 1 --loader-threads 1 --progress false --log-every 2 > /dev/null 2>&1
}
train colour.h5 run
train grey.h5 grey-run

"$alexnet" show run --images 5 --neighbours 4 --train-images 200 > show.txt
cat show.txt
for f in conv1.png predictions.png neighbours.png colour.csv; do
  [ -s "run/show/$f" ] || { echo "show wrote no $f"; exit 1; }
done
grep -q "tower 1 (kernels 16-31)" show.txt || { echo "no colour statistic for tower 1"; exit 1; }
"$python" - << 'PY'
import csv
rows = list(csv.DictReader(open("run/show/colour.csv")))
assert [r["tower"] for r in rows] == ["0", "1"], rows
assert all(0 <= float(r["colour"]) <= 1 for r in rows), rows
PY
# PNG sizes: conv1 has two panels of 16 kernels (two rows of 8 each).
"$python" - << 'PY'
import struct
for name in ("conv1", "predictions", "neighbours"):
    head = open(f"run/show/{name}.png", "rb").read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", name
    w, h = struct.unpack(">II", head[16:24])
    print(name, w, h)
    assert w > 100 and h > 100, (name, w, h)
PY

# One channel: the statistic says so; conv1 only.
"$alexnet" show grey-run --pictures conv1 --output grey-show > grey.txt
grep -q "n/a: one channel" grey.txt || { echo "one-channel data should say n/a"; cat grey.txt; exit 1; }
[ -s grey-show/conv1.png ] && [ ! -e grey-show/predictions.png ] && [ ! -e grey-show/colour.csv ]

# Features: any node, centre crop, float32 [images, shape...].
"$alexnet" eval --checkpoint run --split val --features relu7 relu7.npy > /dev/null
"$alexnet" eval --checkpoint run --split val --features pool5 pool5.npy > /dev/null
"$python" - << 'PY'
import numpy as np
a = np.load("relu7.npy")
assert a.dtype == np.float32 and a.shape == (50, 256), (a.dtype, a.shape)
assert (a >= 0).all() and a.any()
b = np.load("pool5.npy")
assert b.dtype == np.float32 and b.shape[:2] == (50, 64) and b.ndim == 4, b.shape
print("features:", a.shape, b.shape)
PY

# Bad input: exit 2, one message, nothing written.
expect_2() {
  local want=$1; shift
  set +e
  "$@" > out.txt 2>&1
  local rc=$?
  set -e
  [ $rc = 2 ] || { echo "exit $rc, not 2: $*"; cat out.txt; exit 1; }
  grep -q -- "$want" out.txt || { echo "no '$want' in:"; cat out.txt; exit 1; }
}
expect_2 "its nodes: conv1" "$alexnet" eval --checkpoint run --features fc9 x.npy
[ ! -e x.npy ]
expect_2 "takes a node and a file" "$alexnet" eval --checkpoint run --features relu7
expect_2 "its nodes: conv1" "$alexnet" show run --feature-node fc9 --output bad1
expect_2 "unknown picture" "$alexnet" show run --pictures conv2 --output bad2
expect_2 "no such checkpoint" "$alexnet" show nothing.h5 --data colour.h5 --output bad3
expect_2 "has no split" "$alexnet" show run --split nope --output bad4
expect_2 "--images must be" "$alexnet" show run --images 0 --output bad5
for d in bad1 bad2 bad3 bad4 bad5; do [ ! -e $d ] || { echo "$d was written"; exit 1; }; done
echo "show: all checks passed"
