#!/usr/bin/env bash
# The paper's depth ablation (section 7: removing any middle conv layer costs about 2% top-1):
# the full net against the net without conv3, without conv4 and without conv5 (each with its
# ReLU). Removing conv3 also removes the conv3 exchange. Flags: see experiments/lib/common.sh.
source "$(dirname "$0")/lib/common.sh"
run_variant full --placement split
run_variant no-conv3 --placement split --net "$(variant_net no-conv3 --drop conv3,relu3)"
run_variant no-conv4 --placement split --net "$(variant_net no-conv4 --drop conv4,relu4)"
run_variant no-conv5 --placement split --net "$(variant_net no-conv5 --drop conv5,relu5)"
report "Depth ablation ($(basename "$config" .toml))"
