#!/usr/bin/env bash
# Figure 3's claim, "in every run": the conv1 kernels of one tower come out colour-agnostic and
# those of the other colour-specific, whatever the seed. Trains the same net under several seeds
# and placements on three-channel data and tabulates each tower's colour statistic (alexnet show;
# docs/design.md, "The colour statistic"), with each run's conv1 grid.
# Flags: see experiments/lib/common.sh (--config, --out, and train flags after --).
# SEEDS (default "1 2 3") and PLACEMENTS (default "split single"; add dense for a net without
# towers, whose two halves are drawn and scored the same way) choose the runs.
# Without --data after --, the data is Fashion-MNIST colourised at pack time (alexnet pack
# --colourise 1 into data/fashion-mnist-colour.h5): a synthetic stand-in, each image tinted with a
# hue spread widely around a class-specific centre; pass CIFAR-10 or ImageNet with --data instead.
#   experiments/tower_specialisation.sh -- --epochs 2
#   SEEDS="1 2 3 4 5" experiments/tower_specialisation.sh --out runs/towers -- --epochs 5
source "$(dirname "$0")/lib/common.sh"
seeds=${SEEDS:-1 2 3}
placements=${PLACEMENTS:-split single}
if [ -z "$(train_flag data)" ]; then
  data=$repo/data/fashion-mnist-colour.h5
  [ -f "$data" ] || "$alexnet" pack --source fashion-mnist --colourise 1 --output "$data" --no-progress
  train_flags+=(--data "$data")
fi
devices=$(run_devices)
if [ ${#train_flags[@]} -gt 0 ]; then  # --devices and --seed are set per run below
  mapfile -t train_flags < <(printf '%s\n' "${train_flags[@]}" |
    awk 'skip {skip = 0; next} /^--(devices|seed)$/ {skip = 1; next} !/^--(devices|seed)=/')
fi
rows=()
for seed in $seeds; do
  for placement in $placements; do
    name=$placement-seed$seed
    d=$devices
    [ "$placement" = split ] || d=${devices%%,*}
    run_variant "$name" --placement "$placement" --devices "$d" --seed "$seed"
    "$alexnet" show "$out/$name" --pictures conv1 --output "$out/$name/show" > /dev/null
    csv=$out/$name/show/colour.csv
    [ -f "$csv" ] || { echo "$(basename "$0"): $name: no colour statistic (one-channel data?)" >&2; exit 2; }
    val=$(awk -F, 'END {printf "%.2f", $5 * 100}' "$out/$name/metrics/epochs.csv")
    gap_p=$(awk -F, 'NR == 2 {printf "%.3g", $2}' "$out/$name/show/colour_gap.csv")
    rows+=("$(awk -F, -v s="$seed" -v p="$placement" -v v="$val" -v g="$gap_p" 'NR > 1 {c[$1] = $4; n++}
      END {lo = c[0]; hi = c[0]; for (t = 1; t < n; t++) {if (c[t] < lo) lo = c[t]; if (c[t] > hi) hi = c[t]}
           printf "| %s | %s | %s |", s, p, v; for (t = 0; t < n; t++) printf " %.3f |", c[t]
           printf " %.3f | %s |\n", hi - lo, g}' "$csv")")
  done
done
report "Tower specialisation ($(basename "$config" .toml))" \
  --note "Each tower's conv1 colour statistic per seed: the mean share of its kernels' energy off the grey axis (0 grey, 1 colour-opponent, 2/3 for random weights), the gap between towers and its permutation p-value. See towers.md."
{
  echo "# Tower specialisation: conv1 colour statistic per tower"
  echo
  echo "Data: $(train_flag data). Seeds: $seeds. Placements: $placements."
  echo "Colour statistic: mean over a tower's kernels of the share of the kernel's energy off the grey"
  echo "axis (0 grey, 1 colour-opponent, 2/3 for random weights). Gap: the largest minus the smallest tower's."
  echo "p: the share of 10,000 random splits of the same kernels into towers of the same sizes whose gap"
  echo "is as large (a permutation test; small p: the kernels' colour depends on their tower)."
  echo
  echo "| seed | placement | val top-1 % | tower 0 | tower 1 | gap | p |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  for seed in $seeds; do
    for placement in $placements; do
      cp "$out/$placement-seed$seed/show/conv1.png" "$out/report/conv1-$placement-seed$seed.png"
      echo "### $placement, seed $seed"
      echo
      echo "![conv1 kernels, $placement, seed $seed](conv1-$placement-seed$seed.png)"
      echo
    done
  done
} > "$out/report/towers.md.tmp"
mv "$out/report/towers.md.tmp" "$out/report/towers.md"
sed -n '/^| seed/,/^$/p' "$out/report/towers.md"
echo "table and conv1 grids: $out/report/towers.md"
