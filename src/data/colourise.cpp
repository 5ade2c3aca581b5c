#include "data/colourise.h"

#include <glog/logging.h>

#include <cmath>
#include <string>

#include "core/philox.h"

namespace alexnet {

namespace {

// FNV-1a of the item's source split or file, so that train image 7 and test image 7 differ.
uint32_t name_key(const std::string& name) {
  uint32_t h = 2166136261u;
  for (unsigned char ch : name) h = (h ^ ch) * 16777619u;
  return h & 0xFFFFFFu;  // rng_subsequence's id takes 24 bits
}

}  // namespace

Tint colourise_tint(const SourceItem& item, int classes, uint64_t seed) {
  CHECK_GT(classes, 0);
  const uint64_t sub = rng_subsequence(RngPurpose::kColourise, name_key(item.path), 0);
  const uint64_t at = uint64_t(item.index < 0 ? 0 : item.index) * 4;
  Tint t;
  const float centre = 360.0f * static_cast<float>(item.label) / static_cast<float>(classes);
  const float offset =
      kColouriseHueSpreadDegrees * philox_normal(philox_draw(seed, sub, at), philox_draw(seed, sub, at + 1));
  t.hue = std::fmod(centre + offset, 360.0f);
  if (t.hue < 0) t.hue += 360.0f;
  t.saturation = 0.5f + 0.5f * philox_uniform(philox_draw(seed, sub, at + 2));
  // HSV with value 1 to RGB: each channel's distance from the hue around the colour wheel.
  for (int c = 0; c < 3; ++c) {
    const float k = std::fmod(5.0f - 2.0f * c + t.hue / 60.0f, 6.0f);  // r: n = 5, g: 3, b: 1
    const float ramp = std::fmax(0.0f, std::fmin(std::fmin(k, 4.0f - k), 1.0f));
    t.rgb[c] = 1.0f - t.saturation * ramp;
  }
  return t;
}

cv::Mat colourise(const cv::Mat& grey, const SourceItem& item, int classes, uint64_t seed) {
  CHECK_EQ(grey.type(), CV_8UC1);
  const Tint t = colourise_tint(item, classes, seed);
  cv::Mat out(grey.rows, grey.cols, CV_8UC3);
  for (int y = 0; y < grey.rows; ++y) {
    const uint8_t* in = grey.ptr<uint8_t>(y);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < grey.cols; ++x)
      for (int c = 0; c < 3; ++c) o[3 * x + c] = static_cast<uint8_t>(std::lround(in[x] * t.rgb[c]));
  }
  return out;
}

}  // namespace alexnet
