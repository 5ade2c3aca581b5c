// Max pooling. The paper's overlapping pooling is kernel 3, stride 2. The output size rounds down,
// floor((in + 2 pad - kernel) / stride) + 1, as cuDNN and PyTorch do (55 -> 27 -> 13 -> 6).
#pragma once

#include <memory>

#include "layers/layer.h"

namespace alexnet {

struct PoolConfig {
  int kernel = 3;
  int stride = 2;
  int pad = 0;
};

// [N, C, H, W] -> [N, C, Ho, Wo]; throws std::invalid_argument when the kernel does not fit.
Shape max_pool_output_shape(const PoolConfig& config, const Shape& in);

class MaxPoolLayer : public Layer {
 public:
  MaxPoolLayer(const PoolConfig& config, Device device) : Layer(device), c_(config) {}
  const char* type() const override { return "max_pool"; }
  Shape output_shape(const Shape& in) const override;

 protected:
  PoolConfig c_;
};

// The CPU reference, or cuDNN's deterministic max pooling for a CUDA device.
std::unique_ptr<Layer> make_max_pool(const PoolConfig& config, Device device);

}  // namespace alexnet
