// `alexnet info --json`: the placed net as JSON, for scripts that rebuild it elsewhere (e.g.
// experiments/bench/compare_torch.py builds its PyTorch model from this, not from the TOML).
#pragma once

#include <string>

#include "net/plan.h"

namespace alexnet::cli {

// One JSON object (2-space indented, ending in a newline):
//   network, name, input [C, H, W], input_scale, classes, placement, towers,
//   parameter_count, macs_per_item, exchange_bytes_per_item, and
//   nodes: [{name, kind ("layer" | "exchange"), type ("conv", "lrn", ..., "exchange"),
//            in_spread, out_spread, macs_per_item, exchange_bytes_per_item,
//            conv/fc: out (logical outputs), split, reads_all;  exchange: consumer,
//            towers: one entry per tower, null where the tower holds no part of the node, else
//                    {in, out, and the tower's layer config: conv in_channels, out_channels,
//                     kernel, stride, pad, groups; fc in_features, out_features; lrn size,
//                     alpha (the paper's, not divided by size), beta, k, groups; max_pool
//                     kernel, stride, pad; dropout p},
//            params: [{name, shape}] (logical tensors, as checkpoints store them),
//            parameter_count}]
std::string plan_json(const Plan& plan, const std::string& network_path);

}  // namespace alexnet::cli
