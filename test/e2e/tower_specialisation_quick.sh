#!/usr/bin/env bash
# The CI-sized form of experiments/tower_specialisation.sh: one seed, one epoch, split and single,
# on 40 colourised Fashion-MNIST images per class. Checks that both runs trained, that the table
# has each tower's colour statistic for both, that split and single (the same function from the
# same seed) agree on it, and that each run's conv1 grid is in the report.
#   tower_specialisation_quick.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"
repo=$(cd "$here/../.." && pwd)
"$alexnet" pack --source fashion-mnist --per-class 40 --val 100 --colourise 1 --output "$work/colour.h5" --no-progress
SEEDS=1 "$repo/experiments/tower_specialisation.sh" --out "$work/out" --alexnet "$alexnet" --python "$python" -- \
  --data "$work/colour.h5" --epochs 1 --batch 50 --profile-every 0 --log-every 2 --devices cpu --threads 1 \
  --loader-threads 1
table=$work/out/report/towers.md
for p in split single; do
  # seed, placement, val error, tower 0, tower 1, gap, and the gap's p-value (in (0, 1]).
  grep -qE "^\| 1 \| $p \| [0-9.]+ \| 0\.[0-9]{3} \| 0\.[0-9]{3} \| 0\.[0-9]{3} \| (1|0\.[0-9]+|[0-9.]+e-[0-9]+) \|$" "$table" ||
    { echo "no row for $p in $table:"; cat "$table"; exit 1; }
  [ -s "$work/out/report/conv1-$p-seed1.png" ] || { echo "no conv1 grid for $p"; exit 1; }
done
# split and single compute the same function: their statistics agree to float drift.
awk -F'|' '$3 ~ /split|single/ {t0[$3] = $5; t1[$3] = $6}
  END {d0 = t0[" split "] - t0[" single "]; d1 = t1[" split "] - t1[" single "]
       if (d0 < 0) d0 = -d0; if (d1 < 0) d1 = -d1
       if (d0 > 0.01 || d1 > 0.01) {print "split and single differ: " d0 ", " d1; exit 1}}' "$table"
echo "tower specialisation quick: passed"
