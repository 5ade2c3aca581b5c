#!/usr/bin/env bash
# The file store (--store-dir): the ranks of one host meet through files in a folder instead of
# rank 0's TCP store.
#  1. 4 ranks (2 replicas x 2 towers) through `alexnet launch --nproc 4 -- train ... --store-dir`
#     reach the very checkpoint (parameters and momentum, bit for bit) the TCP-store run reaches,
#     and the folder is gone after that normal end.
#  2. kill -9 of rank 2 mid-run (test/e2e/fault_ranks.py, --timeout 10s): every surviving rank
#     exits non-zero within the timeout plus a margin, saying one line that names rank 2 as lost.
#     Its folder stays, and a job started in it again is refused (status 2) naming the folder.
#   file_store.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"
require_h5py
fail() { echo "FAIL: $*"; exit 1; }

"$alexnet" pack --source fashion-mnist --per-class 40 --val 40 --output "$work/small.h5" --no-progress > /dev/null
common=(--net "$net" --data "$work/small.h5" --devices cpu --threads 1 --loader-threads 1 --batch 10
        --progress false --log-every 1)

# 1. The same run through either store; the folder made beforehand (as mktemp -d would), so that its
#    absence afterwards shows rank 0 used and removed it.
"$alexnet" launch --nproc 4 -- train "${common[@]}" --epochs 1 --max-steps 5 --timeout 60s --out "$work/tcp" \
  > "$work/tcp.log" 2>&1 || { cat "$work/tcp.log"; fail "the TCP-store run"; }
mkdir "$work/store"
"$alexnet" launch --nproc 4 -- train "${common[@]}" --epochs 1 --max-steps 5 --timeout 60s --store-dir "$work/store" \
  --out "$work/file" > "$work/file.log" 2>&1 || { cat "$work/file.log"; fail "the file-store run"; }
[ ! -e "$work/store" ] || fail "$work/store is still there after a normal end: $(ls -A "$work/store")"
"$python" - "$work/tcp" "$work/file" <<'PY'
import glob, sys
import h5py, numpy as np
a = h5py.File(sorted(glob.glob(sys.argv[1] + "/checkpoints/*.h5"))[-1], "r")
b = h5py.File(sorted(glob.glob(sys.argv[2] + "/checkpoints/*.h5"))[-1], "r")
assert a.attrs["step"] == b.attrs["step"] == 5, (a.attrs["step"], b.attrs["step"])
for group in ("params", "momentum"):
    assert len(a[group]) > 0 and set(a[group]) == set(b[group]), group
    for name in a[group]:
        assert np.array_equal(a[group][name][:], b[group][name][:]), (group, name)
print("file store: step 5 bit-identical to the TCP store's run; the folder was removed")
PY

# 2. A rank killed: the survivors name it through the folder's locks.
PYTHONPATH="$here" "$python" - "$alexnet" "$work" "${common[@]}" --epochs 3 --max-steps 1000 --timeout 10s \
  --store-dir "$work/killed-store" <<'PY'
import sys
import signal
from fault_ranks import rows, scenario
alexnet, work, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
scenario(alexnet, work, flags, "lost2", 2, signal.SIGKILL, timeout=10.0, margin=5.0,
         want=r"^alexnet train: rank 2 was lost\b", ready=lambda run: rows(run) >= 3)
PY
[ -e "$work/killed-store/rank-2.hello" ] || fail "the folder of the job that lost rank 2 is gone"
status=0
"$alexnet" train "${common[@]}" --epochs 1 --rank 0 --world-size 4 --timeout 10s --store-dir "$work/killed-store" \
  --out "$work/again" 2> "$work/again.err" || status=$?
[ "$status" = 2 ] || { cat "$work/again.err"; fail "a job in the earlier job's folder exited $status, not 2"; }
grep -q "store-dir $work/killed-store already holds files .*Give each job a fresh folder" "$work/again.err" ||
  { cat "$work/again.err"; fail "no message about the earlier job's folder"; }
echo "file store: the earlier job's folder refused: $(tail -n 1 "$work/again.err")"
echo "file_store.sh: passed"
