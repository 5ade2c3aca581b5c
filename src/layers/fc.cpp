// CPU reference FC: three sgemms.
//   forward   y[N,O]  = x[N,I] W[O,I]^T + b
//   backward  dW[O,I] = dy^T x,  db = sum_n dy,  dx[N,I] = dy W
#include "layers/fc.h"

#include <stdexcept>

#include "core/blas.h"
#include "layers/cuda_layers.h"

namespace alexnet {

Shape fc_output_shape(const FcConfig& c, const Shape& in) {
  if (in.rank() < 2 || in.item_numel() != c.in_features) {
    throw std::invalid_argument("fc: input " + in.str() + " has " + std::to_string(in.item_numel()) +
                                " features per item, expected " + std::to_string(c.in_features));
  }
  return {in[0], c.out_features};
}

Shape FcLayer::output_shape(const Shape& in) const {
  return fc_output_shape(c_, in);
}

std::vector<ParamSpec> FcLayer::param_specs() const {
  std::vector<ParamSpec> specs = {{"weight", {c_.out_features, c_.in_features}}};
  if (c_.bias) specs.push_back({"bias", {c_.out_features}});
  return specs;
}

namespace {

class FcCpu final : public FcLayer {
 public:
  using FcLayer::FcLayer;

  void forward(const Pass&, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    const int n = static_cast<int>(x.shape[0]), in = static_cast<int>(c_.in_features),
              out = static_cast<int>(c_.out_features);
    if (c_.bias) {
      const float* b = param(1).data;
      for (int64_t i = 0; i < int64_t(n) * out; ++i) y.data[i] = fc_bias_broadcast(b, i, out);
    }
    blas::gemm(false, true, n, out, in, 1.0f, x.data, in, param(0).data, in, c_.bias ? 1.0f : 0.0f, y.data,
               out);
  }

  void backward(const Pass& pass, ConstView x, ConstView, ConstView dy, View dx) override {
    const int n = static_cast<int>(x.shape[0]), in = static_cast<int>(c_.in_features),
              out = static_cast<int>(c_.out_features);
    const bool accumulate = pass.grad_mode == GradMode::kAccumulate;
    // BLAS reads C only when beta != 0, so an overwrite of dW ignores what was there.
    blas::gemm(true, false, out, in, n, 1.0f, dy.data, out, x.data, in, accumulate ? 1.0f : 0.0f,
               grad(0).data, in);
    if (c_.bias) {
      float* db = grad(1).data;
#pragma omp parallel for schedule(static)
      for (int o = 0; o < out; ++o) db[o] = fc_bias_grad(dy.data, n, out, o, accumulate, db);
    }
    if (!dx.empty())
      blas::gemm(false, false, n, in, out, 1.0f, dy.data, out, param(0).data, in, 0.0f, dx.data, in);
  }

 private:
};

}  // namespace

std::unique_ptr<Layer> make_fc(const FcConfig& c, Device device, const BackendOptions& backend) {
  if (c.in_features <= 0 || c.out_features <= 0) {
    throw std::invalid_argument("fc: in_features and out_features must be positive");
  }
  if (device.is_cpu()) return std::make_unique<FcCpu>(c, device);
  return make_fc_cuda(c, device, backend);
}

}  // namespace alexnet
