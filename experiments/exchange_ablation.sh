#!/usr/bin/env bash
# Where the towers talk. Variants (the --exchange layers; fc8 lives on tower 0 and always gathers
# both halves, so it is in every list):
#   paper        conv3, fc6, fc7, fc8   the paper's figure 2
#   none         fc8                    towers independent up to the classifier
#   conv3-only   conv3, fc8             no exchange after conv3
#   every-layer  conv2 ... fc8          every conv and FC layer after conv1 reads both towers
# Flags: see experiments/lib/common.sh.
source "$(dirname "$0")/lib/common.sh"
run_variant paper --placement split --exchange conv3,fc6,fc7,fc8
run_variant none --placement split --exchange fc8
run_variant conv3-only --placement split --exchange conv3,fc8
run_variant every-layer --placement split --exchange conv2,conv3,conv4,conv5,fc6,fc7,fc8
report "Exchange ablation ($(basename "$config" .toml))"
