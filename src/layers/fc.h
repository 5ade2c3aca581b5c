// Fully connected layer, y = x W^T + b, with W [out_features, in_features] and b [out_features].
// Input [N, C, H, W] is read as [N, C*H*W] in channel-major order, so pool5 flattens the way
// PyTorch's flatten() does and fc6.weight keeps its logical layout.
#pragma once

#include <cstdint>
#include <memory>

#include "core/backend_options.h"
#include "core/host_device.h"
#include "layers/layer.h"

namespace alexnet {

struct FcConfig {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
};

// [N, in_features...] -> [N, out_features]; throws std::invalid_argument otherwise.
Shape fc_output_shape(const FcConfig& config, const Shape& in);

// --- the bias, per element, on both backends -------------------------------------------------
// The CPU reference's loops and fc_cuda.cu's kernels call these same functions, so the CPU tests
// check the GPU's arithmetic; the GPU tests are left to check the indexing and the launch.

// Element i of the row-major output [N, out] before the GEMM: the bias of its column. Both
// backends start y from the broadcast bias and let the GEMM add x W^T onto it (beta = 1).
ALEXNET_HD inline float fc_bias_broadcast(const float* bias, int64_t i, int64_t out) {
  return bias[i % out];
}

// The bias gradient of column o of dy [n, out]: the sum over the batch, in double and in item
// order, rounded once; added to `db` when accumulating. An overwrite never reads db, so an
// Inf or NaN left there cannot turn into 0 x Inf = NaN.
ALEXNET_HD inline float fc_bias_grad(const float* dy, int64_t n, int64_t out, int64_t o, bool accumulate,
                                     const float* db) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += dy[i * out + o];
  return accumulate ? static_cast<float>(s) + db[o] : static_cast<float>(s);
}

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
