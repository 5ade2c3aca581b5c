#!/usr/bin/env bash
# A full disk, played by a 3 MiB tmpfs: training, `pack` and the metrics writers each end with one
# message naming the file and "No space left on device", exit status 1, no *.partial left behind,
# and every checkpoint that remains loads (never a half-written file that --resume would trust).
#   full_disk.sh ALEXNET WORKDIR
# Skips (77) where mounting a tmpfs is not permitted or Fashion-MNIST is not installed.
set -euo pipefail
alexnet=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
net="$here/../../experiments/alexnet-mini.toml"
disk=$work/disk
if mountpoint -q "$disk" 2> /dev/null; then umount "$disk"; fi
rm -rf "$work" && mkdir -p "$disk"
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "skipped: Debian's dataset-fashion-mnist is not installed (tools/setup.sh installs it)"
  exit 77
fi
if ! mount -t tmpfs -o size=3m tmpfs "$disk" 2> "$work/mount.err"; then
  echo "skipped: cannot mount a tmpfs here: $(cat "$work/mount.err")"
  exit 77
fi
trap 'umount "$disk"' EXIT

"$alexnet" pack --source fashion-mnist --per-class 40 --output "$work/small.h5" --no-progress
common=(--net "$net" --data "$work/small.h5" --placement split --devices cpu --batch 50 --progress false
        --loader-threads 2)

# Runs a command expected to fail on the full disk: exit status 1, and a message naming a file
# under the disk and the reason.
expect_full() {
  local name=$1
  shift
  set +e
  "$@" > "$work/$name.out" 2> "$work/$name.err"
  local rc=$?
  set -e
  cat "$work/$name.err"
  [ "$rc" -eq 1 ] || { echo "$name: exit status $rc, expected 1"; exit 1; }
  grep -q "$disk/.*No space left on device" "$work/$name.err" ||
    { echo "$name: no message naming a file on the disk and 'No space left on device'"; exit 1; }
  ! grep -q "Segmentation\|HDF5-DIAG" "$work/$name.err" || { echo "$name: crashed or leaked HDF5's errors"; exit 1; }
  local partial
  partial=$(find "$disk" -name '*.partial')
  [ -z "$partial" ] || { echo "$name: left behind $partial"; exit 1; }
}

# Every checkpoint left on the disk loads and evaluates.
checkpoints_load() {
  local n=0
  for ckpt in "$disk"/run/checkpoints/step-*.h5; do
    [ -e "$ckpt" ] || continue
    "$alexnet" eval --checkpoint "$ckpt" --net "$net" --data "$work/small.h5" --devices cpu > /dev/null ||
      { echo "$ckpt does not load"; exit 1; }
    n=$((n + 1))
  done
  echo "$n checkpoints left on the disk load"
}

# (a) Training until the checkpoints fill the disk.
expect_full train "$alexnet" train "${common[@]}" --epochs 40 --log-every 1 --keep-checkpoints 100 --out "$disk/run"
grep -q "cannot write the checkpoint\|cannot write metrics\|cannot write TensorBoard" "$work/train.err"
checkpoints_load

# (c) The metrics writers on a disk with no room left: resume with the last checkpoint and nothing
# free; the first event or CSV row cannot be written.
ckpts=("$disk"/run/checkpoints/step-*.h5)
if [ -e "${ckpts[0]}" ]; then
  dd if=/dev/zero of="$disk/filler" bs=4k 2> /dev/null || true
  expect_full metrics "$alexnet" train --resume "$disk/run" --log-every 1
  grep -q "cannot write metrics\|cannot write TensorBoard events" "$work/metrics.err" ||
    { echo "metrics: the message does not say the metrics could not be written"; exit 1; }
  checkpoints_load
else
  echo "metrics: no checkpoint fitted on the disk; (c) not run"
  exit 1
fi

# (b) A pack larger than the disk (all of Fashion-MNIST, 55 MB of pixels): nothing written.
rm -rf "${disk:?}"/*
expect_full pack "$alexnet" pack --source fashion-mnist --output "$disk/fm.h5" --no-progress
[ ! -e "$disk/fm.h5" ] || { echo "pack: left $disk/fm.h5"; exit 1; }
grep -q "$disk/fm.h5" "$work/pack.err" || { echo "pack: the message does not name the output"; exit 1; }

echo "full disk: train, metrics and pack each exit 1 naming the file, no .partial left, the checkpoints load"
