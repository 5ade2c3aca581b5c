// Inverted dropout: in training y = x * keep / (1 - p), at test time y = x.
//
// The mask is never stored and never depends on the device or the placement: element e of the
// logical activation (item n of the global batch, logical feature f, so e = n * logical_width + f;
// a data-parallel replica's item i is item Pass::first_item + i of the global batch) is kept when
//   philox_draw(seed, rng_subsequence(kDropout, layer_id, step), e) < (1 - p) * 2^32.
// A tower holding features [feature_offset, feature_offset + width) of a split layer therefore
// draws exactly the slice of the mask that one device holding the whole layer draws, and CPU
// and GPU agree bit for bit. Backward recomputes the same mask.
#pragma once

#include <cstdint>
#include <memory>

#include "core/philox.h"
#include "layers/layer.h"

namespace alexnet {

struct DropoutConfig {
  float p = 0.5f;              // probability of dropping
  uint32_t layer_id = 0;       // keys this layer's masks apart from other layers'
  int64_t logical_width = 0;   // features per item of the whole (unsplit) layer; 0: this instance's
  int64_t feature_offset = 0;  // where this instance's features start within the logical layer
};

// The integer threshold a draw must stay under to be kept; exact for p = 0.5.
inline uint64_t dropout_keep_threshold(float p) {
  return static_cast<uint64_t>(static_cast<double>(1.0f - p) * 4294967296.0);
}

ALEXNET_HD inline bool dropout_keep(uint64_t seed, uint32_t layer_id, uint64_t step, uint64_t element,
                                    uint64_t threshold) {
  uint64_t subsequence = rng_subsequence(RngPurpose::kDropout, layer_id, static_cast<uint32_t>(step));
  return philox_draw(seed, subsequence, element) < threshold;
}

// The identity, once the instance's features fit its logical layer; std::invalid_argument otherwise.
Shape dropout_output_shape(const DropoutConfig& config, const Shape& in);

class DropoutLayer : public Layer {
 public:
  DropoutLayer(const DropoutConfig& config, Device device) : Layer(device), c_(config) {}
  const char* type() const override { return "dropout"; }
  Shape output_shape(const Shape& in) const override;

 protected:
  DropoutConfig c_;
};

// The CPU reference, or our Philox kernel for a CUDA device (the same masks, bit for bit).
std::unique_ptr<Layer> make_dropout(const DropoutConfig& config, Device device);

}  // namespace alexnet
