#!/usr/bin/env bash
# Training as many processes computes what one process computes.
#   processes.sh ALEXNET PYTHON WORKDIR [equality|launchers|mpirun|torchrun]
#
#   equality   2 processes (one tower each, split, over Gloo) against today's in-process split at
#              the same --threads: parameters, momentum, the losses of every step and the test
#              logits bit-identical after 5 SGD steps with dropout on (the exchanges copy, and the
#              reduce-scatter adds in the order the in-process one does). 4 processes (2 replicas
#              x 2 towers, --batch B) against 1 process with --batch 2B: within atol 1e-6 + rtol
#              1e-5 (see below); and with the gradient all-reduce in many buckets against one.
#   launchers  the 4-process run bootstrapped from torchrun's, OpenMPI's and Slurm's variables, as
#              each launcher sets them (set here by the script): bit-identical to `alexnet launch`'s.
#   mpirun     the same under a real `mpirun --oversubscribe` (Debian's openmpi-bin).
#   torchrun   the same under a real `torchrun --no-python` (Debian's python3-torch brings it).
#   schemes    every --parallel scheme against one process on the same global batch: data and
#              hybrid (2 and 4 processes, --placement single) and split+data (2 x 2) within atol
#              + rtol, split over 4 processes (--towers 4) bit-identical to its 4 towers in one
#              process; the test logits of the checkpoints too (hybrid's from eval run as hybrid);
#              and checkpoints resumed across schemes.
#   config     ranks whose flags differ stop before the first step, every one saying which rank
#              differs and where (exit 2); and --resume on a machine of its own: rank 1 runs in a
#              mount namespace where the run's path is another folder (its "machine"), so it
#              sees only its logs and the config.toml its machine's first rank keeps; resuming
#              works there, and without that copy rank 1 says what to copy (exit 2).
set -euo pipefail
alexnet=$(realpath "$1") python=$2 work=$3 mode=${4:-equality}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
require_fashion_mnist
"$python" -c "import h5py, numpy" 2> /dev/null || { echo "skipped: $python has no h5py"; exit 77; }
"$alexnet" pack --source fashion-mnist --per-class 40 --val 40 --output small.h5 --no-progress > /dev/null
# alexnet-mini has dropout 0.5 at fc6 and fc7, so the masks' keys (the item's place in the global
# batch) are exercised.
common=(--net "$here/../../experiments/alexnet-mini.toml" --data small.h5 --devices cpu --threads 1
        --epochs 1 --max-steps 5 --progress false --timeout 60s)

# A port no one listens on now (the store binds it a moment later).
free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# compare RUN_A RUN_B exact|close: the last checkpoints' params and momentum.
compare() {
  "$python" - "$@" <<'PY'
import glob, sys
import h5py, numpy as np
a_run, b_run, how = sys.argv[1:4]
a = h5py.File(sorted(glob.glob(a_run + "/checkpoints/*.h5"))[-1], "r")
b = h5py.File(sorted(glob.glob(b_run + "/checkpoints/*.h5"))[-1], "r")
assert a.attrs["step"] == b.attrs["step"] == 5 and a.attrs["position"] == b.attrs["position"], \
    (a.attrs["step"], b.attrs["step"], a.attrs["position"], b.attrs["position"])
worst = 0.0
for group in ("params", "momentum"):
    for name in a[group]:
        x, y = a[group][name][:], b[group][name][:]
        assert x.shape == y.shape, (group, name)
        if how == "exact":
            assert np.array_equal(x, y), (b_run, group, name, float(np.abs(x - y).max()))
        else:
            # float32 sums over 2B items in one GEMM against two sums over B added after: a few
            # ulps per step, carried by momentum through 5 steps. 1e-5 relative is ~80 ulps.
            assert np.allclose(x, y, rtol=1e-5, atol=1e-6), (b_run, group, name, float(np.abs(x - y).max()))
        worst = max(worst, float(np.abs(x - y).max()))
print(f"{b_run} against {a_run}: {how}, largest difference {worst:.3g}")
PY
}

# The steps' losses and errors (metrics/steps.csv without its timing columns) must be the same.
same_steps() {
  diff <(cut -d, -f1-6 "$1/metrics/steps.csv") <(cut -d, -f1-6 "$2/metrics/steps.csv") > /dev/null ||
    { echo "$2's metrics/steps.csv differs from $1's"; exit 1; }
}

