#!/usr/bin/env bash
# The paper's Figure 1 as an experiment: the same net, seed and initial weights with ReLU and with
# tanh units, and how many training images each needs to first reach a training-error threshold.
#   experiments/relu_vs_tanh.sh [--threshold PCT] [common flags] [-- TRAIN_FLAGS...]
#   experiments/relu_vs_tanh.sh --out runs/relu-vs-tanh -- --epochs 4 --threads 1
#   alexnet pack --source fashion-mnist --per-class 300 --output runs/fm-300.h5   # a small training set:
#   experiments/relu_vs_tanh.sh --threshold 25 -- --data runs/fm-300.h5 --epochs 6 --schedule fixed --log-every 5
# Other flags: see experiments/lib/common.sh (--config, --out, and train flags after --).
#
# The paper (section 3.1) measured ReLU six times faster than tanh to 25% training error, with a
# four-layer net on CIFAR-10. The threshold has to be one that ReLU needs several epochs to reach,
# or the time to it is a few --log-every windows and the ratio is noise. On the full Fashion-MNIST
# training split alexnet-mini passes 25% within half an epoch with either unit, so the default is
# 15% (--threshold): the README's split_vs_single run had 13.5% val error after two epochs, so
# ReLU needs one to two epochs for it. On a small training set 25% itself takes several epochs
# (with 300 images per class, ReLU needed about four), so pass --threshold 25 there. The report always adds 25%, the paper's level. A metrics row every 10 steps (--log-every
# after -- overrides) resolves the crossing. On a CPU shared with other jobs, --threads 1 after --
# avoids OpenMP threads spinning against each other (ten times faster on a loaded 2-core machine).
#
# tanh is written over every ReLU in place (experiments/lib/variant.py --activation tanh): no layer
# moves, so both nets start from the same weights (drawn per layer index and seed) and see the same
# batches and dropout masks. Those weights use the network file's initialisation (He's, which is
# scaled for ReLU; tanh would prefer a smaller scale), and both use the run file's learning rate,
# where the paper tuned each net's separately and used no regularisation (alexnet-mini keeps
# dropout 0.2 in fc6 and fc7): the comparison is at equal settings, not each at its best.
# The report (OUT/report/report.md) has the images, epochs and tanh/ReLU ratio at each threshold,
# and train_error.png, both training-error curves against epochs.
set -euo pipefail
threshold=15
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --threshold) threshold=${2:-}; shift 2 || { echo "$(basename "$0"): --threshold needs a value" >&2; exit 2; } ;;
    --) args+=("$@"); break ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ $threshold =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
  { echo "$(basename "$0"): --threshold '$threshold': expected a percentage, e.g. 15" >&2; exit 2; }
set -- "${args[@]}"
source "$(dirname "$0")/lib/common.sh"

# A metrics row every 10 steps unless the caller chose: the crossing is resolved to one row.
log=()
[ -n "$(train_flag log-every)" ] || log=(--log-every 10)
run_variant relu "${log[@]}"
run_variant tanh --net "$(variant_net tanh --activation tanh)" "${log[@]}"
report "ReLU vs tanh: images to ${threshold}% training error ($(basename "$config" .toml))" \
  --threshold 25 --threshold "$threshold" \
  --note "Net: $(basename "$(base_net)") as the run file $(basename "$config") names it (relu), and the same \
file with every ReLU replaced by tanh (tanh; networks/tanh.toml), from the same seed and the same initial \
weights (the network file's initialisation, scaled for ReLU), the same learning rate and schedule, and the \
network file's dropout. The paper's Figure 1 used a four-layer CIFAR-10 net without regularisation and tuned \
each net's learning rate; it reports ReLU six times faster to 25% training error. The threshold that \
measures the ratio here is ${threshold}%, chosen as one ReLU needs several epochs to reach (see the script's header)."
