// Softmax with cross-entropy loss, the network's head.
//
// forward: y = softmax(x) row by row, and loss() = mean over the batch of -log y[label], computed
// as logsumexp(x) - x[label] so that it stays finite when a probability underflows.
// backward: dx = (y - onehot(label)) / N, the gradient of that mean; dy is not read (the loss is
// the end of the graph), so it may be empty. Labels come with the Pass.
#pragma once

#include <memory>
#include <stdexcept>

#include "layers/layer.h"

namespace alexnet {

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
