// Stochastic gradient descent with momentum and weight decay, as in the paper (section 5):
//
//   v <- momentum * v - weight_decay * lr * w - lr * dL/dw
//   w <- w + v
//
// One loop over each tower's flat parameter buffer; every logical parameter lives on exactly one
// tower, so each is updated once, except hybrid's replicated conv parameters (net/plan.h), whose
// copies on every worker see the same summed gradient and so take the same update.
#pragma once

#include <vector>

#include "core/host_device.h"
#include "core/stream.h"
#include "core/tensor.h"

namespace alexnet {

// One element's update, the body of the CPU loop and of sgd_cuda.cu's kernel alike (so the CPU
// tests check the GPU's arithmetic): `decay` is weight_decay * lr, computed once on the host.
ALEXNET_HD inline void sgd_step(float& w, float g, float& v, float lr, float momentum, float decay) {
  v = momentum * v - decay * w - lr * g;
  w += v;
}

class Net;

struct SgdConfig {
  float learning_rate = 0.01f;
  float momentum = 0.9f;
  float weight_decay = 5e-4f;
};

// The update on one flat buffer: inline on the CPU, queued on `stream` for a CUDA device.
void sgd_update(View weights, ConstView grads, View velocity, const SgdConfig& config,
                const Stream& stream = Stream());

namespace detail {
// sgd_cuda.cu; in a build without CUDA, no_cuda_sgd.cpp (throws no_cuda_backend()).
void cuda_sgd_update(float* w, const float* g, float* v, int64_t n, const SgdConfig& config,
                     const Stream& stream);
}  // namespace detail

// The optimizer state of a net: one velocity buffer per tower held, laid out like its parameters
// (velocity(t) of a tower held elsewhere is empty).
class Sgd {
 public:
  Sgd(Net& net, SgdConfig config);
  void step();
  SgdConfig& config() { return config_; }
  View velocity(int tower) { return velocity_.at(tower).view(); }
  ConstView velocity(int tower) const { return velocity_.at(tower).view(); }

 private:
  Net& net_;
  SgdConfig config_;
  std::vector<Tensor> velocity_;
};

}  // namespace alexnet
