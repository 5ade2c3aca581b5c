#!/usr/bin/env bash
# Many processes against one on this machine's CPU cores: alexnet-mini, batch 128 per replica.
#   experiments/bench/processes.sh [ROUNDS]   (default 5; build/alexnet must exist)
# Each round runs, one after the other (alternating, so drift in the machine's speed hits all
# alike), `alexnet time` for:
#   split-2proc    the split as 2 processes (one tower each), 1 thread each (Gloo between them)
#   split-1proc    the split in 1 process with 2 threads (the towers side by side, local exchanges)
#   single-1proc   single in 1 process with 2 threads
#   single-2rep    2 data-parallel replicas of single, 1 thread each: the gradient all-reduce's
#                  share of the step (1 - scaling efficiency)
# and prints each one's median full-step time and images/s over the rounds, and the ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
alexnet=${ALEXNET:-build/alexnet}
rounds=${1:-5}
net=experiments/alexnet-mini.toml
common=(--net "$net" --devices cpu --batch 128 --iterations 10 --warmup 3)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {  # NAME ARGS...: one timing, its full step (ms) and images/s appended to $out/NAME
  local name=$1
  shift
  "$@" > "$out/last.txt" 2>&1 || { cat "$out/last.txt"; exit 1; }
  local ms rate eff
  ms=$(sed -n 's/.*full step[^:]*: \([0-9.]*\) ms.*/\1/p' "$out/last.txt" | head -n 1)
  rate=$(sed -n 's/.* \([0-9.]*\) images\/s.*/\1/p' "$out/last.txt" | head -n 1)
  eff=$(sed -n 's/.*scaling efficiency \([0-9.]*\) .*/\1/p' "$out/last.txt" | head -n 1)
  echo "$ms ${rate:-0} ${eff:-1}" >> "$out/$name"
}

for r in $(seq 1 "$rounds"); do
  run split-2proc "$alexnet" launch --nproc 2 -- time "${common[@]}" --placement split --threads 1
  run split-1proc "$alexnet" time "${common[@]}" --placement split --threads 2
  run single-1proc "$alexnet" time "${common[@]}" --placement single --threads 2
  run single-2rep "$alexnet" launch --nproc 2 -- time "${common[@]}" --placement single --threads 1
  echo "round $r of $rounds done" >&2
done

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
col() { awk -v c="$2" '{print $c}' "$out/$1" | median; }
echo "alexnet-mini, batch 128 per replica, $(nproc) cores, medians of $rounds alternating rounds"
printf '%-14s %12s %10s\n' run "step (ms)" "images/s"
for n in split-2proc split-1proc single-1proc single-2rep; do
  printf '%-14s %12.1f %10.0f\n' "$n" "$(col $n 1)" "$(col $n 2)"
done
awk -v a="$(col split-2proc 2)" -v b="$(col single-1proc 2)" -v c="$(col split-1proc 2)" \
  'BEGIN {printf "split as 2 processes / single in 1 process: %.2fx images/s; / split in 1 process: %.2fx\n", a / b, a / c}'
awk -v e="$(col single-2rep 3)" \
  'BEGIN {printf "2 replicas: scaling efficiency %.3f, so the gradient all-reduce takes %.1f%% of the step\n", e, 100 * (1 - e)}'
