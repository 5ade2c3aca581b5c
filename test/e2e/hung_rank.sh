#!/usr/bin/env bash
# A rank that hangs (kill -STOP: its connections stay open, so nobody sees it go) ends the job too:
# 4 ranks (2 replicas x 2 towers), started with torchrun's variables so that each rank's pid is
# known, --timeout 5s; once step 3's metrics row exists, rank 2 is stopped. Every other rank must
# exit non-zero within the timeout plus 10 s (about 7 s measured alone: the timeout, then up to 2 s
# for the other ranks to say they are stuck), saying one line that names rank 2, rank 0 included
# (its rendezvous store must not linger for the hung rank's goodbye). Then the same for rank 0,
# whose store falls silent with it. The stopped rank is continued and killed afterwards.
#   hung_rank.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"

"$alexnet" pack --source fashion-mnist --per-class 40 --val 40 --output "$work/small.h5" --no-progress
PYTHONPATH="$here" "$python" - "$alexnet" "$work" --net "$net" --data "$work/small.h5" --devices cpu \
  --threads 1 --loader-threads 1 --batch 10 --epochs 50 --progress false --log-every 1 --timeout 5s <<'PY'
import signal, sys
from fault_ranks import rows, scenario
alexnet, work, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
for name, victim in (("stop2", 2), ("stop0", 0)):
    scenario(alexnet, work, flags, name, victim, signal.SIGSTOP, timeout=5.0, margin=10.0,
             want=r"^alexnet train: rank %d did not answer within 5 s\b.*\(hung\? --timeout\)$" % victim,
             ready=lambda run: rows(run) >= 3)
PY
