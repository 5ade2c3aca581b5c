#!/usr/bin/env bash
# A rank killed with kill -9 mid-run ends the job: 4 ranks (2 replicas x 2 towers), started here
# with torchrun's variables so that each rank's pid is known, run with --timeout 10s and a
# checkpoint every 2 steps; once checkpoint 2 and step 3's metrics row exist, rank 2 is killed.
# Every surviving rank must exit non-zero within the timeout (plus a margin), saying one line that
# names rank 2; the newest checkpoint must be whole (checksums, and `alexnet eval` loads it) and
# equal the uninterrupted run's of that step, with no temporary file left. `alexnet launch -- train
# --resume` then continues to step 10, bit-identical (parameters and momentum) to a 4-rank run
# that was never interrupted. Then the same kill for rank 0, which serves the rendezvous store:
# the others must still exit non-zero naming rank 0.
#   lost_rank.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"
require_h5py
fail() { echo "FAIL: $*"; exit 1; }

# 360 training images, 10 a replica: a global batch of 20, 18 steps an epoch.
"$alexnet" pack --source fashion-mnist --per-class 40 --val 40 --output "$work/small.h5" --no-progress
common=(--net "$net" --data "$work/small.h5" --devices cpu --threads 1 --loader-threads 1 --batch 10
        --epochs 3 --progress false --log-every 1 --checkpoint-every 2 --timeout 10s)
final=10  # the step the resumed and the uninterrupted runs stop at

# The uninterrupted run, keeping each checkpoint for comparison.
"$alexnet" launch --nproc 4 -- train "${common[@]}" --max-steps "$final" --keep-checkpoints 100 \
  --out "$work/straight" > "$work/straight.log" 2>&1 || { cat "$work/straight.log"; fail "the uninterrupted run"; }

# The killed runs. Prints the newest checkpoint left by the run that lost rank 2.
PYTHONPATH="$here" "$python" - "$alexnet" "$work" "${common[@]}" --max-steps 1000 <<'PY'
import os, signal, sys
from fault_ranks import rows, scenario
alexnet, work, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
# Mid-run: checkpoint 2 written and step 3 done (its metrics row), so the kill lands in step 4.
ready = lambda run: os.path.exists(run + "/checkpoints/step-0000000002.h5") and rows(run) >= 3
for name, victim in (("lost2", 2), ("lost0", 0)):
    scenario(alexnet, work, flags, name, victim, signal.SIGKILL, timeout=10.0, margin=5.0,
             want=r"^alexnet train: rank %d was lost\b" % victim, ready=ready)
PY

# The checkpoint the run that lost rank 2 left: whole, loadable, and the uninterrupted run's.
left=$(find "$work/lost2" "$work/lost0" -name '*.partial')
[ -z "$left" ] || fail "temporaries left behind: $left"
last=$(ls "$work"/lost2/checkpoints/step-*.h5 | tail -1)
step=$((10#$(basename "$last" .h5 | cut -c6-)))
[ "$step" -lt "$final" ] || fail "the killed run reached step $step, not before step $final"
"$alexnet" eval --checkpoint "$last" --data "$work/small.h5" --net "$net" --devices cpu --threads 1 ||
  fail "eval of $last"
"$python" - "$last" "$work/straight/checkpoints/$(basename "$last")" <<'PY'
import sys, zlib
import h5py, numpy as np
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    for group in ("params", "momentum"):
        assert len(a[group]) > 0 and set(a[group]) == set(b[group]), group
        for name in a[group]:
            x = a[group][name][:]
            assert a[group][name].attrs["crc32"] == zlib.crc32(x.astype("<f4").tobytes()), (group, name)
            assert np.array_equal(x, b[group][name][:]), ("differs from the uninterrupted run", group, name)
print(sys.argv[1], ": checksums match, equal to the uninterrupted run's")
PY

# Resume under the launcher to the same final step, and compare with the uninterrupted run.
"$alexnet" launch --nproc 4 -- train --resume "$work/lost2" --max-steps "$final" --timeout 10s \
  > "$work/resume.log" 2>&1 || { cat "$work/resume.log"; fail "the resume"; }
"$python" - "$work/lost2" "$work/straight" "$final" <<'PY'
import sys
import h5py, numpy as np
name = "/checkpoints/step-%010d.h5" % int(sys.argv[3])
with h5py.File(sys.argv[1] + name, "r") as a, h5py.File(sys.argv[2] + name, "r") as b:
    assert a.attrs["step"] == b.attrs["step"] == int(sys.argv[3])
    for group in ("params", "momentum"):
        for n in b[group]:
            x, y = a[group][n][:], b[group][n][:]
            assert x.shape == y.shape and np.array_equal(x, y), (group, n, np.abs(x - y).max())
print("resumed after losing rank 2: bit-identical to the uninterrupted run at step", sys.argv[3])
PY
