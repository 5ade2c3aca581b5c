#!/usr/bin/env bash
# Each run writes TensorBoard's HParams records, so that TensorBoard's HParams tab lists a split
# run, a single run and the parallel schemes in one table: read back with TensorBoard's own reader
# (from PyPI, in .venv-tools, which tools/setup.sh makes) by test/e2e/check_hparams.py.
#   hparams.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"
tb_python="$here/../../.venv-tools/bin/python"
"$tb_python" -c "import tensorboard" 2> /dev/null ||
  { echo "skipped: no TensorBoard reader in .venv-tools (tools/setup.sh installs it from PyPI)"; exit 77; }
"$alexnet" pack --source fashion-mnist --per-class 10 --val 20 --output "$work/small.h5" --no-progress
common=(--net "$net" --data "$work/small.h5" --devices cpu --threads 1 --batch 10 --epochs 1 --progress false)
"$alexnet" train "${common[@]}" --placement split --out "$work/runs/split" 2> /dev/null
"$alexnet" train "${common[@]}" --placement single --out "$work/runs/single" 2> /dev/null
"$alexnet" launch --nproc 2 -- train "${common[@]}" --placement single --parallel data --out "$work/runs/data" \
  > "$work/data.log" 2>&1 || { cat "$work/data.log"; exit 1; }
"$alexnet" launch --nproc 4 -- train "${common[@]}" --placement dense --parallel hybrid --out "$work/runs/hybrid" \
  > "$work/hybrid.log" 2>&1 || { cat "$work/hybrid.log"; exit 1; }
"$tb_python" "$here/check_hparams.py" "$work/runs/split=split,split,1" "$work/runs/single=data,single,1" \
  "$work/runs/data=data,single,2" "$work/runs/hybrid=hybrid,dense,4"
