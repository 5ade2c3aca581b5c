#!/usr/bin/env bash
# `alexnet time` under many processes: rank 0 prints one report holding every layer of both towers,
# the gradient all-reduce rows and the scaling efficiency only when there are replicas, the other
# ranks print nothing, and --write leaves files from rank 0 alone.
#   time_many.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
alexnet=$1 python=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
here=$(cd "$(dirname "$0")/../.." && pwd)
args=(time --net "$here/experiments/alexnet-mini.toml" --placement split --devices cpu --batch 8
      --iterations 2 --warmup 1 --threads 1 --timeout 60s)

# The (node, type, tower) of every layer and exchange row, from one process as the reference.
rows() { grep -E '^(\[rank 0\] )?[a-z0-9_.]+ +[a-z_]+ +[0-9]+ +[0-9.]+ +[0-9.]+' "$1" |
         sed 's/^\[rank 0\] //' | grep -v '^grad all-reduce' | awk '{print $1, $2, $3}'; }
"$alexnet" "${args[@]}" > "$work/one.out"
rows "$work/one.out" > "$work/one.rows"
[ "$(awk '$3 == 1' "$work/one.rows" | wc -l)" -gt 10 ] || fail "the one-process run has no rows of tower 1"

for n in 2 4; do
  set +e
  "$alexnet" launch --nproc $n -- "${args[@]}" > "$work/$n.out" 2> "$work/$n.err"
  rc=$?
  set -e
  cat "$work/$n.out" "$work/$n.err"
  [ "$rc" = 0 ] || fail "launch --nproc $n -- time: exit status $rc, expected 0"
  ! grep -q '^\[rank [1-9]\]' "$work/$n.out" "$work/$n.err" || fail "--nproc $n: a rank other than 0 printed"
  rows "$work/$n.out" > "$work/$n.rows"
  diff "$work/one.rows" "$work/$n.rows" || fail "--nproc $n: the layer rows differ from one process's"
  grep -q "replicas x towers = $((n / 2)) x 2 = $n processes" "$work/$n.out" || fail "--nproc $n: no grid in the title"
  grep -q 'full step, .* images/s for the global batch of' "$work/$n.out" || fail "--nproc $n: no full step"
done
! grep -q 'grad all-reduce\|scaling efficiency' "$work/2.out" || fail "one replica: an all-reduce or an efficiency"
for t in 0 1; do
  grep -qE "^\[rank 0\] grad all-reduce +all-reduce +$t +[0-9.]+ +[1-9][0-9]*$" "$work/4.out" ||
    fail "2 replicas: no all-reduce row (ms, bytes) for tower $t"
done
grep -qE '^\[rank 0\] scaling efficiency [0-9.]+ = step without the gradient all-reduce' "$work/4.out" ||
  fail "2 replicas: no scaling efficiency"

# --write: two ranks started by hand, each given its own folder; only rank 0's may exist.
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pids=()
for r in 0 1; do
  "$alexnet" "${args[@]}" --rank $r --world-size 2 --store-host 127.0.0.1 --store-port "$port" \
    --write "$work/write-$r" > "$work/write-$r.out" 2>&1 &
  pids+=($!)
done
for r in 0 1; do wait "${pids[$r]}" || { cat "$work/write-$r.out"; fail "rank $r of the --write run failed"; }; done
for f in timing.txt timing.csv timing.json; do [ -f "$work/write-0/$f" ] || fail "rank 0 wrote no $f"; done
[ ! -e "$work/write-1" ] || fail "rank 1 wrote $work/write-1"
[ ! -s "$work/write-1.out" ] || fail "rank 1 printed: $(cat "$work/write-1.out")"
grep -q '^sum_of_rows_rank_1,' "$work/write-0/timing.csv" || fail "rank 0's timing.csv lacks rank 1's sum"
grep -q '"processes": {"world": 2, "replicas": 1' "$work/write-0/timing.json" || fail "timing.json lacks the grid"

echo "alexnet time: 2 and 4 processes report every layer of both towers, the all-reduce and efficiency only with 2 replicas, --write from rank 0 only"
