#!/usr/bin/env bash
# Long jobs on shared clusters (issue 26), with CPU ranks:
#   same     the same command continues its run (one process and 4 ranks), bit for bit against
#            an uninterrupted run; another configuration, a folder that is no run directory and a
#            second job on a locked run directory are refused (exit 2, nothing written)
#   limits   --time-limit stops with a checkpoint and exits 0, the same command continues; bad
#            values exit 2 naming the flag; SIGUSR1 with --requeue runs the stand-in scontrol on
#            PATH (its arguments recorded), a failing scontrol is reported and the checkpoint kept
#   restarts alexnet launch --max-restarts 1 and torchrun --max-restarts 1 after kill -9 of a rank
#            mid-run: the restarted ranks continue, and the run ends bit-identical to an
#            uninterrupted one; the restart latency (kill to the first step after it) is printed
#   continue_run.sh ALEXNET PYTHON WORKDIR PART
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"
part=$4
alexnet=$(realpath "$alexnet")
require_h5py
fail() { echo "FAILED: $*"; exit 1; }

# 360 training images in batches of 20: 18 steps an epoch.
"$alexnet" pack --source fashion-mnist --per-class 40 --val 40 --output "$work/small.h5" --no-progress
base=(--net "$net" --data "$work/small.h5" --devices cpu --threads 1 --progress false --log-every 1
      --loader-threads 1 --timeout 20s)
common=("${base[@]}" --batch 20 --epochs 2)  # 36 steps in all
long=("${base[@]}" --batch 20 --epochs 50)   # longer than any stop below

same_weights() {  # same_weights RUN_A RUN_B STEP: parameters and momentum bit for bit
  "$python" - "$@" <<'PY'
import sys, h5py, numpy as np
a, b, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File("%s/checkpoints/step-%010d.h5" % (a, step), "r") as x, \
     h5py.File("%s/checkpoints/step-%010d.h5" % (b, step), "r") as y:
    bad = [g + "/" + n for g in ("params", "momentum") for n in y[g] if not np.array_equal(x[g][n][:], y[g][n][:])]
if bad:
    sys.exit("differ at step %d: %s" % (step, ", ".join(bad)))
print("bit-identical at step %d: %s and %s" % (step, a, b))
PY
}
expect_refused() {  # expect_refused TEXT COMMAND...: exit 2 and TEXT on stderr
  local text=$1 rc=0
  shift
  "$@" > "$work/refused.out" 2> "$work/refused.err" || rc=$?
  [ "$rc" = 2 ] || { cat "$work/refused.err"; fail "exit $rc, not 2: $*"; }
  grep -qF -- "$text" "$work/refused.err" || { cat "$work/refused.err"; fail "no '$text' in the message"; }
  echo "ok: refused (exit 2): $(tail -n1 "$work/refused.err")"
}

