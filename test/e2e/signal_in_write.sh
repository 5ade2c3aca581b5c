#!/usr/bin/env bash
# SIGINT and SIGTERM that arrive inside a checkpoint write lose nothing: the write finishes, the run
# stops with status 0 (what `alexnet train` documents for a stop by a signal) and says so, the
# checkpoint the signal landed in and the one of the step the run stopped at are complete (they
# load, and equal the uninterrupted run's), no *.partial is left, and --resume to the end gives
# weights, momentum and metrics bit-identical to a run never interrupted. The signals are raised by
# the test-only hook ALEXNET_TEST_SIGNAL_AT (src/core/crash_point.h) at named points inside the
# write, so they land there every time:
#   checkpoint-half: SIGINT, in a --checkpoint-every (mid-epoch) checkpoint
#   before-rename:   SIGTERM, in the same kind
#   both:            SIGTERM at half and SIGINT before the rename, in an epoch-end checkpoint
#   twice:           SIGINT between steps, and a second SIGINT inside the stop checkpoint it asks for
#   setup:           SIGINT inside a fresh run's first write (config.toml), before its first step
# A checkpoint is written on a thread of its own while training goes on, so the run stops at the
# first step boundary after the signal: the checkpoint's own step or a later one (then with a
# checkpoint of that step too). The test reads where each run stopped and aims the next one's
# hooks from there.
#   signal_in_write.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"
require_h5py

# 360 training images in batches of 20: 18 steps an epoch, 36 in the run; checkpoints at steps
# 4, 8, 12, 16, 18 (epoch end), 20, ... 36. The uninterrupted run keeps one of every step.
"$alexnet" pack --source fashion-mnist --per-class 40 --val 40 --output "$work/small.h5" --no-progress
common=(--net "$net" --data "$work/small.h5" --placement split --devices cpu --threads 1 --batch 20
        --epochs 2 --progress false --log-every 1 --loader-threads 1)
"$alexnet" train "${common[@]}" --checkpoint-every 1 --keep-checkpoints 100 --out "$work/straight"
common+=(--checkpoint-every 4)
run=$work/signalled

# nth_checkpoint_after R N: the step of the N-th checkpoint a run resumed at step R writes.
nth_checkpoint_after() {
  local step=$1 n=$2
  while [ "$n" -gt 0 ]; do
    step=$((step + 1))
    [ "$step" -le 36 ] || { echo "no checkpoint $2 after step $1" >&2; exit 1; }
    if [ $((step % 4)) -eq 0 ] || [ "$step" -eq 18 ]; then n=$((n - 1)); fi
  done
  echo "$step"
}
# nth_of R STEP: which checkpoint after R is that of STEP (1 for the first).
nth_of() {
  local n=1
  while [ "$(nth_checkpoint_after "$1" "$n")" -ne "$2" ]; do n=$((n + 1)); done
  echo "$n"
}

# same.py STEP: the run's checkpoint of STEP holds the uninterrupted run's weights and momentum.
cat > "$work/same.py" <<'PY'
import sys
import h5py, numpy as np
straight, run, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File("%s/checkpoints/step-%010d.h5" % (straight, step), "r") as a, \
     h5py.File("%s/checkpoints/step-%010d.h5" % (run, step), "r") as b:
    assert a.attrs["step"] == b.attrs["step"] == step, (a.attrs["step"], b.attrs["step"])
    for group in ("params", "momentum"):
        for name in a[group]:
            x, y = a[group][name][:], b[group][name][:]
            assert x.shape == y.shape and np.array_equal(x, y), (step, group, name, np.abs(x - y).max())
PY

