#!/usr/bin/env bash
# kill -9 at any moment loses nothing: a small CPU run is killed with SIGKILL KILLS times (between
# steps, mid-step at a random instant, at epoch ends, and at the named points inside checkpoint and
# metrics writes that ALEXNET_TEST_CRASH_AT reaches, see src/core/crash_point.h), resumed with
# --resume after each kill, and then ends with weights and momentum bit-identical to a run that was
# never interrupted, and metrics files that hold each step's and each epoch's row once, with the
# same values. Also: --checkpoint-every 3 writes a checkpoint at every third step, and a truncated
# newest checkpoint makes --resume fall back to the previous (mid-epoch) one and eval refuse it.
#   kill_resume.sh ALEXNET PYTHON WORKDIR [KILLS]   (KILLS: 20 unless given)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"
kills=${4:-20}
require_h5py

# 360 training images in batches of 20: 18 steps an epoch, 54 in the run.
"$alexnet" pack --source fashion-mnist --per-class 40 --val 40 --output "$work/small.h5" --no-progress
common=(--net "$net" --data "$work/small.h5" --placement split --devices cpu --threads 1 --batch 20
        --epochs 3 --progress false --log-every 1 --loader-threads 1 --checkpoint-every 3)

# The uninterrupted run, keeping every checkpoint: one at every third step.
"$alexnet" train "${common[@]}" --keep-checkpoints 100 --out "$work/straight"
want=$(seq -f "$work/straight/checkpoints/step-%010g.h5" 3 3 54)
got=$(ls "$work"/straight/checkpoints/step-*.h5)
[ "$got" = "$want" ] || { echo "--checkpoint-every 3 wrote:"; echo "$got"; exit 1; }

# The killed run: the same flags, two checkpoints kept.
# After each kill, the checkpoint it resumes from must equal the uninterrupted run's of that step.
"$python" - "$alexnet" "$work/killed" "$kills" "$work/straight" "${common[@]}" --keep-checkpoints 2 <<'PY'
import glob, os, random, signal, subprocess, sys, time
import h5py, numpy as np
alexnet, run, kills, straight, flags = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
TOTAL, PER_EPOCH, EVERY = 54, 18, 3
random.seed(14)

def step_reached():  # the newest checkpoint's step (kills never leave a damaged one)
    names = sorted(glob.glob(run + "/checkpoints/step-*.h5"))
    return int(os.path.basename(names[-1])[5:15]) if names else 0

def identical_to_straight(c):
    with h5py.File("%s/checkpoints/step-%010d.h5" % (run, c), "r") as a, \
         h5py.File("%s/checkpoints/step-%010d.h5" % (straight, c), "r") as b:
        return all(np.array_equal(a[g][n][:], b[g][n][:]) for g in ("params", "momentum") for n in b[g])

def last_row():
    try:
        with open(run + "/metrics/steps.csv") as f:
            rows = [l.split(",")[0] for l in f.read().splitlines()[1:]]
        return int(rows[-1]) if rows else 0
    except (OSError, ValueError):
        return 0

def checkpoints_after(c):  # the steps where the run writes its next checkpoints
    return [s for s in range(c + 1, TOTAL + 1) if s % EVERY == 0 or s % PER_EPOCH == 0]

