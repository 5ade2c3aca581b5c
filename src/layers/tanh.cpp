#include "layers/tanh.h"

#include <cmath>

#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

class TanhCpu final : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "tanh"; }
  Shape output_shape(const Shape& in) const override { return in; }

  void forward(const Pass&, ConstView x, View y) override {
    expect("y", y.shape, x.shape);
    const int64_t n = x.numel();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) y.data[i] = std::tanh(x.data[i]);
  }

  void backward(const Pass&, ConstView, ConstView y, ConstView dy, View dx) override {
    if (dx.empty()) return;
    const int64_t n = y.numel();
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) dx.data[i] = tanh_grad(y.data[i], dy.data[i]);
  }
};

}  // namespace

std::unique_ptr<Layer> make_tanh(Device device) {
  if (device.is_cpu()) return std::make_unique<TanhCpu>(device);
  return make_tanh_cuda(device);
}

}  // namespace alexnet
