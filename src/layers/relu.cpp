#include "layers/relu.h"

#include <stdexcept>

#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

class ReluCpu final : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "relu"; }
  Shape output_shape(const Shape& in) const override { return in; }

  void forward(const Pass&, ConstView x, View y) override {
    expect("y", y.shape, x.shape);
    int64_t n = x.numel();
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) y.data[i] = x.data[i] > 0.0f ? x.data[i] : 0.0f;
  }

  void backward(const Pass&, ConstView, ConstView y, ConstView dy, View dx) override {
    if (dx.empty()) return;
    int64_t n = y.numel();
    // dy is read whatever the sign, so that the loop has no branch and vectorises.
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const float g = dy.data[i];
      dx.data[i] = y.data[i] > 0.0f ? g : 0.0f;
    }
  }
};

}  // namespace

std::unique_ptr<Layer> make_relu(Device device) {
  if (device.is_cpu()) return std::make_unique<ReluCpu>(device);
  return make_relu_cuda(device);
}

}  // namespace alexnet
