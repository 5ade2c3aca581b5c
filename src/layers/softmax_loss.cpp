#include "layers/softmax_loss.h"

#include <cmath>
#include <stdexcept>

#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

class SoftmaxLossCpu final : public SoftmaxLoss {
 public:
  using SoftmaxLoss::SoftmaxLoss;
  LossSummary summary() const override { return summary_; }

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    const int64_t n = x.shape[0], classes = x.shape[1];
    if (pass.labels) check_labels(pass, n, classes);  // before the threads: they must not throw
    double total = 0;
    int64_t top1 = 0, top5 = 0;
#pragma omp parallel for schedule(static) reduction(+ : total, top1, top5)
    for (int64_t i = 0; i < n; ++i) {
      const float* in = x.data + i * classes;
      float* out = y.data + i * classes;
      const SoftmaxRowStats s = softmax_row_stats(in, classes);
      for (int64_t c = 0; c < classes; ++c) out[c] = static_cast<float>(std::exp(in[c] - s.top) / s.sum);
      if (!pass.labels) continue;
      total += softmax_item_loss(in, s, pass.labels[i], classes);
      const ItemErrors e = softmax_item_errors(out, pass.labels[i], classes);
      top1 += e.top1;
      top5 += e.top5;
    }
    summary_ = pass.labels && n ? LossSummary{total / static_cast<double>(n), n, top1, top5} : LossSummary{};
  }

  void backward(const Pass& pass, ConstView x, ConstView y, ConstView, View dx) override {
    if (dx.empty()) return;
    if (!pass.labels) throw std::invalid_argument("softmax_loss: backward needs labels");
    const int64_t n = y.shape[0], classes = y.shape[1];
    check_labels(pass, n, classes);
    const float inv_n = 1.0f / static_cast<float>(n);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t c = 0; c < classes; ++c)
        dx.data[i * classes + c] = softmax_loss_grad(y.data[i * classes + c], inv_n, c == pass.labels[i]);
    }
  }

 private:
  static void check_labels(const Pass& pass, int64_t n, int64_t classes) {
    for (int64_t i = 0; i < n; ++i) {
      int32_t l = pass.labels[i];
      if (l < 0 || l >= classes) {
        throw std::invalid_argument("softmax_loss: label " + std::to_string(l) + " of item " +
                                    std::to_string(i) + " is outside [0, " + std::to_string(classes) + ")");
      }
    }
  }

  LossSummary summary_;
};

}  // namespace

std::unique_ptr<SoftmaxLoss> make_softmax_loss(Device device) {
  if (device.is_cpu()) return std::make_unique<SoftmaxLossCpu>(device);
  return make_softmax_loss_cuda(device);
}

}  // namespace alexnet
