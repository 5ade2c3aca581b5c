#!/usr/bin/env bash
# The ablation scripts' network variants (experiments/lib/variant.py) load and change what they
# say: dropping conv4 removes its parameters, dropping LRN removes the norm layers, 2x2 pooling
# changes pool5's output, and a bad layer name is refused with a message.
#   variant_networks.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
alexnet=$1 python=$2 work=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
variant="$python $repo/experiments/lib/variant.py"
rm -rf "$work" && mkdir -p "$work"
params() { "$alexnet" info "$1" | sed -n 's/^parameters: //p' | tr -d ,; }
full=$(params "$repo/experiments/alexnet.toml")
$variant "$repo/experiments/alexnet.toml" "$work/no-conv4.toml" --drop conv4,relu4
# conv4 holds 384 * 192 * 3 * 3 weights and 384 biases.
[ "$(params "$work/no-conv4.toml")" = $((full - 384 * 192 * 9 - 384)) ] || { echo "no-conv4 parameter count"; exit 1; }
$variant "$repo/experiments/alexnet-mini.toml" "$work/no-lrn.toml" --drop norm1,norm2
grep -q 'name = "norm' "$work/no-lrn.toml" && { echo "no-lrn still has an LRN block"; exit 1; }
$variant "$repo/experiments/alexnet-mini.toml" "$work/no-overlap.toml" --set pool1.kernel=2 --set pool2.kernel=2 \
  --set pool5.kernel=2
"$alexnet" info "$work/no-overlap.toml" > /dev/null
[ "$(params "$work/no-overlap.toml")" != "$(params "$repo/experiments/alexnet-mini.toml")" ] ||
  { echo "2x2 pooling did not change fc6's input"; exit 1; }
if $variant "$repo/experiments/alexnet-mini.toml" "$work/bad.toml" --drop conv9 2> "$work/err.txt"; then
  echo "dropping a missing layer was accepted"; exit 1
fi
grep -q "no layer named 'conv9'" "$work/err.txt"
echo "variants load: no-conv4, no-lrn, no-overlap"
