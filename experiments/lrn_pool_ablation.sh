#!/usr/bin/env bash
# Two of the paper's choices, each switched off (section 3.3 and 3.4: LRN lowered the top-1 error
# by 1.4%, overlapping pooling by 0.4%):
#   paper            LRN after conv1 and conv2, max pooling 3x3 stride 2
#   no-lrn           without norm1 and norm2
#   no-overlap       pooling 2x2 stride 2 (windows that do not overlap)
# Flags: see experiments/lib/common.sh.
source "$(dirname "$0")/lib/common.sh"
run_variant paper --placement split
run_variant no-lrn --placement split --net "$(variant_net no-lrn --drop norm1,norm2)"
run_variant no-overlap --placement split \
  --net "$(variant_net no-overlap --set pool1.kernel=2 --set pool2.kernel=2 --set pool5.kernel=2)"
report "LRN and overlapping pooling ablation ($(basename "$config" .toml))"
