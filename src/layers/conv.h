// Convolution with stride, zero padding and groups.
//
// Weights are [out_channels, in_channels / groups, kernel, kernel], bias [out_channels]. With
// groups = 2 each half of the outputs reads only its half of the inputs: the paper's own-tower
// connectivity on one device.
#pragma once

#include <memory>
#include <stdexcept>

#include "core/backend_options.h"
#include "layers/layer.h"

namespace alexnet {

struct ConvConfig {
  int in_channels = 0;
  int out_channels = 0;
  int kernel = 1;
  int stride = 1;
  int pad = 0;
  int groups = 1;
  bool bias = true;
};

// Output size along one spatial axis: floor((in + 2 pad - kernel) / stride) + 1.
int conv_output_size(int in, int kernel, int stride, int pad);
// [N, in_channels, H, W] -> [N, out_channels, Ho, Wo]; throws std::invalid_argument when the input
// cannot feed the layer. The layer's output_shape() and the planner both ask this.
Shape conv_output_shape(const ConvConfig& config, const Shape& in);

// What every backend's convolution shares: the shapes, the parameters and the cost.
class ConvLayer : public Layer {
 public:
  ConvLayer(const ConvConfig& config, Device device) : Layer(device), c_(config) {}
  const char* type() const override { return "conv"; }
  Shape output_shape(const Shape& in) const override;
  std::vector<ParamSpec> param_specs() const override;
  int64_t forward_macs(const Shape& in) const override;

 protected:
  ConvConfig c_;
};

// A pinned cuDNN algorithm (BackendOptions::conv_*_algo) that cuDNN does not offer for a shape.
class AlgorithmUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The CPU reference, or cuDNN for a CUDA device (`backend` picks its math and algorithms).
std::unique_ptr<Layer> make_conv(const ConvConfig& config, Device device, const BackendOptions& backend = {});

}  // namespace alexnet
