#!/usr/bin/env bash
# A full disk: training, `pack` and the metrics writers each end with one message naming the file
# and the system's reason, exit status 1, no *.partial left behind, and every checkpoint that
# remains loads (never a half-written file that --resume would trust).
# The disk is a 3 MiB tmpfs ("No space left on device"); where mounting one is not permitted, or
# with FULL_DISK_MODE=ulimit, a file-size limit plays it: `ulimit -f` with SIGXFSZ ignored, so that
# a write past the limit fails with EFBIG ("File too large") as one past a full disk fails with
# ENOSPC. That limit holds per file, so there the checkpoints meant to stay are written first
# without it, and the run is then resumed under a limit of half a checkpoint.
#   full_disk.sh ALEXNET WORKDIR    (FULL_DISK_MODE: unset tries tmpfs, then ulimit; tmpfs; ulimit)
# Skips (77) where Fashion-MNIST is not installed, or FULL_DISK_MODE=tmpfs and mounting fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
alexnet=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
net="$here/../../experiments/alexnet-mini.toml"
disk=$work/disk
mode=${FULL_DISK_MODE:-}
case $mode in "" | tmpfs | ulimit) ;; *) echo "FULL_DISK_MODE is tmpfs or ulimit, not '$mode'"; exit 2 ;; esac
if mountpoint -q "$disk" 2> /dev/null; then umount "$disk"; fi
rm -rf "$work" && mkdir -p "$disk"
require_fashion_mnist
if [ "$mode" != ulimit ]; then
  if mount -t tmpfs -o size=3m tmpfs "$disk" 2> "$work/mount.err"; then
    mode=tmpfs
    trap 'umount "$disk"' EXIT
  elif [ "$mode" = tmpfs ]; then
    echo "skipped: cannot mount a tmpfs here: $(cat "$work/mount.err")"
    exit 77
  else
    echo "cannot mount a tmpfs here ($(cat "$work/mount.err")); a file-size limit plays the full disk"
    mode=ulimit
  fi
fi
if [ "$mode" = tmpfs ]; then reason="No space left on device"; else reason="File too large"; fi
echo "full disk played by: $mode"

# Runs "$@" writing onto the disk: in ulimit mode with every file it writes limited to $1 KiB.
# Its stdout and stderr reach ours through pipes (`cat` is not limited): a file they were
# redirected to would be under the limit too, and the very message under test would be lost.
on_disk() {
  local kib=$1
  shift
  if [ "$mode" = tmpfs ]; then
    "$@"
    return
  fi
  { { (trap '' XFSZ && ulimit -f "$kib" && exec "$@" 3>&-) | cat; } 2>&1 1>&3 3>&- | cat >&2; } 3>&1
}

"$alexnet" pack --source fashion-mnist --per-class 40 --output "$work/small.h5" --no-progress
common=(--net "$net" --data "$work/small.h5" --placement split --devices cpu --batch 50 --progress false
        --loader-threads 2)

# Runs a command expected to fail on the full disk (on_disk KIB COMMAND...): exit status 1, and a
# message naming a file under the disk and the reason.
expect_full() {
  local name=$1
  shift
  set +e
  on_disk "$@" > "$work/$name.out" 2> "$work/$name.err"
  local rc=$?
  set -e
  cat "$work/$name.err"
  [ "$rc" -eq 1 ] || { echo "$name: exit status $rc, expected 1"; exit 1; }
  grep -q "$disk/.*$reason" "$work/$name.err" ||
    { echo "$name: no message naming a file on the disk and '$reason'"; exit 1; }
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

# (a) Training until the checkpoints fill the disk. In ulimit mode: two checkpoints written without
# the limit, then the run resumed under half a checkpoint's size, so that its next one fails.
if [ "$mode" = tmpfs ]; then
  expect_full train 0 "$alexnet" train "${common[@]}" --epochs 40 --log-every 1 --keep-checkpoints 100 --out "$disk/run"
else
  "$alexnet" train "${common[@]}" --epochs 1 --checkpoint-every 4 --log-every 1 --keep-checkpoints 100 --out "$disk/run"
  ckpt=$(ls "$disk"/run/checkpoints/step-*.h5 | tail -1)
  expect_full train $(($(stat -c %s "$ckpt") / 2048)) "$alexnet" train --resume "$disk/run" --epochs 40
fi
if [ "$mode" = tmpfs ]; then
  grep -q "cannot write the checkpoint\|cannot write metrics\|cannot write TensorBoard" "$work/train.err"
else  # the limit is below a checkpoint's size and far above the metrics files'
  grep -q "cannot write the checkpoint" "$work/train.err"
fi
checkpoints_load

# (c) The metrics writers on a disk with no room left: resume with the last checkpoint and nothing
# free; the first event or CSV row cannot be written.
ckpts=("$disk"/run/checkpoints/step-*.h5)
if [ -e "${ckpts[0]}" ]; then
  if [ "$mode" = tmpfs ]; then dd if=/dev/zero of="$disk/filler" bs=4k 2> /dev/null || true; fi
  expect_full metrics 0 "$alexnet" train --resume "$disk/run" --log-every 1
  grep -q "cannot write metrics\|cannot write TensorBoard events" "$work/metrics.err" ||
    { echo "metrics: the message does not say the metrics could not be written"; exit 1; }
  checkpoints_load
else
  echo "metrics: no checkpoint fitted on the disk; (c) not run"
  exit 1
fi

# (b) A pack larger than the disk (all of Fashion-MNIST, 55 MB of pixels): nothing written.
rm -rf "${disk:?}"/*
expect_full pack 3072 "$alexnet" pack --source fashion-mnist --output "$disk/fm.h5" --no-progress
[ ! -e "$disk/fm.h5" ] || { echo "pack: left $disk/fm.h5"; exit 1; }
grep -q "$disk/fm.h5" "$work/pack.err" || { echo "pack: the message does not name the output"; exit 1; }

echo "full disk ($mode): train, metrics and pack each exit 1 naming the file and '$reason', no .partial left, the checkpoints load"
