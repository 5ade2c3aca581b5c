#!/usr/bin/env bash
# SIGINT or SIGTERM during `alexnet pack` removes OUTPUT.partial, leaves no OUTPUT, says so, and
# exits with 128 + the signal's number.
#   pack_interrupted.sh ALEXNET WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
alexnet=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
require_fashion_mnist
for sig in INT TERM; do
  out=$work/fm-$sig.h5
  # One decoding thread, so the pack lasts long enough to be interrupted mid-split.
  "$alexnet" pack --source fashion-mnist --output "$out" --threads 1 --no-progress 2> "$work/$sig.err" &
  pid=$!
  for _ in $(seq 200); do [ -f "$out.partial" ] && break; sleep 0.02; done
  [ -f "$out.partial" ] || { echo "pack never created $out.partial"; exit 1; }
  kill -"$sig" "$pid"
  set +e
  wait "$pid"
  rc=$?
  set -e
  cat "$work/$sig.err"
  want=$((128 + $(kill -l "$sig")))
  [ "$rc" = "$want" ] || { echo "SIG$sig: exit status $rc, expected $want"; exit 1; }
  [ ! -e "$out.partial" ] || { echo "SIG$sig: $out.partial left behind"; exit 1; }
  [ ! -e "$out" ] || { echo "SIG$sig: $out exists"; exit 1; }
  grep -q "stopped by SIG$sig" "$work/$sig.err" || { echo "SIG$sig: no message naming the signal"; exit 1; }
  grep -q "removed $out.partial" "$work/$sig.err" || { echo "SIG$sig: the message does not name the partial file"; exit 1; }
done
echo "pack interrupted by SIGINT and SIGTERM: partial file removed, status 130 and 143"
