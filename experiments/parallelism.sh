#!/usr/bin/env bash
# The parallelism schemes side by side: one network, one run file, each scheme at 1, 2 and 4
# processes (`alexnet launch`; one process runs alone). For each: `alexnet time` (images/s, the
# step split into compute, exchanges and gradient all-reduce, the bytes each moves) and a short
# `alexnet train` (its final val error), then one report with a plot.
#   experiments/parallelism.sh                                   # alexnet-mini, CPU, 1 epoch
#   PROCESSES="2 4" experiments/parallelism.sh --out runs/par -- --epochs 2
# Schemes (train/parallel.h): split (the two-tower net, its towers in one process or one process
# each: 1 and 2 processes), data (replicas of the same net grouped on one device, --placement
# single: the same function as split), split+data (replicas of the two-process split: 4), and
# hybrid (the 2014 scheme on the same grouped net: conv layers data-parallel over the processes,
# fc layers sharded over them; at 1 process, one worker: the net itself).
# --batch is per replica, so the global batch grows with the replicas, as in a real scale-out.
# Environment: PROCESSES (default "1 2 4"), TIME_ITERATIONS (default 10). Flags as the other
# experiments (experiments/lib/common.sh); train flags after -- (default --epochs 1).
# On a 2-core machine more than 2 processes measure oversubscription, not scaling.
source "$(dirname "$0")/lib/common.sh"
processes=${PROCESSES:-1 2 4}
iterations=${TIME_ITERATIONS:-10}
[ -n "$(train_flag epochs)" ] || train_flags+=(--epochs 1)
net=$(base_net)
batch=$(train_flag batch)
[ -n "$batch" ] || batch=$(sed -n 's/^batch *= *\([0-9]*\).*/\1/p' "$config")
devices=$(run_devices)
# The devices are set per configuration below; --threads and --timeout apply to `time` too.
time_flags=()
for flag in threads timeout; do
  [ -z "$(train_flag $flag)" ] || time_flags+=("--$flag" "$(train_flag $flag)")
done
if [ ${#train_flags[@]} -gt 0 ]; then
  mapfile -t train_flags < <(printf '%s\n' "${train_flags[@]}" |
    awk 'skip {skip = 0; next} /^--devices$/ {skip = 1; next} !/^--devices=/')
fi
mkdir -p "$out/report"

# with N ALEXNET_ARGS...: alexnet alone for one process, else under `alexnet launch`.
with() {
  local n=$1; shift
  if [ "$n" = 1 ]; then "$alexnet" "$@"; else "$alexnet" launch --nproc "$n" -- "$@"; fi
}

# run SCHEME N PLACEMENT: time and train one configuration into OUT/SCHEME-N.
run() {
  local scheme=$1 n=$2 placement=$3 dir="$out/$1-$2"
  local flags=(--placement "$placement" --parallel "$scheme" --devices "$devices")
  if [ -f "$dir/done" ]; then
    echo "== $scheme on $n: already run ($dir)"
    return
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  echo "== $scheme on $n process(es): alexnet time ${flags[*]}"
  with "$n" time --net "$net" "${flags[@]}" --batch "$batch" --iterations "$iterations" --warmup 2 \
    "${time_flags[@]}" --write "$dir/time" > "$dir/time.txt"
  echo "== $scheme on $n process(es): alexnet train ${flags[*]} ${train_flags[*]}"
  with "$n" train --config "$config" --out "$dir/train" --progress false "${flags[@]}" "${train_flags[@]}" \
    > "$dir/train.txt" 2>&1
  printf '%s\n' "$scheme" "$n" "$placement" > "$dir/scheme"
  touch "$dir/done"
}

for n in $processes; do
  case $n in
    1) run split 1 split; run data 1 single; run hybrid 1 single ;;
    2) run split 2 split; run data 2 single; run hybrid 2 single ;;
    *) run data "$n" single
       [ $((n % 2)) -ne 0 ] || run split+data "$n" split
       run hybrid "$n" single ;;
  esac
done
"$python" "$repo/experiments/lib/parallelism_report.py" "$out" --title "Parallelism schemes ($(basename "$config" .toml), batch $batch per replica)"
echo "report: $out/report/report.md"