# Runs 4 ranks of `train ... --out RUN`, each given by the command `launcher_env RANK PORT`'s
# variables, and waits for all of them.
run_ranks() {
  local run=$1 setter=$2 port pids=() rank
  port=$(free_port)
  for rank in 0 1 2 3; do
    env $($setter $rank "$port") "$alexnet" train "${common[@]}" --batch 10 --log-every 1 --out "$run" \
      > "$run.$rank.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || { cat "$run".*.log; echo "a rank of $run failed"; exit 1; }; done
}
torchrun_vars() { echo RANK=$1 WORLD_SIZE=4 LOCAL_RANK=$1 MASTER_ADDR=127.0.0.1 MASTER_PORT=$2; }
openmpi_vars() {
  echo OMPI_COMM_WORLD_RANK=$1 OMPI_COMM_WORLD_SIZE=4 OMPI_COMM_WORLD_LOCAL_RANK=$1 MASTER_ADDR=127.0.0.1 MASTER_PORT=$2
}
# Slurm gives no port: the ranks derive 20000 + SLURM_JOB_ID mod 10000, so the job id is chosen
# to land on a free port in that range.
slurm_vars_at() {  # SLURM_PORT RANK IGNORED_PORT
  local job=$(( 70000 + $1 - 20000 ))
  echo SLURM_PROCID=$2 SLURM_NTASKS=4 SLURM_LOCALID=$2 SLURM_NODELIST=127.0.0.1 SLURM_JOB_ID=$job
}
free_slurm_port() {  # a free port in 20000-29999
  "$python" -c '
import socket
for p in range(20000 + __import__("os").getpid() % 9000, 30000):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass'
}

reference_4() {  # 4 ranks through alexnet launch: the run the launchers' runs must equal
  "$alexnet" launch --nproc 4 -- train "${common[@]}" --batch 10 --log-every 1 --out four > four.log 2>&1 ||
    { cat four.log; exit 1; }
}

