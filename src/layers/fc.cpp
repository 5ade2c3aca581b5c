// CPU reference FC: three sgemms.
//   forward   y[N,O]  = x[N,I] W[O,I]^T + b
//   backward  dW[O,I] = dy^T x,  db = sum_n dy,  dx[N,I] = dy W
#include "layers/fc.h"

#include <cstring>
#include <stdexcept>

#include "core/blas.h"

namespace alexnet {

namespace {

class FcCpu final : public Layer {
 public:
  FcCpu(const FcConfig& config, Device device) : Layer(device), c_(config) {}
  const char* type() const override { return "fc"; }

  Shape output_shape(const Shape& in) const override {
    if (in.rank() < 2 || in.item_numel() != c_.in_features) {
      throw std::invalid_argument("fc: input " + in.str() + " has " + std::to_string(in.item_numel()) +
                                  " features per item, expected " + std::to_string(c_.in_features));
    }
    return {in[0], c_.out_features};
  }

  std::vector<ParamSpec> param_specs() const override {
    std::vector<ParamSpec> specs = {{"weight", {c_.out_features, c_.in_features}}};
    if (c_.bias) specs.push_back({"bias", {c_.out_features}});
    return specs;
  }

  int64_t forward_macs(const Shape&) const override { return c_.in_features * c_.out_features; }

  void forward(const Pass&, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    const int n = static_cast<int>(x.shape[0]), in = static_cast<int>(c_.in_features),
              out = static_cast<int>(c_.out_features);
    if (c_.bias) {
      for (int i = 0; i < n; ++i)
        std::memcpy(y.data + static_cast<int64_t>(i) * out, param(1).data, sizeof(float) * out);
    }
    blas::gemm(false, true, n, out, in, 1.0f, x.data, in, param(0).data, in, c_.bias ? 1.0f : 0.0f, y.data,
               out);
  }

  void backward(const Pass& pass, ConstView x, ConstView, ConstView dy, View dx) override {
    const int n = static_cast<int>(x.shape[0]), in = static_cast<int>(c_.in_features),
              out = static_cast<int>(c_.out_features);
    const float beta = pass.grad_mode == GradMode::kAccumulate ? 1.0f : 0.0f;
    blas::gemm(true, false, out, in, n, 1.0f, dy.data, out, x.data, in, beta, grad(0).data, in);
    if (c_.bias) {
      float* db = grad(1).data;
#pragma omp parallel for schedule(static)
      for (int o = 0; o < out; ++o) {
        double s = 0;
        for (int i = 0; i < n; ++i) s += dy.data[static_cast<int64_t>(i) * out + o];
        db[o] = static_cast<float>(s) + beta * db[o];
      }
    }
    if (!dx.empty())
      blas::gemm(false, false, n, in, out, 1.0f, dy.data, out, param(0).data, in, 0.0f, dx.data, in);
  }

 private:
  FcConfig c_;
};

}  // namespace

std::unique_ptr<Layer> make_fc(const FcConfig& c, Device device) {
  if (c.in_features <= 0 || c.out_features <= 0) {
    throw std::invalid_argument("fc: in_features and out_features must be positive");
  }
  if (device.is_cpu()) return std::make_unique<FcCpu>(c, device);
  throw std::runtime_error("fc: no implementation for " + device.str() + " in this build yet");
}

}  // namespace alexnet
