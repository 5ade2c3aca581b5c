// Fully connected layer, y = x W^T + b, with W [out_features, in_features] and b [out_features].
// Input [N, C, H, W] is read as [N, C*H*W] in channel-major order, so pool5 flattens the way
// PyTorch's flatten() does and fc6.weight keeps its logical layout.
#pragma once

#include <memory>

#include "layers/layer.h"

namespace alexnet {

struct FcConfig {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
};

std::unique_ptr<Layer> make_fc(const FcConfig& config, Device device);

}  // namespace alexnet
