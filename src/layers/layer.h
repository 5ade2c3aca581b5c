// The one interface every layer implements, on every backend.
//
// A layer instance lives on one device and holds no global mode. Inputs, outputs, parameters and
// gradients are explicit views; parameters and their gradients are bound once (usually to slices
// of a tower's flat buffers) and read in param_specs() order. State that backward needs beyond x
// and y (pooling's argmax, LRN's scale) is kept by the layer from its last forward.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/shape.h"
#include "core/stream.h"

namespace alexnet {

// Whether backward overwrites the parameter gradients or adds to them (e.g. to accumulate
// several micro-batches before one update).
enum class GradMode { kOverwrite, kAccumulate };

// What one forward or backward call needs besides tensors.
struct Pass {
  const Stream& stream;
  bool training = true;
  uint64_t seed = 0;                // the run's seed: keys dropout masks
  uint64_t step = 0;                // the optimizer step: keys dropout masks
  const int32_t* labels = nullptr;  // class labels on the layer's device, for the loss layer
  GradMode grad_mode = GradMode::kOverwrite;
  uint64_t first_item = 0;  // the global batch's index of item 0: keys dropout masks
};

struct ParamSpec {
  std::string name;  // "weight", "bias"
  Shape shape;       // this instance's shape; for a split layer, the tower's slice
};

// The algorithms a layer chose for one input shape, as the run directory's manifest records them
// (convolutions: cuDNN's, or the CPU's im2col and GEMM).
struct AlgorithmChoice {
  Shape input;
  std::string forward, backward_data, backward_filter;
  std::string chosen_by;  // how: "timed" (cudnnFind*), "heuristic" (cudnnGet*_v7), "fixed" (CPU)
  int64_t workspace_bytes = 0;
};

class Layer {
 public:
  explicit Layer(Device device) : device_(device) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  Device device() const { return device_; }
  virtual const char* type() const = 0;

  // The output shape for an input shape; throws std::invalid_argument when the input cannot feed
  // this layer (wrong rank, channels, or a spatial size the kernel does not fit).
  virtual Shape output_shape(const Shape& input) const = 0;
  virtual std::vector<ParamSpec> param_specs() const { return {}; }
  // Forward multiply-accumulates for one item of the given input shape (0 for layers without).
  virtual int64_t forward_macs(const Shape& input) const { return 0; }
  // One entry per input shape met so far, for layers that choose among algorithms.
  virtual std::vector<AlgorithmChoice> algorithm_choices() const { return {}; }

  // Binds parameter and gradient storage, one view each per param_specs() entry, same shapes.
  void bind(std::vector<View> params, std::vector<View> grads);

  virtual void forward(const Pass& pass, ConstView x, View y) = 0;
  // Computes dx (skipped when dx is empty) and the parameter gradients from the same x, y of the
  // last forward and the output gradient dy.
  virtual void backward(const Pass& pass, ConstView x, ConstView y, ConstView dy, View dx) = 0;

 protected:
  const View& param(int i) const { return params_.at(i); }
  const View& grad(int i) const { return grads_.at(i); }
  // Throws std::invalid_argument naming this layer when a tensor has the wrong shape or device.
  void expect(const char* what, const Shape& actual, const Shape& expected) const;
  void expect_device(const char* what, Device actual) const;

 private:
  Device device_;
  std::vector<View> params_;
  std::vector<View> grads_;
};

}  // namespace alexnet
