// The colour statistic of conv1's kernels, which makes the paper's Figure 3 claim measurable:
// the kernels of one tower come out largely colour-agnostic, those of the other largely
// colour-specific.
//
// For a kernel w[c][y][x] over C input channels, the grey level of each tap is the mean over the
// channels, g[y][x] = sum_c w[c][y][x] / C, and the kernel's colour share is the part of its
// energy left after removing it:
//
//     colour(w) = sum_{c,y,x} (w[c][y][x] - g[y][x])^2 / sum_{c,y,x} w[c][y][x]^2
//
// (0 for an all-zero kernel). It lies in [0, 1]: 0 for a grey kernel (every tap weighs R, G and B
// alike, so it sees luminance only), 1 for a pure colour-opponent kernel (every tap's weights sum
// to zero over the channels, e.g. red against green). A kernel of independent random weights has
// an expected share of (C - 1) / C = 2/3 for RGB, so a tower's mean below 2/3 means its kernels
// lean grey and above 2/3 that they lean to colour. A tower's statistic is the mean over its
// kernels.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace alexnet {

// colour(w) of one kernel: `w` holds channels x taps values, channel-major ([C, kh, kw]).
double kernel_colour_share(const float* w, int channels, int64_t taps);

// colour(w) of each of conv1.weight's `out` kernels ([out, channels, kh, kw], row-major).
std::vector<double> kernel_colour_shares(const std::vector<float>& weight, int out, int channels,
                                         int64_t taps);

struct TowerColour {
  int first_kernel = 0, kernels = 0;  // the tower's share of conv1's output channels
  double mean = 0;                    // mean colour share of its kernels
  double colourful = 0;               // the fraction of them whose share exceeds 2/3
};

// Per tower of `towers` (tower_share's split of the output channels) for conv1.weight
// [out, channels, kh, kw], row-major. Empty optional for one-channel kernels ("n/a: one channel").
std::optional<std::vector<TowerColour>> tower_colour(const std::vector<float>& weight, int out, int channels,
                                                     int64_t taps, int towers);

// Is the towers' difference more than chance? The gap is the largest tower mean minus the
// smallest; its p-value is the share of `draws` random assignments of the same kernels to towers
// of the same sizes whose gap is at least as large, counting the observed one ((1 + hits) /
// (1 + draws): never 0). A permutation test: it asks only whether the kernels' shares depend on
// their tower, assuming nothing about their distribution. Drawn from Philox with a fixed key, so
// the same weights give the same p-value. Needs two towers or more and colour kernels.
struct TowerGap {
  double gap = 0, p_value = 1;
  int draws = 0;
};
TowerGap tower_gap(const std::vector<float>& weight, int out, int channels, int64_t taps, int towers,
                   int draws = 10000);

}  // namespace alexnet