case $part in
same)
  # One process: 6 steps, then the very same command with --max-steps 10 continues to 10.
  "$alexnet" train "${common[@]}" --placement split --max-steps 10 --out "$work/straight"
  "$alexnet" train "${common[@]}" --placement split --max-steps 6 --out "$work/again" 2> "$work/first.err"
  "$alexnet" train "${common[@]}" --placement split --max-steps 10 --out "$work/again" 2> "$work/second.err"
  grep -q "is a run of this configuration: continuing it from step 6 (changed: 1 setting" "$work/second.err" ||
    { cat "$work/second.err"; fail "no continuation line"; }
  grep -q '^max-steps = 10$' "$work/again/config.toml" || fail "config.toml does not record max-steps = 10"
  grep -q 'changed on continuing: max-steps = 6  ->  max-steps = 10' "$work"/again/logs/alexnet.*INFO* ||
    fail "the log does not record the change"
  same_weights "$work/again" "$work/straight" 10
  # Once more: nothing left to do past --max-steps 10 but to say so, and it still continues.
  "$alexnet" train "${common[@]}" --placement split --max-steps 10 --out "$work/again" 2> "$work/third.err"
  grep -q "continuing it from step 10" "$work/third.err" || { cat "$work/third.err"; fail "third run"; }

  # A checkpoint describes itself: in its run directory it takes that run's files; copied anywhere,
  # the network file and configuration it keeps; a --net of another network is refused.
  ck=$work/again/checkpoints/step-0000000010.h5
  "$alexnet" eval --checkpoint "$ck" --data "$work/small.h5" > "$work/eval-in-run.out" 2>&1 ||
    { cat "$work/eval-in-run.out"; fail "eval of a checkpoint in its run directory"; }
  mkdir -p "$work/elsewhere" && cp "$ck" "$work/elsewhere/best.h5"
  (cd "$work/elsewhere" && "$alexnet" eval --checkpoint best.h5 --data "$work/small.h5") > "$work/eval-copied.out" 2>&1 ||
    { cat "$work/eval-copied.out"; fail "eval of a copied checkpoint"; }
  scores() { grep -i 'top-1' "$1" | sed 's/^.* on //'; }  # "400 test images (...): top-1 error ..."
  [ "$(scores "$work/eval-in-run.out")" = "$(scores "$work/eval-copied.out")" ] ||
    fail "the copied checkpoint evaluates differently: $(cat "$work/eval-in-run.out" "$work/eval-copied.out")"
  grep -qi 'top-1' "$work/eval-copied.out" || fail "eval printed no top-1"
  echo "ok: eval in the run and of a copy elsewhere: $(grep -i 'top-1' "$work/eval-copied.out" | head -n1)"
  expect_refused "is not the network $work/elsewhere/best.h5 was trained with" \
    "$alexnet" eval --checkpoint "$work/elsewhere/best.h5" --data "$work/small.h5" --net "$here/../../experiments/alexnet.toml"

  # Another configuration is refused, naming the line, and the run directory is left as it was.
  before=$(cd "$work/again" && find . -type f -newer config.toml | sort; md5sum config.toml)
  expect_refused "its config.toml has 'lr = 0.01', this command 'lr = 0.02'" \
    "$alexnet" train "${common[@]}" --placement split --max-steps 12 --lr 0.02 --out "$work/again"
  [ "$before" = "$(cd "$work/again" && find . -type f -newer config.toml | sort; md5sum config.toml)" ] ||
    fail "the refused command changed the run directory"
  # A folder that is not a run directory is never written into.
  mkdir -p "$work/foreign" && echo keep > "$work/foreign/notes.txt"
  expect_refused "is not a run directory (it has no config.toml)" \
    "$alexnet" train "${common[@]}" --placement split --out "$work/foreign"
  [ "$(ls -A "$work/foreign")" = notes.txt ] || fail "the foreign folder was written into"
  # A second job on a run directory in use is refused; the first is unharmed.
  "$alexnet" train "${long[@]}" --placement split --max-steps 400 --out "$work/locked" 2> "$work/holder.err" &
  holder=$!
  for _ in $(seq 100); do [ -s "$work/locked/.lock" ] && break; sleep 0.1; done
  expect_refused "is in use by another job (pid $holder on" \
    "$alexnet" train "${long[@]}" --placement split --max-steps 400 --out "$work/locked"
  kill -INT "$holder"; wait "$holder" || fail "the first job did not stop cleanly"
  # kill -9 leaves no lock behind: the kernel releases it.
  "$alexnet" train "${long[@]}" --placement split --max-steps 400 --out "$work/locked" 2> "$work/k.err" &
  victim=$!
  for _ in $(seq 100); do grep -q 'loss' "$work/locked/metrics/steps.csv" 2>/dev/null && break; sleep 0.1; done
  kill -9 "$victim"; wait "$victim" || true
  "$alexnet" train "${common[@]}" --placement split --max-steps 1 --out "$work/locked" 2> "$work/after9.err" ||
    { cat "$work/after9.err"; fail "a killed job's lock was not released"; }
  echo "ok: kill -9 leaves no lock behind"

  # 4 ranks (2 replicas x 2 towers): 4 steps, then the same launch continues to 8, against 8 straight.
  launch4=("$alexnet" launch --nproc 4 -- train "${base[@]}" --epochs 2 --placement split --batch 10)
  "${launch4[@]}" --max-steps 8 --out "$work/straight4" > "$work/straight4.out" 2>&1 || { tail "$work/straight4.out"; fail "4 ranks"; }
  "${launch4[@]}" --max-steps 4 --out "$work/again4" > "$work/first4.out" 2>&1 || { tail "$work/first4.out"; fail "4 ranks"; }
  "${launch4[@]}" --max-steps 8 --out "$work/again4" > "$work/again4.out" 2>&1 || { tail "$work/again4.out"; fail "4 ranks"; }
  grep -q "\[rank 0\] alexnet train: .* is a run of this configuration: continuing it from step 4" "$work/again4.out" ||
    { cat "$work/again4.out"; fail "4 ranks: no continuation line from rank 0"; }
  same_weights "$work/again4" "$work/straight4" 8
  ;;

