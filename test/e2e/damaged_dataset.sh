#!/usr/bin/env bash
# A dataset image damaged on disk (bytes of its chunk inverted): training stops with one message
# naming the split and the image, exit status 2, the last checkpoint untouched; with
# --skip-bad-images it trains past it, logs it and counts it in metrics/epochs.csv.
#   damaged_dataset.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"
"$alexnet" pack --source fashion-mnist --per-class 40 --output "$work/small.h5" --no-progress
"$alexnet" info --data "$work/small.h5" | grep "format version 2" >/dev/null
common=(--net "$net" --data "$work/small.h5" --placement split --devices cpu --batch 50 --progress false
        --loader-threads 2)
"$alexnet" train "${common[@]}" --epochs 1 --out "$work/run"
ckpt=$(ls "$work"/run/checkpoints/step-*.h5)
before=$(md5sum "$ckpt")

# Invert four bytes in the middle of train image 5's chunk.
"$python" - "$work/small.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    info = f["train/images"].id.get_chunk_info_by_coord((5, 0, 0, 0))
with open(sys.argv[1], "r+b") as raw:
    raw.seek(info.byte_offset + info.size // 2)
    b = raw.read(4)
    raw.seek(info.byte_offset + info.size // 2)
    raw.write(bytes(255 - x for x in b))
PY

set +e
"$alexnet" train --resume "$work/run" --epochs 2 2> "$work/stop.err"
rc=$?
set -e
cat "$work/stop.err"
[ "$rc" -eq 2 ] || { echo "a damaged image: exit status $rc, expected 2"; exit 1; }
grep -q "small.h5: image 5 of split 'train' cannot be read: data error detected by Fletcher32 checksum" "$work/stop.err"
grep -q -- "--skip-bad-images" "$work/stop.err"
! grep -q "HDF5-DIAG" "$work/stop.err" || { echo "HDF5's error stack reached the terminal"; exit 1; }
[ "$(md5sum "$ckpt")" = "$before" ] && [ "$(ls "$work"/run/checkpoints)" = "$(basename "$ckpt")" ] ||
  { echo "the checkpoint changed"; exit 1; }

"$alexnet" train --resume "$work/run" --epochs 2 --skip-bad-images 2> "$work/skip.err"
cat "$work/skip.err"
grep -q "image 5 of split 'train'.*skipped (--skip-bad-images)" "$work/skip.err"
head -1 "$work/run/metrics/epochs.csv" | grep ",bad_images," >/dev/null
[ "$(awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "bad_images") c = i} NR == 3 {print $c}' \
     "$work/run/metrics/epochs.csv")" = 1 ] ||
  { echo "epoch 2 does not count one bad image:"; cat "$work/run/metrics/epochs.csv"; exit 1; }
echo "damaged image: stopped with exit 2 naming it, checkpoint untouched; skipped and counted with --skip-bad-images"
