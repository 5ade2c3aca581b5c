#include "train/sgd.h"

#include <glog/logging.h>

#include "net/net.h"

namespace alexnet {

void sgd_update(View w, ConstView g, View v, const SgdConfig& c, const Stream& stream) {
  CHECK_EQ(w.numel(), g.numel());
  CHECK_EQ(w.numel(), v.numel());
  CHECK(w.device == g.device && w.device == v.device) << "sgd_update: weights, gradients and velocity apart";
  const int64_t n = w.numel();
  if (w.device.is_cuda()) {
    CHECK(stream.device() == w.device)
        << "sgd_update on " << w.device.str() << " queued on " << stream.device().str();
    detail::cuda_sgd_update(w.data, g.data, v.data, n, c, stream);
    return;
  }
  const float decay = c.weight_decay * c.learning_rate;
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i)
    sgd_step(w.data[i], g.data[i], v.data[i], c.learning_rate, c.momentum, decay);
}

Sgd::Sgd(Net& net, SgdConfig config) : net_(net), config_(config), velocity_(net.towers()) {
  for (int t : net.local_towers()) velocity_[t] = Tensor::zeros(net.params(t).shape, net.device(t));
}

void Sgd::step() {
  for (int t : net_.local_towers())
    sgd_update(net_.params(t), net_.grads(t), velocity_[t].view(), config_, net_.stream(t));
}

}  // namespace alexnet
