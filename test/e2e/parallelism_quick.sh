#!/usr/bin/env bash
# The CI-sized form of experiments/parallelism.sh: alexnet-mini on 40 Fashion-MNIST images per
# class, every scheme at 1, 2 and 4 processes for 2 timed steps and one short epoch. Checks that
# each configuration timed and trained, and that the report (its table and plot) came out with a
# row per configuration and the bytes each scheme must move.
#   parallelism_quick.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
alexnet=$1 python=$2 work=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
"$alexnet" pack --source fashion-mnist --per-class 40 --val 100 --output "$work/fm.h5" --no-progress
PROCESSES="1 2 4" TIME_ITERATIONS=2 "$repo/experiments/parallelism.sh" --out "$work/out" --alexnet "$alexnet" \
  --python "$python" -- --data "$work/fm.h5" --epochs 1 --batch 25 --log-every 2 --devices cpu --threads 1 \
  --timeout 60s
report=$work/out/report/report.md
[ -s "$work/out/report/parallelism.png" ] || { echo "no plot"; exit 1; }
"$python" - "$report" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 13 and cells[1].isdigit():
        rows[(cells[0], int(cells[1]))] = cells
want = {("split", 1), ("data", 1), ("hybrid", 1), ("split", 2), ("data", 2), ("hybrid", 2), ("data", 4),
        ("split+data", 4), ("hybrid", 4)}
assert set(rows) == want, sorted(rows)
for key, c in rows.items():
    assert float(c[4]) > 0 and c[12] != "—", (key, c)  # images/s, a val error
# Only the split moves activations; only replicas all-reduce gradients.
assert float(rows[("split", 2)][9]) > 0 and float(rows[("data", 2)][9]) == 0, rows
assert float(rows[("data", 2)][10]) > 0 and float(rows[("split", 2)][10]) == 0, rows
assert float(rows[("split+data", 4)][9]) > 0 and float(rows[("split+data", 4)][10]) > 0, rows
# Hybrid moves both: the batch and fc gathers, and the conv layers' gradients over its workers.
assert float(rows[("hybrid", 2)][9]) > 0 and float(rows[("hybrid", 2)][10]) > 0, rows
assert float(rows[("hybrid", 4)][10]) > float(rows[("hybrid", 2)][10]), rows  # 2(K-1)/K grows with K
# The grid: replicas x towers (hybrid: 1 x its workers).
assert rows[("split+data", 4)][2] == "2 x 2" and rows[("data", 4)][2] == "4 x 1", rows
assert rows[("hybrid", 4)][2] == "1 x 4" and rows[("hybrid", 4)][3] == "100", rows
print(f"parallelism report: {len(rows)} configurations")
PY
