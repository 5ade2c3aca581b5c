// `alexnet pack --colourise SEED`: a three-channel stand-in for a colour dataset, made from grey
// images (Fashion-MNIST) so that the paper's Figure 3 claim (one tower's conv1 kernels come out
// colour-agnostic, the other's colour-specific) can be tested where no colour dataset can be
// fetched. It is synthetic: the colours say nothing about real photographs.
//
// Each image is tinted with one colour: RGB = grey * hsv_to_rgb(hue, saturation, 1), so black
// stays black and the garment takes the colour. The hue is drawn around a centre that depends on
// the class, 360 * label / classes degrees, with a wide spread (normal, 60 degrees standard
// deviation, so neighbouring classes overlap heavily): colour is a weak cue to the class and
// shape the strong one. (With a hue unrelated to the class, no colour kernel would be worth
// learning.) The saturation is uniform in [0.5, 1].
//
// Draws come from Philox keyed by (seed, the item's source split or file, its index there), so
// the same SEED gives the same bytes whatever the thread count, the val draw or --shuffle.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>

#include "data/sources.h"

namespace alexnet {

constexpr float kColouriseHueSpreadDegrees = 60.0f;

struct Tint {
  float hue = 0;         // degrees, [0, 360)
  float saturation = 0;  // [0.5, 1]
  float rgb[3] = {0, 0, 0};
};

// The tint of `item` (a class of `classes`) under `seed`.
Tint colourise_tint(const SourceItem& item, int classes, uint64_t seed);

// `grey` (8-bit, one channel) tinted as above: 8-bit, three channels in RGB order.
cv::Mat colourise(const cv::Mat& grey, const SourceItem& item, int classes, uint64_t seed);

}  // namespace alexnet
