#!/usr/bin/env bash
# The same net, data and seed under the three placements: split (two towers, exchanges), single
# (one device, own-tower reads as groups = 2; the same function as split) and dense (one tower,
# no groups). Records accuracy curves, images/s, per-layer timing and each placement's conv1
# kernels (alexnet show), and writes one report.
# Flags: see experiments/lib/common.sh (--config, --out, and train flags after --).
#   experiments/split_vs_single.sh                                   # alexnet-mini, CPU
#   experiments/split_vs_single.sh --config experiments/runs/paper.toml --out runs/paper-placements
# For the paper's run on GPUs, split uses the run file's devices and single/dense the first.
source "$(dirname "$0")/lib/common.sh"
devices=$(run_devices)
# single and dense run on the first of split's devices, so --devices after -- is taken out here.
if [ ${#train_flags[@]} -gt 0 ]; then
  mapfile -t train_flags < <(printf '%s\n' "${train_flags[@]}" |
    awk 'skip {skip = 0; next} /^--devices$/ {skip = 1; next} !/^--devices=/')
fi
run_variant split --placement split --devices "$devices"
run_variant single --placement single --devices "${devices%%,*}"
run_variant dense --placement dense --devices "${devices%%,*}"
# Each placement's conv1 kernels per tower, with their colour statistic, for the report.
for v in split single dense; do
  "$alexnet" show "$out/$v" --pictures conv1 --output "$out/$v/show" > /dev/null
done
report "Split vs single vs dense ($(basename "$config" .toml))"
