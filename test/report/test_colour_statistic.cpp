// The colour statistic of conv1's kernels (report/colour_statistic.h) on hand-made kernels: grey
// scores 0, colour-opponent scores 1, random weights about 2/3, and each tower is scored on its
// own share of the kernels.
#include <gtest/gtest.h>

#include <cmath>

#include "core/philox.h"
#include "report/colour_statistic.h"

namespace alexnet {
namespace {

constexpr int kTaps = 11 * 11;

float random_weight(uint64_t i) {
  return philox_normal(philox_draw(7, 1, 2 * i), philox_draw(7, 1, 2 * i + 1));
}

// [3, taps]: every tap weighs R, G and B alike.
std::vector<float> grey_kernel(uint64_t salt) {
  std::vector<float> w(3 * kTaps);
  for (int t = 0; t < kTaps; ++t) w[t] = w[kTaps + t] = w[2 * kTaps + t] = random_weight(salt * kTaps + t);
  return w;
}

// Red against green, blue unused: every tap's weights sum to 0 over the channels.
std::vector<float> opponent_kernel(uint64_t salt) {
  std::vector<float> w(3 * kTaps, 0.0f);
  for (int t = 0; t < kTaps; ++t) w[t] = random_weight(salt * kTaps + t), w[kTaps + t] = -w[t];
  return w;
}

TEST(ColourStatistic, GreyKernelScoresZero) {
  EXPECT_NEAR(kernel_colour_share(grey_kernel(1).data(), 3, kTaps), 0.0, 1e-12);
}

TEST(ColourStatistic, ColourOpponentKernelScoresOne) {
  EXPECT_NEAR(kernel_colour_share(opponent_kernel(2).data(), 3, kTaps), 1.0, 1e-12);
  // Blue against yellow (red and green together) is colour-opponent too.
  std::vector<float> w(3 * kTaps);
  for (int t = 0; t < kTaps; ++t) w[t] = w[kTaps + t] = 0.5f * (w[2 * kTaps + t] = random_weight(t));
  for (int t = 0; t < kTaps; ++t) w[2 * kTaps + t] = -w[2 * kTaps + t];
  EXPECT_NEAR(kernel_colour_share(w.data(), 3, kTaps), 1.0, 1e-12);
}

TEST(ColourStatistic, OneColourChannelAloneScoresTwoThirds) {
  // A kernel that reads red only is colour-specific: two thirds of its energy is off the grey axis.
  std::vector<float> w(3 * kTaps, 0.0f);
  for (int t = 0; t < kTaps; ++t) w[t] = random_weight(t);
  EXPECT_NEAR(kernel_colour_share(w.data(), 3, kTaps), 2.0 / 3.0, 1e-12);
}

TEST(ColourStatistic, RandomKernelsAverageTwoThirdsAndZeroIsZero) {
  double sum = 0;
  for (int k = 0; k < 200; ++k) {
    std::vector<float> w(3 * kTaps);
    for (int i = 0; i < 3 * kTaps; ++i) w[i] = random_weight(100000 + k * 3 * kTaps + i);
    sum += kernel_colour_share(w.data(), 3, kTaps);
  }
  EXPECT_NEAR(sum / 200, 2.0 / 3.0, 0.01);
  std::vector<float> zero(3 * kTaps, 0.0f);
  EXPECT_EQ(kernel_colour_share(zero.data(), 3, kTaps), 0.0);
}

TEST(ColourStatistic, EachTowerIsScoredOnItsOwnKernels) {
  // Six kernels: tower 0 (kernels 0-2) grey, tower 1 (3-5) colour-opponent, as Figure 3 shows.
  std::vector<float> weight;
  for (int k = 0; k < 6; ++k) {
    const std::vector<float> w = k < 3 ? grey_kernel(k) : opponent_kernel(k);
    weight.insert(weight.end(), w.begin(), w.end());
  }
  const auto towers = tower_colour(weight, 6, 3, kTaps, 2);
  ASSERT_TRUE(towers.has_value());
  ASSERT_EQ(towers->size(), 2u);
  EXPECT_EQ((*towers)[0].first_kernel, 0);
  EXPECT_EQ((*towers)[1].first_kernel, 3);
  EXPECT_EQ((*towers)[1].kernels, 3);
  EXPECT_NEAR((*towers)[0].mean, 0.0, 1e-12);
  EXPECT_NEAR((*towers)[1].mean, 1.0, 1e-12);
  EXPECT_EQ((*towers)[0].colourful, 0.0);
  EXPECT_EQ((*towers)[1].colourful, 1.0);
  // Uneven shares (5 kernels over 2 towers: 2 and 3), as tower_share splits them.
  weight.resize(5 * 3 * kTaps);
  const auto uneven = tower_colour(weight, 5, 3, kTaps, 2);
  EXPECT_EQ((*uneven)[0].kernels, 2);
  EXPECT_EQ((*uneven)[1].kernels, 3);
  EXPECT_NEAR((*uneven)[1].mean, 2.0 / 3.0, 1e-12);  // one grey, two opponent
}

TEST(ColourStatistic, TowerGapIsSignificantOnlyWhenTheTowersDiffer) {
  // Figure 3's picture: 16 grey kernels in tower 0, 16 colour-opponent ones in tower 1. No random
  // split of them into two 16s separates them as well, so p is the least a 2,000-draw test gives.
  std::vector<float> figure3, mixed;
  for (int k = 0; k < 32; ++k) {
    const std::vector<float> w = k < 16 ? grey_kernel(k) : opponent_kernel(k);
    figure3.insert(figure3.end(), w.begin(), w.end());
    // The same kernels alternating between the towers: half of each kind in each.
    const std::vector<float> v = k % 2 ? grey_kernel(k) : opponent_kernel(k);
    mixed.insert(mixed.end(), v.begin(), v.end());
  }
  const TowerGap apart = tower_gap(figure3, 32, 3, kTaps, 2, 2000);
  EXPECT_NEAR(apart.gap, 1.0, 1e-12);
  EXPECT_EQ(apart.draws, 2000);
  EXPECT_NEAR(apart.p_value, 1.0 / 2001, 1e-12);
  const TowerGap together = tower_gap(mixed, 32, 3, kTaps, 2, 2000);
  EXPECT_NEAR(together.gap, 0.0, 1e-12);
  EXPECT_EQ(together.p_value, 1.0);  // every split's gap is at least 0
  // Random kernels: no tower effect, so p is far from significant; and the same weights give
  // the same p (the draws are keyed, not timed).
  std::vector<float> random(32 * 3 * kTaps);
  for (size_t i = 0; i < random.size(); ++i) random[i] = random_weight(500000 + i);
  const TowerGap chance = tower_gap(random, 32, 3, kTaps, 2, 2000);
  EXPECT_GT(chance.p_value, 0.05);
  EXPECT_EQ(tower_gap(random, 32, 3, kTaps, 2, 2000).p_value, chance.p_value);
  // Four towers: the gap is the largest tower mean minus the smallest.
  EXPECT_NEAR(tower_gap(figure3, 32, 3, kTaps, 4, 200).gap, 1.0, 1e-12);
}

TEST(ColourStatistic, OneChannelHasNone) {
  std::vector<float> weight(4 * 25, 1.0f);
  EXPECT_FALSE(tower_colour(weight, 4, 1, 25, 2).has_value());
}

}  // namespace
}  // namespace alexnet