limits)
  # --time-limit: stops at a step boundary with a checkpoint, exits 0, says how to continue.
  start=$SECONDS
  "$alexnet" train "${long[@]}" --placement split --time-limit 12s --out "$work/limited" \
    2> "$work/limited.err" || { cat "$work/limited.err"; fail "--time-limit exited non-zero"; }
  took=$((SECONDS - start))
  grep -q "stopped by --time-limit at step [0-9]*; checkpoint written; continue with the same command" "$work/limited.err" ||
    { cat "$work/limited.err"; fail "no --time-limit stop line"; }
  [ "$took" -le 14 ] || fail "--time-limit 12s took $took s"
  stopped=$(sed -n 's/.*stopped by --time-limit at step \([0-9]*\).*/\1/p' "$work/limited.err")
  [ -f "$work/limited/checkpoints/step-$(printf %010d "$stopped").h5" ] || fail "no checkpoint at step $stopped"
  echo "ok: --time-limit 12s stopped at step $stopped after $took s, with its checkpoint"
  "$alexnet" train "${long[@]}" --placement split --time-limit 12s --max-steps $((stopped + 3)) \
    --out "$work/limited" 2> "$work/limited2.err" || { cat "$work/limited2.err"; fail "continuing"; }
  grep -q "continuing it from step $stopped" "$work/limited2.err" || { cat "$work/limited2.err"; fail "did not continue"; }
  expect_refused "--time-limit: 'soon' is not a duration" \
    "$alexnet" train "${common[@]}" --placement split --time-limit soon --out "$work/bad-limit"
  expect_refused "--time-limit 0.001s is shorter than this run's first step" \
    "$alexnet" train "${common[@]}" --placement split --time-limit 0.001s --out "$work/short-limit"

  # SIGUSR1 (Slurm's --signal=USR1@N) with --requeue: a checkpoint, then scontrol requeue JOB.
  mkdir -p "$work/bin"
  printf '#!/bin/sh\necho "$@" >> "%s/scontrol.args"\nexit ${SCONTROL_STATUS:-0}\n' "$work" > "$work/bin/scontrol"
  chmod +x "$work/bin/scontrol"
  usr1() {  # usr1 RUN ARGS...: trains until SIGUSR1 after the third step; sets rc
    local run=$1
    shift
    rc=0
    "$alexnet" train "${long[@]}" --placement split --out "$run" "$@" 2> "$run.err" &
    local pid=$!
    for _ in $(seq 300); do [ "$({ wc -l < "$run/metrics/steps.csv"; } 2>/dev/null || echo 0)" -ge 4 ] && break; sleep 0.1; done
    kill -USR1 "$pid"
    wait "$pid" || rc=$?
  }
  PATH=$work/bin:$PATH SLURM_JOB_ID=4242 usr1 "$work/usr1" --requeue
  [ "$rc" = 0 ] || { cat "$work/usr1.err"; fail "SIGUSR1 --requeue exited $rc"; }
  grep -q "stopped by SIGUSR1 at step" "$work/usr1.err" || { cat "$work/usr1.err"; fail "no SIGUSR1 stop"; }
  grep -q "requeued Slurm job 4242" "$work/usr1.err" || { cat "$work/usr1.err"; fail "no requeue line"; }
  [ "$(cat "$work/scontrol.args")" = "requeue 4242" ] || fail "scontrol got: $(cat "$work/scontrol.args")"
  ls "$work"/usr1/checkpoints/step-*.h5 > /dev/null || fail "no checkpoint after SIGUSR1"
  echo "ok: SIGUSR1 --requeue: checkpoint, then 'scontrol $(cat "$work/scontrol.args")'"
  # ALEXNET_REQUEUE=1 does the same; a failing scontrol is reported and the checkpoint kept.
  PATH=$work/bin:$PATH SLURM_JOB_ID=4243 ALEXNET_REQUEUE=1 SCONTROL_STATUS=3 usr1 "$work/usr1-fails"
  [ "$rc" = 1 ] || { cat "$work/usr1-fails.err"; fail "a failing scontrol gave exit $rc, not 1"; }
  grep -q "'scontrol requeue 4243' failed (status 3); the checkpoint is kept" "$work/usr1-fails.err" ||
    { cat "$work/usr1-fails.err"; fail "no report of the failing scontrol"; }
  ls "$work"/usr1-fails/checkpoints/step-*.h5 > /dev/null || fail "no checkpoint kept"
  echo "ok: a failing scontrol is reported (exit 1), the checkpoint kept"
  # Without --requeue, SIGUSR1 stops like SIGTERM and asks nothing of Slurm.
  : > "$work/scontrol.args"
  PATH=$work/bin:$PATH SLURM_JOB_ID=4244 usr1 "$work/usr1-plain"
  [ "$rc" = 0 ] && [ ! -s "$work/scontrol.args" ] || fail "SIGUSR1 without --requeue: exit $rc, scontrol $(cat "$work/scontrol.args")"
  ;;

