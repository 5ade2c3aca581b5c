// Local response normalisation across channels, in the paper's convention (section 3.3):
//
//   b[c] = a[c] / (k + alpha * sum_{c' = c - (n-1)/2 .. c + n/2} a[c']^2) ^ beta
//
// with the sum clipped to existing channels and k = 2, n = 5, alpha = 1e-4, beta = 0.75 in the
// paper. Note alpha multiplies the plain sum. cuDNN, PyTorch and Caffe divide their alpha by n
// (they compute k + alpha/n * sum), so the same layer there takes alpha * n; LrnConfig always
// holds the paper's alpha, and backends that call such a library convert with
// library_alpha() below.
#pragma once

#include <memory>

#include "layers/layer.h"

namespace alexnet {

struct LrnConfig {
  int size = 5;         // n: channels in the window
  float alpha = 1e-4f;  // the paper's alpha: NOT divided by n
  float beta = 0.75f;
  float k = 2.0f;
  // Channels form this many equal groups and no window crosses a group's edge. A tower of the
  // paper's split normalises over its own maps only; the one-device twin of that split keeps the
  // same function with groups = 2.
  int groups = 1;
  // The alpha to pass to a library that divides by n (cuDNN's lrnAlpha, PyTorch's alpha).
  float library_alpha() const { return alpha * static_cast<float>(size); }
};

// The identity on [N, C, H, W] whose C splits into the groups; std::invalid_argument otherwise.
Shape lrn_output_shape(const LrnConfig& config, const Shape& in);

class LrnLayer : public Layer {
 public:
  LrnLayer(const LrnConfig& config, Device device) : Layer(device), c_(config) {}
  const char* type() const override { return "lrn"; }
  Shape output_shape(const Shape& in) const override;

 protected:
  LrnConfig c_;
};

// The CPU reference, or cuDNN's cross-channel LRN (given library_alpha()) for a CUDA device.
std::unique_ptr<Layer> make_lrn(const LrnConfig& config, Device device);

}  // namespace alexnet
