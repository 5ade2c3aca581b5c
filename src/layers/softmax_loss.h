// Softmax with cross-entropy loss, the network's head.
//
// forward: y = softmax(x) row by row, and loss() = mean over the batch of -log y[label], computed
// as logsumexp(x) - x[label] so that it stays finite when a probability underflows; with it the
// batch's top-1 and top-5 errors, so that a training step needs nothing else from the device.
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

// Whether the label misses the top 1 and the top 5 of one item's probabilities y, ranked as
// evaluate.h's top_k ranks them: by probability, ties to the lower class index. The label is
// missed by the top k when k classes or more rank above it.
struct ItemErrors {
  bool top1, top5;
};

ALEXNET_HD inline ItemErrors softmax_item_errors(const float* y, int32_t label, int64_t classes) {
  const float p = y[label];
  int64_t above = 0;
  for (int64_t c = 0; c < classes; ++c) above += y[c] > p || (y[c] == p && c < label);
  return {above >= 1, above >= 5};
}

// What the last forward with labels measured, over its `items` items.
struct LossSummary {
  double loss = 0;  // mean cross-entropy
  int64_t items = 0, top1_errors = 0, top5_errors = 0;
};

class SoftmaxLoss : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "softmax_loss"; }
  Shape output_shape(const Shape& in) const override {
    if (in.rank() != 2)
      throw std::invalid_argument("softmax_loss: input " + in.str() + " is not [N, classes]");
    return in;
  }
  // The last training or evaluation forward's mean cross-entropy and errors (zeros without
  // labels). On a GPU this waits for the forward's end and nothing else: the figures come back in
  // one small copy queued behind it.
  virtual LossSummary summary() const = 0;
  double loss() const { return summary().loss; }
};

std::unique_ptr<SoftmaxLoss> make_softmax_loss(Device device);

}  // namespace alexnet
