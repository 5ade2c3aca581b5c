#include "layers/dropout.h"

#include <stdexcept>

#include "layers/cuda_layers.h"

namespace alexnet {

Shape dropout_output_shape(const DropoutConfig& c, const Shape& in) {
  if (c.logical_width && c.feature_offset + in.item_numel() > c.logical_width) {
    throw std::invalid_argument("dropout: features [" + std::to_string(c.feature_offset) + ", " +
                                std::to_string(c.feature_offset + in.item_numel()) +
                                ") exceed the logical width " + std::to_string(c.logical_width));
  }
  return in;
}

Shape DropoutLayer::output_shape(const Shape& in) const {
  return dropout_output_shape(c_, in);
}

namespace {

class DropoutCpu final : public DropoutLayer {
 public:
  using DropoutLayer::DropoutLayer;

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    apply(pass, x.data, y.data, x.shape);
  }

  // The same mask and scale applied to dy.
  void backward(const Pass& pass, ConstView x, ConstView, ConstView dy, View dx) override {
    if (!dx.empty()) apply(pass, dy.data, dx.data, x.shape);
  }

 private:
  void apply(const Pass& pass, const float* in, float* out, const Shape& shape) const {
    const int64_t total = shape.numel();
    if (!pass.training || c_.p == 0.0f) {
      if (in != out) std::copy(in, in + total, out);
      return;
    }
    const int64_t width = shape.item_numel();
    const int64_t logical_width = c_.logical_width ? c_.logical_width : width;
    const uint64_t threshold = dropout_keep_threshold(c_.p);
    const float scale = 1.0f / (1.0f - c_.p);
    // Keyed by the item's place in the global batch, so replicas draw the masks one process would:
    // the draws of dropout_keep(), one Philox block per four consecutive elements.
    const int64_t first = static_cast<int64_t>(pass.first_item) * logical_width + c_.feature_offset;
    const uint64_t subsequence =
        rng_subsequence(RngPurpose::kDropout, c_.layer_id, static_cast<uint32_t>(pass.step));
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < total / width; ++n) {
      const uint64_t row = static_cast<uint64_t>(n * logical_width + first);
      uint64_t held = ~uint64_t(0);
      PhiloxBlock bits{};
      for (int64_t f = 0; f < width; ++f) {
        const uint64_t element = row + f;
        if (element >> 2 != held) bits = philox_block(pass.seed, subsequence, held = element >> 2);
        const int64_t i = n * width + f;
        out[i] = bits.v[element & 3] < threshold ? in[i] * scale : 0.0f;
      }
    }
  }
};

}  // namespace

std::unique_ptr<Layer> make_dropout(const DropoutConfig& c, Device device) {
  if (!(c.p >= 0.0f && c.p < 1.0f)) throw std::invalid_argument("dropout: p must be in [0, 1)");
  if (c.logical_width < 0 || c.feature_offset < 0) {
    throw std::invalid_argument("dropout: logical_width and feature_offset must be >= 0");
  }
  if (device.is_cpu()) return std::make_unique<DropoutCpu>(c, device);
  return make_dropout_cuda(c, device);
}

}  // namespace alexnet