case "$mode" in
  equality)
    "$alexnet" train "${common[@]}" --batch 20 --log-every 1 --out one 2> one.log
    "$alexnet" launch --nproc 2 -- train "${common[@]}" --batch 20 --log-every 1 --out two > two.log 2>&1 ||
      { cat two.log; exit 1; }
    compare one two exact
    same_steps one two
    # Evaluation as 2 processes: the same logits, bit for bit.
    "$alexnet" eval --checkpoint one --data small.h5 --threads 1 --logits one.npy > /dev/null
    "$alexnet" launch --nproc 2 -- eval --checkpoint one --data small.h5 --threads 1 --logits two.npy > eval2.log 2>&1 ||
      { cat eval2.log; exit 1; }
    cmp one.npy two.npy || { echo "the logits of eval as 2 processes differ"; exit 1; }
    echo "two processes: logits of eval bit-identical"
    reference_4
    compare one four close
    # The replicas' gradient all-reduce in buckets of 16 KiB (7 a step, sent while backward runs)
    # against one bucket of the whole buffer: the same sums, bit for bit.
    "$alexnet" launch --nproc 4 -- train "${common[@]}" --batch 10 --log-every 1 --bucket-kb 16 --out buckets \
      > buckets.log 2>&1 || { cat buckets.log; exit 1; }
    grep -q "7 bucket(s)" buckets/logs/rank-0/alexnet.INFO || { echo "not 7 buckets a step"; exit 1; }
    "$alexnet" launch --nproc 4 -- train "${common[@]}" --batch 10 --log-every 1 --bucket-kb 100000 --out bucket \
      > bucket.log 2>&1 || { cat bucket.log; exit 1; }
    compare bucket buckets exact
    # 1 KiB: a bucket after every layer with parameters, the last ending at the buffer's start;
    # nothing may be sent twice (it was: the whole buffer again at the end, 9 sends for 8 layers).
    "$alexnet" launch --nproc 4 -- train "${common[@]}" --batch 10 --log-every 1 --bucket-kb 1 --out tiny \
      > tiny.log 2>&1 || { cat tiny.log; exit 1; }
    grep -q "8 bucket(s)" tiny/logs/rank-0/alexnet.INFO ||
      { grep bucket tiny/logs/rank-0/alexnet.INFO; echo "not one bucket per layer with parameters"; exit 1; }
    compare bucket tiny exact
    grep -q '"world": 4, "replicas": 2, "towers": 2, "global_batch": 20' four/manifest.json ||
      { echo "the manifest does not record the grid"; exit 1; }
    [ -d four/logs/rank-3 ] || { echo "no logs/rank-3"; exit 1; }
    ;;
  launchers)
    reference_4
    run_ranks torch torchrun_vars
    compare four torch exact && same_steps four torch
    run_ranks ompi openmpi_vars
    compare four ompi exact && same_steps four ompi
    run_ranks slurm "slurm_vars_at $(free_slurm_port)"
    compare four slurm exact && same_steps four slurm
    ;;
  mpirun)
    command -v mpirun > /dev/null || { echo "skipped: no mpirun (tools/setup.sh installs openmpi-bin)"; exit 77; }
    reference_4
    mpirun --allow-run-as-root --oversubscribe -np 4 -x MASTER_ADDR=127.0.0.1 -x MASTER_PORT="$(free_port)" \
      "$alexnet" train "${common[@]}" --batch 10 --log-every 1 --out mpi > mpi.log 2>&1 || { cat mpi.log; exit 1; }
    compare four mpi exact && same_steps four mpi
    ;;
  torchrun)
    command -v torchrun > /dev/null ||
      { echo "skipped: no torchrun (tools/setup.sh installs python3-torch, which brings it)"; exit 77; }
    # Debian 12's torchrun (python3-torch 1.13 on Python 3.11) cannot parse its own default
    # --redirects/--tee value "0" (Std.from_str returns None: AttributeError in to_map). A mapping
    # that names local rank 9, which this job does not have, parses, and leaves every real rank at
    # the default (no redirection, no tee). docs/processes.md gives the same workaround.
    quirk=(--redirects 9:1 --tee 9:1)
    torchrun "${quirk[@]}" --no_python --nproc_per_node 1 /bin/true > torchrun-check.log 2>&1 ||
      { echo "skipped: this torchrun cannot start a process: $(tail -n 1 torchrun-check.log)"; exit 77; }
    reference_4
    torchrun "${quirk[@]}" --no_python --nproc_per_node 4 --master_addr 127.0.0.1 --master_port "$(free_port)" \
      "$alexnet" train "${common[@]}" --batch 10 --log-every 1 --out torchrun > torchrun.log 2>&1 ||
      { cat torchrun.log; exit 1; }
    compare four torchrun exact && same_steps four torchrun
    ;;
  schemes)
    # Each --parallel scheme at K = 2 and 4 processes against one process on the same global
    # batch (the same images in the same order; dropout keyed by the item's global index).
    eval_logits() {  # RUN: the test split's logits of RUN's last checkpoint, into RUN.npy
      "$alexnet" eval --checkpoint "$1" --data small.h5 --threads 1 --logits "$1.npy" > /dev/null
    }
    close_logits() {  # RUN_A RUN_B: within the parameters' tolerance, carried through the net
      "$python" - "$1.npy" "$2.npy" <<'PY'
import sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.shape == b.shape, (a.shape, b.shape)
# Parameters within rtol 1e-5 (see compare); a logit sums ~10^3 products of them and of the
# activations they made, so its error may grow by that fan-in's rounding: 1e-4 relative.
assert np.allclose(a, b, rtol=1e-4, atol=1e-5), float(np.abs(a - b).max())
print(f"{sys.argv[2]} against {sys.argv[1]}: logits close, largest difference {float(np.abs(a - b).max()):.3g}")
PY
    }
    launch() {  # N RUN FLAGS...
      local n=$1 run=$2; shift 2
      "$alexnet" launch --nproc "$n" -- train "${common[@]}" --log-every 1 --out "$run" "$@" > "$run.log" 2>&1 ||
        { cat "$run.log"; echo "$run failed"; exit 1; }
    }
    # data: replicas of the grouped net (--placement single), --batch B per replica.
    "$alexnet" train "${common[@]}" --placement single --batch 20 --log-every 1 --out single 2> single.log
    eval_logits single
    for k in 2 4; do
      launch $k data$k --placement single --parallel data --batch $((20 / k))
      compare single data$k close
      eval_logits data$k && close_logits single data$k
    done
    # hybrid: the 2014 scheme on the same grouped net, --batch B per worker: each worker's conv
    # part on its B items, the fc layers sharded over the workers on all of them. Evaluation runs
    # as hybrid too (the workers' items gathered to the loss's process).
    for k in 2 4; do
      launch $k hybrid$k --placement single --parallel hybrid --batch $((20 / k))
      compare single hybrid$k close
      "$alexnet" launch --nproc $k -- eval --checkpoint hybrid$k --data small.h5 --threads 1 --placement single \
        --parallel hybrid --batch $((20 / k)) --logits hybrid$k-eval.npy > hybrid$k-eval.log 2>&1 ||
        { cat hybrid$k-eval.log; exit 1; }
      cp hybrid$k-eval.npy hybrid$k.npy && close_logits single hybrid$k
      grep -q "top-1 error" hybrid$k-eval.log || { cat hybrid$k-eval.log; echo "hybrid eval printed no error"; exit 1; }
    done
    grep -q '"world": 4, "replicas": 1, "towers": 4, "global_batch": 20' hybrid4/manifest.json ||
      { grep processes hybrid4/manifest.json; echo "hybrid's manifest does not record its 4 workers"; exit 1; }
    # split: the 4-tower net, 4 processes against its 4 towers in one process: the same sums.
    "$alexnet" train "${common[@]}" --towers 4 --batch 20 --log-every 1 --out split4one 2> split4one.log
    launch 4 split4 --towers 4 --parallel split --batch 20
    compare split4one split4 exact && same_steps split4one split4
    # split+data: 2 replicas x 2 towers against the in-process split at twice the batch.
    "$alexnet" train "${common[@]}" --batch 20 --log-every 1 --out split2one 2> split2one.log
    launch 2 split2 --parallel split --batch 20
    compare split2one split2 exact
    launch 4 splitdata --parallel split+data --batch 10
    compare split2one splitdata close
    eval_logits split2one && eval_logits splitdata && close_logits split2one splitdata
    grep -q '"parallel": "split+data"' splitdata/manifest.json || { echo "the manifest does not name the scheme"; exit 1; }
    # Checkpoints stay logical: step 5 of data (4 processes) resumes as split+data (4), as split
    # in one process and as hybrid (2 workers); step 5 of hybrid (4 workers) as data (2). Each
    # continues to step 8, and all agree within tolerance.
    for run in data4-as-split+data data4-as-split data4-as-hybrid; do cp -r data4 $run; done
    cp -r hybrid4 hybrid4-as-data
    "$alexnet" launch --nproc 4 -- train --resume data4-as-split+data --placement split --parallel split+data \
      --batch 10 --max-steps 8 > resume-a.log 2>&1 || { cat resume-a.log; exit 1; }
    "$alexnet" train --resume data4-as-split --placement split --parallel split --batch 20 --max-steps 8 \
      > resume-b.log 2>&1 || { cat resume-b.log; exit 1; }
    "$alexnet" launch --nproc 2 -- train --resume data4-as-hybrid --placement single --parallel hybrid \
      --batch 10 --max-steps 8 > resume-c.log 2>&1 || { cat resume-c.log; exit 1; }
    "$alexnet" launch --nproc 2 -- train --resume hybrid4-as-data --placement single --parallel data \
      --batch 10 --max-steps 8 > resume-d.log 2>&1 || { cat resume-d.log; exit 1; }
    "$python" - data4-as-split+data data4-as-split data4-as-hybrid hybrid4-as-data <<'PY'
