#!/usr/bin/env bash
# A rank that hangs (kill -STOP: its connections stay open, so nobody sees it go) ends the job too:
# 4 ranks (2 replicas x 2 towers), started with torchrun's variables so that each rank's pid is
# known, --timeout 5s; once step 3's metrics row exists, rank 2 is stopped. Every other rank must
# exit non-zero within the timeout plus 10 s (about 7 s measured alone: the timeout, then up to 2 s
# for the other ranks to say they are stuck), saying one line that names rank 2, rank 0 included
# (its rendezvous store must not linger for the hung rank's goodbye). Then the same for rank 0,
# whose store falls silent with it. The stopped rank is continued and killed afterwards. Each
# survivor writes its flight record, and with rank 2 stopped names it as the rank behind: the
# collective it reached is the lowest (core/flight_recorder.h). A survivor may name another rank
# beside the hung one: Gloo's ring all-reduce lets a rank finish and move on to the next collective
# while others still wait in it, and one that times out first sees those not yet stuck as silent
# (seen 1 time in 6 here); the flight records then still say who is behind.
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
import json, os
# Each survivor's message ends with where its flight record is and, when the store still answers
# (rank 0 alive), whose last completed collective is lowest: the hung rank's.
flight = {2: r"; flight records: rank\(s\) 2 behind, at collective #\d+ where others reached #\d+ \(.*\)$",
          0: r"( \(the store did not answer for the flight records\)|; flight records: .*)?$"}
for name, victim in (("stop2", 2), ("stop0", 0)):
    run = scenario(alexnet, work, flags, name, victim, signal.SIGSTOP, timeout=5.0, margin=10.0,
                   want=r"^alexnet train: ranks? (\d+, )*%d(, \d+)* did not answer within 5 s\b.*\(hung\? --timeout\); "
                        r"this rank's last collectives are in \S+/logs/rank-\d/flight\.json%s" % (victim, flight[victim]),
                   ready=lambda run: rows(run) >= 3)
    for r in range(4):
        if r == victim:
            continue
        with open("%s/logs/rank-%d/flight.json" % (run, r)) as f:
            record = json.load(f)
        assert record["rank"] == r and record["last_completed"] > 0 and record["entries"], record
        assert any(e["state"] == "failed" for e in record["entries"]), "no failed collective in rank %d's" % r
    print("%s: every survivor wrote its flight record (rank-R/flight.json)" % name)
PY