# stopped_by NAME HOOK STEP SIGNALS COMMAND...: COMMAND, with ALEXNET_TEST_SIGNAL_AT=HOOK aimed at
# the checkpoint of STEP, stops cleanly at STEP or a later step (set in $stopped), naming one of
# SIGNALS (a grep pattern), with the checkpoints of STEP and of the stop written whole.
stopped_by() {
  local name=$1 hook=$2 step=$3 signals=$4
  shift 4
  set +e
  ALEXNET_TEST_SIGNAL_AT=$hook "$@" > /dev/null 2> "$work/$name.err"
  local rc=$?
  set -e
  cat "$work/$name.err"
  [ "$rc" -eq 0 ] || { echo "$name: exit status $rc, expected 0"; exit 1; }
  # Every signal of the hook was raised (so each landed where the hook says), and none ended the run.
  local raised
  raised=$(grep -c "ALEXNET_TEST_SIGNAL_AT: raising" "$work/$name.err" || true)
  [ "$raised" -eq "$(tr ',' '\n' <<< "$hook" | wc -l)" ] || { echo "$name: $raised signals raised for $hook"; exit 1; }
  stopped=$(sed -n "s/^alexnet train: stopped by \($signals\) at step \([0-9]*\); checkpoint written.*/\2/p" \
            "$work/$name.err")
  [ -n "$stopped" ] || { echo "$name: no message of a stop by $signals"; exit 1; }
  [ "$stopped" -ge "$step" ] || { echo "$name: stopped at step $stopped, before the signalled checkpoint $step"; exit 1; }
  local ckpt newest partial s
  newest=$(ls "$run"/checkpoints/step-*.h5 | tail -1)
  [ "$newest" = "$(printf "%s/checkpoints/step-%010d.h5" "$run" "$stopped")" ] ||
    { echo "$name: the newest checkpoint is $newest, not that of step $stopped"; exit 1; }
  partial=$(find "$run" -name '*.partial')
  [ -z "$partial" ] || { echo "$name: left behind $partial"; exit 1; }
  local checked=""
  for s in $(printf "%s\n" "$step" "$stopped" | sort -un); do
    ckpt=$(printf "%s/checkpoints/step-%010d.h5" "$run" "$s")
    if [ ! -f "$ckpt" ]; then  # rotated away by --keep-checkpoints (two newer ones are there)
      [ "$(ls "$run"/checkpoints/step-*.h5 | awk -v c="$ckpt" '$0 > c' | wc -l)" -ge 2 ] ||
        { echo "$name: $ckpt is missing"; exit 1; }
      continue
    fi
    "$alexnet" eval --checkpoint "$ckpt" --net "$net" --data "$work/small.h5" --devices cpu > /dev/null ||
      { echo "$name: $ckpt does not load"; exit 1; }
    # The uninterrupted run has a checkpoint of every step but 0.
    [ -f "$work/straight/checkpoints/$(basename "$ckpt")" ] && "$python" "$work/same.py" "$work/straight" "$run" "$s"
    checked+=" $s"
  done
  echo "$name: signalled in the checkpoint of step $step, stopped at step $stopped with status 0;" \
       "the checkpoints of step(s)$checked whole, loading and equal to the uninterrupted run's"
}

# SIGINT inside the first write of a fresh run (config.toml's), before any step: the write
# finishes, the run stops at step 0 with a checkpoint, and --resume continues from it.
run=$work/setup
stopped_by setup "before-rename:1=SIGINT" 0 SIGINT "$alexnet" train "${common[@]}" --out "$run"
"$alexnet" train --resume "$run" --max-steps 4 2> /dev/null
"$python" "$work/same.py" "$work/straight" "$run" 4
echo "setup: resumed from step 0 to step 4, bit-identical to the uninterrupted run's"
run=$work/signalled

stopped_by half "checkpoint-half:1=SIGINT" 4 SIGINT "$alexnet" train "${common[@]}" --keep-checkpoints 2 --out "$run"
# A resumed run renames its manifest first (rewritten after its first step with the layers'
# algorithms), then its checkpoints: rename N+1 is the N-th checkpoint's.
step=$(nth_checkpoint_after "$stopped" 1)
stopped_by rename "before-rename:2=SIGTERM" "$step" SIGTERM "$alexnet" train --resume "$run"
[ "$stopped" -lt 18 ] || { echo "stopped at step $stopped, past the epoch's end the next case aims at"; exit 1; }
n=$(nth_of "$stopped" 18)
stopped_by both "checkpoint-half:$n=SIGTERM,before-rename:$((n + 1))=SIGINT" 18 "SIGINT\|SIGTERM" \
  "$alexnet" train --resume "$run"
# The SIGINT at the first step's end asks for a stop there, and the second lands in its checkpoint.
stopped_by twice "step:1=SIGINT,checkpoint-half:1=SIGINT" $((stopped + 1)) SIGINT "$alexnet" train --resume "$run"
"$alexnet" train --resume "$run"

"$python" "$work/same.py" "$work/straight" "$run" 36
"$python" - "$work/straight" "$run" <<'PY'
import csv, sys
straight, run = sys.argv[1:]
def rows(r, name, keys):
    with open(r + "/metrics/" + name) as f:
        return [tuple(row[k] for k in keys) for row in csv.DictReader(f)]
# Each step's and epoch's row once, in order, with the uninterrupted run's values (timings aside).
for name, keys in (("steps.csv", ("step", "epoch", "loss", "top1_error", "top5_error", "lr")),
                   ("epochs.csv", ("epoch", "step", "val_loss", "val_top1_error", "val_top5_error", "lr"))):
    want, got = rows(straight, name, keys), rows(run, name, keys)
    assert got == want, (name, [r[:2] for r in got], [r[:2] for r in want])
print("resumed after 4 stops by signals inside checkpoint writes: weights and momentum bit-identical",
      "to the uninterrupted run's at step 36; metrics", len(rows(run, "steps.csv", ("step",))), "+",
      len(rows(run, "epochs.csv", ("epoch",))), "rows, no duplicates")
PY