import glob, sys
import h5py, numpy as np
runs = [h5py.File(sorted(glob.glob(r + "/checkpoints/*.h5"))[-1], "r") for r in sys.argv[1:]]
assert [f.attrs["step"] for f in runs] == [8] * len(runs), [f.attrs["step"] for f in runs]
for other in runs[1:]:
    for name in runs[0]["params"]:
        x, y = runs[0]["params"][name][:], other["params"][name][:]
        assert np.allclose(x, y, rtol=1e-5, atol=1e-6), (other.filename, name, float(np.abs(x - y).max()))
print("checkpoints resumed across schemes (data as split+data, split and hybrid; hybrid as data): step 8, close")
PY
    ;;
  config)
    two_ranks() {  # RUN FLAGS_OF_RANK_1... : rank 0 with the common flags, rank 1 with more
      local run=$1 port; shift
      port=$(free_port)
      RANK=0 WORLD_SIZE=2 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
        "$alexnet" train "${common[@]}" --batch 10 --out "$run" > "$run.0.log" 2>&1 & local first=$!
      RANK=1 WORLD_SIZE=2 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
        "${on_machine_b[@]}" "$alexnet" train "${common[@]}" --batch 10 --out "$run" "$@" > "$run.1.log" 2>&1 &
      local second=$!
      status0=0 status1=0
      wait $first || status0=$?
      wait $second || status1=$?
    }
    on_machine_b=()
    two_ranks differ --lr 0.02
    want="rank 1's configuration differs from rank 0's: rank 0 has 'lr = 0.01', it has 'lr = 0.02'"
    for r in 0 1; do
      status=status$r
      [ "${!status}" = 2 ] && grep -qF "$want" "differ.$r.log" ||
        { cat differ.*.log; echo "rank $r: status ${!status}, not 2 with: $want"; exit 1; }
    done
    [ ! -e differ/checkpoints ] || { echo "ranks that disagree wrote checkpoints"; exit 1; }

    # Rank 1 on "machine b": the run's path shows machine-b/ there (LOCAL_RANK 0: its machine's first).
    unshare --mount true 2> /dev/null || { echo "skipped: no mount namespaces here (unshare --mount)"; exit 77; }
    mkdir -p host machine-b
    on_machine_b=(unshare --mount sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' "$PWD/machine-b" "$PWD/host")
    common=("${common[@]/--max-steps/--checkpoint-every}" --max-steps 3)  # checkpoints at 3 and 5
    two_ranks host/run
    [ "$status0$status1" = 00 ] || { cat host/run.*.log; echo "the two-machine run failed"; exit 1; }
    [ -d machine-b/run/logs/rank-1 ] && [ ! -e machine-b/run/checkpoints ] && [ ! -d host/run/logs/rank-1 ] ||
      { find host machine-b; echo "rank 1 did not write on its own machine only"; exit 1; }
    cmp host/run/config.toml machine-b/run/config.toml || { echo "machine b's config.toml differs"; exit 1; }
    resume() {
      local port; port=$(free_port)
      RANK=0 WORLD_SIZE=2 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
        "$alexnet" train --resume host/run --max-steps 5 > resume.0.log 2>&1 & local first=$!
      RANK=1 WORLD_SIZE=2 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
        "${on_machine_b[@]}" "$alexnet" train --resume host/run --max-steps 5 > resume.1.log 2>&1 &
      local second=$!
      status0=0 status1=0
      wait $first || status0=$?
      wait $second || status1=$?
    }
    resume
    [ "$status0$status1" = 00 ] || { cat resume.*.log; echo "resuming on two machines failed"; exit 1; }
    [ -e host/run/checkpoints/step-0000000005.h5 ] || { ls host/run/checkpoints; echo "no step 5"; exit 1; }
    # The manifest, rewritten by the resumed run: rank 1's tower's algorithms gathered to rank 0.
    "$python" -c 'import json, sys
m = json.load(open(sys.argv[1]))
assert m["started_at_step"] == 3, m["started_at_step"]
assert {a["tower"] for a in m["algorithms"] if a["node"] == "conv1"} == {0, 1}, m["algorithms"]' host/run/manifest.json
    # Without machine b's copy, rank 1 says what is missing before it meets anyone.
    rm machine-b/run/config.toml
    status=0
    RANK=1 WORLD_SIZE=2 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=$(free_port) \
      "${on_machine_b[@]}" "$alexnet" train --resume host/run > lonely.log 2>&1 || status=$?
    want="host/run/config.toml does not exist (not a run directory, or this machine ran none of its ranks"
    [ "$status" = 2 ] && grep -qF "$want" lonely.log || { cat lonely.log; echo "status $status, not 2 with: $want"; exit 1; }
    ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
echo "processes.sh $mode: passed"
