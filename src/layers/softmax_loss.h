// Softmax with cross-entropy loss, the network's head.
//
// forward: y = softmax(x) row by row, and loss() = mean over the batch of -log y[label], computed
// as logsumexp(x) - x[label] so that it stays finite when a probability underflows.
// backward: dx = (y - onehot(label)) / N, the gradient of that mean; dy is not read (the loss is
// the end of the graph), so it may be empty. Labels come with the Pass.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include "core/host_device.h"
#include "layers/layer.h"

namespace alexnet {

// --- the loss and its gradient, per item and per element, on both backends ------------------
// The CPU reference's loops and softmax_loss_cuda.cu's kernels call these same functions, so the
// CPU tests check the GPU's arithmetic (the GPU's double exp and log may differ from glibc's in
// the last bit; the formula, its precision and its order are the same). The probabilities y are
// the CPU's own loop there and cuDNN's softmax on a GPU.

struct SoftmaxRowStats {
  float top;   // the row's largest logit (the first of them), subtracted before exp
  double sum;  // sum over the row of exp(x - top), in double
};

ALEXNET_HD inline SoftmaxRowStats softmax_row_stats(const float* row, int64_t classes) {
  float top = row[0];
  for (int64_t c = 1; c < classes; ++c)
    if (top < row[c]) top = row[c];
  double sum = 0;
  for (int64_t c = 0; c < classes; ++c) sum += exp(static_cast<double>(row[c] - top));
  return {top, sum};
}

// -log softmax(row)[label] = logsumexp(row) - row[label]: finite even where the probability
// underflows. A label outside [0, classes) gives NaN (the net checks labels on the host first).
ALEXNET_HD inline double softmax_item_loss(const float* row, SoftmaxRowStats s, int32_t label,
                                           int64_t classes) {
  if (label < 0 || label >= classes) return static_cast<double>(NAN);
  return log(s.sum) - (row[label] - s.top);
}

// d(mean loss)/dx of one element: (y - [c == label]) / n, as y / n and then the label's 1 / n off.
ALEXNET_HD inline float softmax_loss_grad(float y, float inv_n, bool is_label) {
  const float g = y * inv_n;
  return is_label ? g - inv_n : g;
}

class SoftmaxLoss : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "softmax_loss"; }
  Shape output_shape(const Shape& in) const override {
    if (in.rank() != 2)
      throw std::invalid_argument("softmax_loss: input " + in.str() + " is not [N, classes]");
    return in;
  }
  // The mean cross-entropy of the last training or evaluation forward.
  virtual double loss() const = 0;
};

std::unique_ptr<SoftmaxLoss> make_softmax_loss(Device device);

}  // namespace alexnet
