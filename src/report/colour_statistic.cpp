#include "report/colour_statistic.h"

#include <glog/logging.h>

#include <algorithm>
#include <utility>

#include "core/philox.h"
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

std::vector<double> kernel_colour_shares(const std::vector<float>& weight, int out, int channels,
                                         int64_t taps) {
  CHECK_EQ(static_cast<int64_t>(weight.size()), int64_t(out) * channels * taps);
  std::vector<double> share(out);
  for (int k = 0; k < out; ++k)
    share[k] = kernel_colour_share(weight.data() + int64_t(k) * channels * taps, channels, taps);
  return share;
}

std::optional<std::vector<TowerColour>> tower_colour(const std::vector<float>& weight, int out, int channels,
                                                     int64_t taps, int towers) {
  if (channels < 2) return std::nullopt;
  const std::vector<double> share = kernel_colour_shares(weight, out, channels, taps);
  std::vector<TowerColour> result;
  for (int t = 0; t < towers; ++t) {
    const Share s = tower_share(out, towers, t);
    TowerColour tc;
    tc.first_kernel = static_cast<int>(s.begin);
    tc.kernels = static_cast<int>(s.count);
    for (int64_t k = s.begin; k < s.begin + s.count; ++k) {
      tc.mean += share[k];
      tc.colourful += share[k] > 2.0 / 3.0;
    }
    if (tc.kernels) tc.mean /= tc.kernels, tc.colourful /= tc.kernels;
    result.push_back(tc);
  }
  return result;
}

namespace {

// The largest tower mean minus the smallest, kernels in `order` dealt to the towers' shares.
double gap_of(const std::vector<double>& share, const std::vector<int>& order, int towers) {
  const int out = static_cast<int>(share.size());
  double lo = 0, hi = 0;
  for (int t = 0; t < towers; ++t) {
    const Share s = tower_share(out, towers, t);
    double mean = 0;
    for (int64_t i = s.begin; i < s.begin + s.count; ++i) mean += share[order[i]];
    mean /= std::max<int64_t>(s.count, 1);
    lo = t == 0 ? mean : std::min(lo, mean);
    hi = t == 0 ? mean : std::max(hi, mean);
  }
  return hi - lo;
}

}  // namespace

TowerGap tower_gap(const std::vector<float>& weight, int out, int channels, int64_t taps, int towers,
                   int draws) {
  CHECK_GE(towers, 2);
  CHECK_GE(channels, 2);
  const std::vector<double> share = kernel_colour_shares(weight, out, channels, taps);
  std::vector<int> order(out);
  for (int k = 0; k < out; ++k) order[k] = k;
  TowerGap g;
  g.gap = gap_of(share, order, towers);
  g.draws = draws;
  int hits = 0;
  uint64_t counter = 0;
  for (int d = 0; d < draws; ++d) {
    for (int i = out - 1; i > 0;
         --i) {  // Fisher-Yates; a 32-bit draw modulo i + 1 <= out is biased by < out / 2^32
      const uint64_t j = philox_draw(0xC0102, 0, counter++) % uint64_t(i + 1);
      std::swap(order[i], order[j]);
    }
    // A small tolerance: a shuffle that reproduces the towers' sums must count as "as large".
    hits += gap_of(share, order, towers) >= g.gap - 1e-12;
  }
  g.p_value = (1.0 + hits) / (1.0 + draws);
  return g;
}

}  // namespace alexnet
