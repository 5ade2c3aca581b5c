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
alexnet=$1 python=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
net="$here/../../experiments/alexnet-mini.toml"
rm -rf "$work" && mkdir -p "$work"
require_fashion_mnist

"$alexnet" pack --source fashion-mnist --per-class 40 --val 40 --output "$work/small.h5" --no-progress
"$python" - "$alexnet" "$work" --net "$net" --data "$work/small.h5" --devices cpu --threads 1 \
  --loader-threads 1 --batch 10 --epochs 50 --progress false --log-every 1 --timeout 5s <<'PY'
import os, re, signal, socket, subprocess, sys, time
alexnet, work, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
TIMEOUT, MARGIN, WORLD = 5.0, 10.0, 4

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def rows(run):
    try:
        with open(run + "/metrics/steps.csv") as f:
            return len(f.read().splitlines()) - 1
    except OSError:
        return 0

def scenario(name, victim, want):
    run, port = "%s/%s" % (work, name), free_port()
    ranks = []
    for r in range(WORLD):
        env = dict(os.environ, RANK=str(r), WORLD_SIZE=str(WORLD), LOCAL_RANK=str(r),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        err = open("%s/%s.rank%d.err" % (work, name, r), "w+")
        ranks.append((subprocess.Popen([alexnet, "train"] + flags + ["--out", run], env=env,
                                       stdout=subprocess.DEVNULL, stderr=err), err))
    took = {}
    try:
        deadline = time.monotonic() + 60
        while rows(run) < 3 and all(p.poll() is None for p, _ in ranks):
            if time.monotonic() > deadline:
                sys.exit("FAIL: no step 3 in %s within 60 s" % run)
            time.sleep(0.02)
        for r, (p, err) in enumerate(ranks):
            if p.poll() is not None:
                err.seek(0)
                sys.exit("FAIL: rank %d ended (status %s) before the stop:\n%s" % (r, p.returncode, err.read()))
        ranks[victim][0].send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        while len(took) < WORLD - 1 and time.monotonic() - stopped < TIMEOUT + MARGIN:
            for r, (p, _) in enumerate(ranks):
                if r != victim and r not in took and p.poll() is not None:
                    took[r] = time.monotonic() - stopped
            time.sleep(0.01)
    finally:
        victim_process = ranks[victim][0]
        if victim_process.poll() is None:
            victim_process.send_signal(signal.SIGCONT)
        for p, _ in ranks:
            if p.poll() is None:
                p.kill()
            p.wait()
    print("%s: rank %d stopped at step %d; the others exited after %s" % (
        name, victim, rows(run) + 1, ", ".join("rank %d %.2f s" % (r, took[r]) for r in sorted(took))))
    for r, (p, err) in enumerate(ranks):
        if r == victim:
            continue
        err.seek(0)
        lines = [l for l in err.read().splitlines() if l.strip()]
        if r not in took:
            sys.exit("FAIL: rank %d still running %.0f s after rank %d was stopped (--timeout 5s)" % (
                r, TIMEOUT + MARGIN, victim))
        if p.returncode == 0:
            sys.exit("FAIL: rank %d exited 0 after rank %d hung" % (r, victim))
        if len(lines) != 1 or not re.search(want, lines[0]):
            sys.exit("FAIL: rank %d (status %d) should say one line matching %r, said:\n%s" % (
                r, p.returncode, want, "\n".join(lines)))
        print("  rank %d, status %d: %s" % (r, p.returncode, lines[0]))

scenario("stop2", 2, r"^alexnet train: rank 2 did not answer within 5 s\b.*\(hung\? --timeout\)$")
scenario("stop0", 0, r"^alexnet train: rank 0 did not answer within 5 s\b.*\(hung\? --timeout\)$")
PY