restarts)
  # 2 ranks (the split over Gloo), 30 steps with a checkpoint every 5; rank 1 killed near step 12.
  run2=(train "${common[@]}" --placement split --max-steps 30 --checkpoint-every 5)
  "$alexnet" launch --nproc 2 -- "${run2[@]}" --out "$work/straight2" > "$work/straight2.log" 2>&1 ||
    { tail "$work/straight2.log"; fail "the uninterrupted run"; }
  kill_and_restart() {  # kill_and_restart RUN LAUNCHER...: kill -9 rank 1 at step >= 12; prints the latency
    local run=$1 log=$1.log
    shift
    "$@" > "$log" 2>&1 &
    local launcher=$!
    "$python" - "$run" "$log" <<'PY'
import os, signal, subprocess, sys, time
run, log = sys.argv[1:3]
def steps():
    try:
        with open(run + "/metrics/steps.csv") as f:
            return [int(l.split(",")[0]) for l in f.read().splitlines()[1:] if l]
    except (OSError, ValueError):
        return []
deadline = time.time() + 300
while (not steps() or steps()[-1] < 12) and time.time() < deadline:
    time.sleep(0.02)
# rank 1: the process whose environment says RANK=1, a child of this launch
victim = None
for pid in os.listdir("/proc"):
    try:
        env = open("/proc/%s/environ" % pid, "rb").read().split(b"\0")
        cmd = open("/proc/%s/cmdline" % pid, "rb").read()
    except OSError:
        continue
    if b"RANK=1" in env and b"train" in cmd and run.encode() in cmd:
        victim = int(pid)
assert victim, "rank 1 not found"
at = steps()[-1]
os.kill(victim, signal.SIGKILL)
killed = time.time()
# The first step after the restart: a steps.csv row once the log says a restart happened.
while time.time() < deadline:
    text = open(log, errors="replace").read()
    if "continuing it from step" in text:  # the first start was a fresh run: this is the restart
        break
    time.sleep(0.02)
resumed_from = None
import re
m = re.search(r"continuing it from step (\d+)", open(log, errors="replace").read())
resumed_from = int(m.group(1)) if m else None
while time.time() < deadline and (not steps() or steps()[-1] <= resumed_from):
    time.sleep(0.02)
print("killed rank 1 (pid %d) at step %d; restarted from step %s; the first step after the restart %.2f s after the kill"
      % (victim, at, resumed_from, time.time() - killed))
PY
    wait "$launcher" || { tail -n 30 "$log"; fail "the restarted job failed"; }
  }
  kill_and_restart "$work/launch2" "$alexnet" launch --nproc 2 --max-restarts 1 --restart-delay 0.5 -- \
    "${run2[@]}" --out "$work/launch2"
  grep -q "restarting all 2 ranks in 0.5 s (restart 1 of 1" "$work/launch2.log" || { cat "$work/launch2.log"; fail "no restart"; }
  same_weights "$work/launch2" "$work/straight2" 30

  # torchrun (Debian 12's needs --redirects 9:1 --tee 9:1: see docs/processes.md), the same kill.
  if ! command -v torchrun > /dev/null; then echo "skipped torchrun: not installed"; exit 0; fi
  port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  kill_and_restart "$work/torchrun2" torchrun --redirects 9:1 --tee 9:1 --no_python --nproc_per_node 2 \
    --max_restarts 1 --master_addr 127.0.0.1 --master_port "$port" "$alexnet" "${run2[@]}" --out "$work/torchrun2"
  same_weights "$work/torchrun2" "$work/straight2" 30
  ;;
*) fail "unknown part '$part' (same, limits, restarts)" ;;
esac
echo "continue_run.sh $part: ok"
