#!/usr/bin/env bash
# `alexnet time --trace` and `alexnet train --trace` write a Chrome trace that agrees with the same
# run's timing table (test/e2e/check_trace.py: the format's fields, named lanes, balanced flows,
# every node on every tower, each row's mean within max(0.002 ms, 0.5%) of its events'), for
# split and single in one process and 2- and 4-process jobs of every scheme; bad --trace input
# gets exit 2 before anything is written.
#   trace.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"
fail() { echo "FAIL: $*"; exit 1; }
check() { "$python" "$here/check_trace.py" "$@" || fail "check_trace.py $*"; }
timed=(time --net "$net" --devices cpu --batch 8 --iterations 2 --warmup 1 --threads 1 --timeout 60s)

# alexnet time: one process (split, gzip; single), then 2 and 4 processes of each scheme.
"$alexnet" "${timed[@]}" --placement split --write "$work/t-split" --trace "$work/t-split.json.gz" > /dev/null
check "$work/t-split.json.gz" "$work/t-split/timing.csv" 1 --steps 2
"$alexnet" "${timed[@]}" --placement single --write "$work/t-single" --trace "$work/t-single.json" > /dev/null
check "$work/t-single.json" "$work/t-single/timing.csv" 1 --steps 2
for job in "2 split" "2 data" "4 split+data" "4 hybrid"; do
  read -r n parallel <<< "$job"
  placement=split
  [ "$parallel" != data ] || placement=single
  [ "$parallel" != hybrid ] || placement=dense
  name=t-$n-${parallel/+/-}
  "$alexnet" launch --nproc "$n" -- "${timed[@]}" --parallel "$parallel" --placement "$placement" \
    --write "$work/$name" --trace "$work/$name.json" > "$work/$name.log" 2>&1 || { cat "$work/$name.log"; fail "$name"; }
  check "$work/$name.json" "$work/$name/timing.csv" "$n" --steps 2
done
# The ranks share this host's clock, so the offsets measured through the store must come out as 0
# within their uncertainty.
"$python" - "$work/t-4-split-data.json" <<'PY'
import json, sys
about = json.load(open(sys.argv[1]))["otherData"]
assert "TCP store" in about["clock_alignment"], about["clock_alignment"]
for o in about["clock_offsets"]:
    assert abs(o["offset_ms"]) <= o["uncertainty_ms"] + 0.01, o
print("clock offsets of 4 ranks on one host:", ", ".join("%+.4f +- %.4f ms" % (o["offset_ms"], o["uncertainty_ms"])
                                                     for o in about["clock_offsets"]))
PY

# alexnet train: the trace covers every profiled step, so its means are the table's.
"$alexnet" pack --source fashion-mnist --per-class 20 --val 20 --output "$work/small.h5" --no-progress
trained=(train --net "$net" --data "$work/small.h5" --devices cpu --threads 1 --batch 10 --epochs 1
         --max-steps 6 --progress false --profile-every 1 --log-every 2 --timeout 60s)
"$alexnet" "${trained[@]}" --out "$work/run" --trace "$work/run/trace" --trace-steps 100 2> /dev/null
check "$work/run/trace/trace.json" "$work/run/timing.csv" 1 --steps 4
grep -q '"cat": "data", "ph": "X"' "$work/run/trace/trace.json" || fail "no loader or data-wait events"
# tools/report draws one step of each run's trace, and puts the runs' layer tables side by side.
"$python" "$here/../../tools/report" "$work/run" "$work/t-2-split" --out "$work/report" > /dev/null 2>&1 ||
  fail "tools/report"
[ -s "$work/report/timeline-run.png" ] && grep -q "timeline-run.png" "$work/report/report.md" || fail "no timeline"
grep -q "^### Side by side" "$work/report/report.md" || fail "no side-by-side layer table"
"$alexnet" launch --nproc 4 -- "${trained[@]}" --parallel split+data --out "$work/run4" --trace "$work/run4-trace" \
  --trace-steps 100 \
  > "$work/run4.log" 2>&1 || { cat "$work/run4.log"; fail "train under 4 processes"; }
# Rank 0's table times its own tower; the other ranks' lanes are checked for their events.
check "$work/run4-trace/trace.json" "$work/run4/timing.csv" 4 --steps 4 --table-rank 0
grep -q '"name": "grad all-reduce", "cat": "all-reduce"' "$work/run4-trace/trace.json" || fail "no all-reduce buckets"

# The run figures in steps.csv: MFU in (0, 1], memory, and under 4 processes the step time's
# spread over the ranks with the slowest rank's number (docs/formats.md).
"$python" - "$work/run" 1 "$work/run4" 4 <<'PY'
import csv, sys
for run, world in zip(sys.argv[1::2], map(int, sys.argv[2::2])):
    rows = list(csv.DictReader(open(run + "/metrics/steps.csv")))
    assert rows, run
    for r in rows:
        assert 0 < float(r["mfu"]) <= 1, (run, r["mfu"])
        assert float(r["host_rss_mib"]) > 10, (run, r["host_rss_mib"])
        assert r["device_mib"] == "" and r["device_peak_mib"] == "", "a CPU run has no device memory"
        lo, mid, hi = float(r["step_ms_min"]), float(r["step_ms_median"]), float(r["step_ms_max"])
        assert 0 < lo <= mid <= hi, (run, lo, mid, hi)
        assert (r["slowest_rank"] == "") if world == 1 else (0 <= int(r["slowest_rank"]) < world), r
    e = list(csv.DictReader(open(run + "/metrics/epochs.csv")))
    assert all(0 < float(x["mfu"]) <= 1 and float(x["host_peak_mib"]) > 10 for x in e), e
    print("%s: %d step rows, MFU %s, step ms %s..%s (slowest rank %s)" % (run, len(rows), rows[-1]["mfu"],
          rows[-1]["step_ms_min"], rows[-1]["step_ms_max"], rows[-1]["slowest_rank"] or "-"))
PY

# Bad input: exit 2, one message naming the flag, nothing written.
expect2() {
  local name=$1 text=$2
  shift 2
  set +e
  "$alexnet" "$@" > /dev/null 2> "$work/$name.err"
  local rc=$?
  set -e
  [ "$rc" = 2 ] && grep -qF -- "$text" "$work/$name.err" || { cat "$work/$name.err"; fail "$name: status $rc"; }
}
mkdir -p "$work/locked" && chmod 500 "$work/locked"
if [ "$(id -u)" != 0 ]; then  # root writes anywhere: a file in the way stands in for a folder
  expect2 unwritable "--trace $work/locked/t/trace.json: cannot write in $work/locked/t" "${trained[@]}" \
    --out "$work/never" --trace "$work/locked/t"
fi
touch "$work/a-file"
expect2 not-a-folder "--trace $work/a-file/t/trace.json: cannot write in $work/a-file/t" \
  "${trained[@]}" --out "$work/never" --trace "$work/a-file/t"
expect2 too-large "more than the 2000000 a trace may hold" "${trained[@]}" --out "$work/never" --trace "$work/big" \
  --trace-steps 100000
expect2 no-steps "--trace-steps must be at least 1, got 0" "${trained[@]}" --out "$work/never" --trace "$work/t0" \
  --trace-steps 0
[ ! -e "$work/never" ] || fail "a refused run left $work/never"
echo "trace: time (1, 2 and 4 processes, every scheme) and train (1 and 4 processes) traces agree with their tables"