# Each kind of kill, with the checkpoint step it can carry the run to at most, so that no kill
# lets the run finish before all KILLS are made (near the end, only kinds that make no progress).
def choose(i, c):
    nxt = checkpoints_after(c)
    epoch_end = (c // PER_EPOCH + 1) * PER_EPOCH
    r = random.randint(1, 3)
    kinds = [  # in this order, so that the CI's 5 kills reach an epoch end and a checkpoint write
        ("crash", "epoch-end:1", epoch_end - 1),
        # A resumed run's first rename is its manifest's (rewritten after its first step with the
        # layers' algorithms), then its checkpoints': 2 and 3 are the next two checkpoints.
        ("crash", "before-rename:%d" % random.randint(2, 3), nxt[1] if len(nxt) > 1 else TOTAL),
        ("external", r + 3, c + r + 5),
        ("crash", "checkpoint-half:1", c),
        ("crash", "step:%d" % r, c + r),
        ("crash", "metrics-row:%d" % r, c + r),
        ("crash", "after-rename:%d" % random.randint(2, 3), nxt[1] if len(nxt) > 1 else TOTAL),
        ("crash", "checkpoint-written:1", nxt[0]),
    ]
    kind = kinds[(i - 1) % len(kinds)]
    if kind[2] >= TOTAL:
        kind = random.choice([("crash", "checkpoint-half:1", c), ("crash", "before-rename:1", c)])
    return kind

made = []
for i in range(kills):
    c = step_reached()
    if i == 0:  # the fresh run: killed right after its first checkpoint is renamed into place
        kind = ("crash", "after-rename:4", EVERY)  # config.toml, manifest.json (twice), step 3
        cmd = [alexnet, "train"] + flags + ["--out", run]
    else:
        kind = choose(i, c)
        cmd = [alexnet, "train", "--resume", run]
    env = dict(os.environ)
    if kind[0] == "crash":
        env["ALEXNET_TEST_CRASH_AT"] = kind[1]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kind[0] == "external":
        # kill -9 at a random instant: after a random delay, or soon after the row of step c + r
        # (rows past c that a killed run left are dropped first), whichever comes first.
        deadline = time.monotonic() + random.uniform(0.05, 1.5)
        while time.monotonic() < deadline and last_row() != c + kind[1] and p.poll() is None:
            time.sleep(0.01)
        time.sleep(random.uniform(0, 0.05))
        p.send_signal(signal.SIGKILL)
    err = p.communicate()[1].decode()
    if p.returncode != -signal.SIGKILL:
        sys.exit("kill %d (%s): exit status %s, not SIGKILL\n%s" % (i + 1, kind[1], p.returncode, err))
    after = step_reached()
    if not identical_to_straight(after):
        sys.exit("kill %d (%s): checkpoint %d differs from the uninterrupted run's" % (i + 1, kind[1], after))
    made.append("%s@%d->%d" % (kind[1] if kind[0] == "crash" else "kill-9", c, after))
print("%d kills (kind@checkpoint step->after), each leaving a checkpoint bit-identical to the "
      "uninterrupted run's:" % len(made), " ".join(made))
r = subprocess.run([alexnet, "train", "--resume", run], stderr=subprocess.PIPE)
if r.returncode != 0:
    sys.exit("the last resume failed with status %d\n%s" % (r.returncode, r.stderr.decode()))
PY

left=$(find "$work/killed" -name '*.partial')
[ -z "$left" ] || { echo "temporaries left behind: $left"; exit 1; }

# A truncated newest checkpoint: --resume names it and falls back to the previous one (step 48,
# mid-epoch), and eval refuses it naming the file.
cp -r "$work/straight" "$work/damaged"
rm "$work/damaged/checkpoints/step-0000000054.h5"
bad=$work/damaged/checkpoints/step-0000000051.h5
truncate -s 20000 "$bad"
set +e
"$alexnet" eval --checkpoint "$bad" --data "$work/small.h5" --net "$net" --devices cpu 2> "$work/eval.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "$bad: " "$work/eval.err" || { echo "eval of a truncated file: status $rc"; cat "$work/eval.err"; exit 1; }
"$alexnet" train --resume "$work/damaged" --out "$work/damaged" 2> "$work/damaged.err"
cat "$work/damaged.err"
grep -q "^alexnet train: $bad: .*falling back to the previous checkpoint" "$work/damaged.err"
[ -f "$bad.damaged" ]

"$python" - "$work/straight" "$work/killed" "$work/damaged" <<'PY'
import csv, glob, sys, zlib
import h5py, numpy as np
def last(run):
    return sorted(glob.glob(run + "/checkpoints/step-*.h5"))[-1]
def rows(run, name, keys):
    with open(run + "/metrics/" + name) as f:
        return [tuple(r[k] for k in keys) for r in csv.DictReader(f)]
a = h5py.File(last(sys.argv[1]), "r")
assert a.attrs["version"] == 4
for group in ("params", "momentum"):  # the checksum is what docs/formats.md says it is
    for name in a[group]:
        assert a[group][name].attrs["crc32"] == zlib.crc32(a[group][name][:].astype("<f4").tobytes()), name
steps_keys = ("step", "epoch", "loss", "top1_error", "top5_error", "lr")
epochs_keys = ("epoch", "step", "val_loss", "val_top1_error", "val_top5_error", "lr")
for other in sys.argv[2:]:
    b = h5py.File(last(other), "r")
    assert a.attrs["step"] == b.attrs["step"] == 54, (a.attrs["step"], b.attrs["step"])
    for group in ("params", "momentum"):
        for name in a[group]:
            x, y = a[group][name][:], b[group][name][:]
            assert x.shape == y.shape and np.array_equal(x, y), (other, group, name, np.abs(x - y).max())
    # Each row once, in order, with the uninterrupted run's values (timings aside).
    for name, keys in (("steps.csv", steps_keys), ("epochs.csv", epochs_keys)):
        want, got = rows(sys.argv[1], name, keys), rows(other, name, keys)
        assert got == want, (other, name, [r[:2] for r in got], [r[:2] for r in want])
    print(other, ": bit-identical to the uninterrupted run at step 54; metrics rows", len(rows(other, "steps.csv", steps_keys)), "+", len(rows(other, "epochs.csv", epochs_keys)), "with no duplicates")
PY
