// Fully connected layer, y = x W^T + b, with W [out_features, in_features] and b [out_features].
// Input [N, C, H, W] is read as [N, C*H*W] in channel-major order, so pool5 flattens the way
// PyTorch's flatten() does and fc6.weight keeps its logical layout.
#pragma once

#include <memory>

#include "core/backend_options.h"
#include "layers/layer.h"

namespace alexnet {

struct FcConfig {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
};

// [N, in_features...] -> [N, out_features]; throws std::invalid_argument otherwise.
Shape fc_output_shape(const FcConfig& config, const Shape& in);

// What every backend's FC layer shares: the shapes and the parameters.
class FcLayer : public Layer {
 public:
  FcLayer(const FcConfig& config, Device device) : Layer(device), c_(config) {}
  const char* type() const override { return "fc"; }
  Shape output_shape(const Shape& in) const override;
  std::vector<ParamSpec> param_specs() const override;
  int64_t forward_macs(const Shape&) const override { return c_.in_features * c_.out_features; }

 protected:
  FcConfig c_;
};

// The CPU reference, or cuBLAS for a CUDA device (`backend` picks FP32 or TF32 math).
std::unique_ptr<Layer> make_fc(const FcConfig& config, Device device, const BackendOptions& backend = {});

}  // namespace alexnet
