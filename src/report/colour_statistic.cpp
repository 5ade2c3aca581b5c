#include "report/colour_statistic.h"

#include <glog/logging.h>

#include "net/plan.h"

namespace alexnet {

double kernel_colour_share(const float* w, int channels, int64_t taps) {
  double total = 0, off_grey = 0;
  for (int64_t t = 0; t < taps; ++t) {
    double grey = 0;
    for (int c = 0; c < channels; ++c) grey += w[c * taps + t];
    grey /= channels;
    for (int c = 0; c < channels; ++c) {
      const double v = w[c * taps + t];
      total += v * v;
      off_grey += (v - grey) * (v - grey);
    }
  }
  return total > 0 ? off_grey / total : 0.0;
}

std::optional<std::vector<TowerColour>> tower_colour(const std::vector<float>& weight, int out, int channels,
                                                     int64_t taps, int towers) {
  CHECK_EQ(static_cast<int64_t>(weight.size()), int64_t(out) * channels * taps);
  if (channels < 2) return std::nullopt;
  std::vector<TowerColour> result;
  for (int t = 0; t < towers; ++t) {
    const Share share = tower_share(out, towers, t);
    TowerColour tc;
    tc.first_kernel = static_cast<int>(share.begin);
    tc.kernels = static_cast<int>(share.count);
    for (int64_t k = share.begin; k < share.begin + share.count; ++k) {
      const double s = kernel_colour_share(weight.data() + k * channels * taps, channels, taps);
      tc.mean += s;
      tc.colourful += s > 2.0 / 3.0;
    }
    if (tc.kernels) tc.mean /= tc.kernels, tc.colourful /= tc.kernels;
    result.push_back(tc);
  }
  return result;
}

}  // namespace alexnet
