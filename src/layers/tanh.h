// Hyperbolic tangent, y = tanh(x): the saturating non-linearity the paper's Figure 1 compares ReLU
// against. Its backward reads y alone (dy * (1 - y^2)), so x and y may share memory.
#pragma once

#include <memory>

#include "layers/layer.h"

namespace alexnet {

// The derivative from the output alone: d tanh(x)/dx = 1 - tanh(x)^2.
inline float tanh_grad(float y, float dy) {
  return dy * (1.0f - y * y);
}

// The CPU reference, or cuDNN's tanh activation for a CUDA device.
std::unique_ptr<Layer> make_tanh(Device device);

}  // namespace alexnet
