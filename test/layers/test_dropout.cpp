#include <gtest/gtest.h>

#include "layers/dropout.h"
#include "testing.h"

namespace alexnet {
namespace {

const Stream kCpu;

Pass training(uint64_t seed, uint64_t step) {
  Pass p{kCpu};
  p.seed = seed;
  p.step = step;
  return p;
}

TEST(Dropout, KnownAnswerFromThePhiloxDrawsOfItsKey) {
  // Element e of layer 6 at step 3, seed 99, is kept iff draw(99, (1 << 56) | (6 << 32) | 3, e) < 2^31.
  testing::BoundLayer drop(make_dropout({.p = 0.5f, .layer_id = 6}, Device::cpu()));
  Tensor x = Tensor::from_host({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  std::vector<float> y = drop.forward(training(99, 3), x).to_host();
  uint64_t subsequence = (1ull << 56) | (6ull << 32) | 3ull;
  for (int e = 0; e < 8; ++e) {
    bool keep = philox_draw(99, subsequence, e) < (1ull << 31);
    EXPECT_EQ(y[e], keep ? 2.0f * (e + 1) : 0.0f) << "element " << e;
  }
}

TEST(Dropout, KeepsAboutHalfAndScalesByTwo) {
  testing::BoundLayer drop(make_dropout({.p = 0.5f, .layer_id = 1}, Device::cpu()));
  Tensor x = Tensor::from_host({100, 1000}, std::vector<float>(100000, 1.0f));
  std::vector<float> y = drop.forward(training(1, 0), x).to_host();
  int kept = 0;
  for (float v : y) {
    ASSERT_TRUE(v == 0.0f || v == 2.0f) << v;
    kept += v != 0.0f;
  }
  EXPECT_NEAR(kept / 100000.0, 0.5, 0.01);
}

TEST(Dropout, IsTheIdentityAtTestTime) {
  testing::BoundLayer drop(make_dropout({.p = 0.5f}, Device::cpu()));
  std::vector<float> v = testing::uniform(64, 2);
  Pass eval{kCpu};
  eval.training = false;
  EXPECT_EQ(drop.forward(eval, Tensor::from_host({8, 8}, v)).to_host(), v);
}

TEST(Dropout, MasksDependOnSeedStepAndLayerOnly) {
  Tensor x = Tensor::from_host({4, 64}, std::vector<float>(256, 1.0f));
  auto mask = [&](uint32_t layer, uint64_t seed, uint64_t step) {
    testing::BoundLayer drop(make_dropout({.p = 0.5f, .layer_id = layer}, Device::cpu()));
    return drop.forward(training(seed, step), x).to_host();
  };
  EXPECT_EQ(mask(1, 5, 7), mask(1, 5, 7));
  EXPECT_NE(mask(1, 5, 7), mask(1, 5, 8));
  EXPECT_NE(mask(1, 5, 7), mask(2, 5, 7));
  EXPECT_NE(mask(1, 5, 7), mask(1, 6, 7));
}

TEST(Dropout, TowerSlicesDrawTheWholeLayersMask) {
  // fc6 split over two towers: tower t holds features [4t, 4t + 4) of a logical width of 8.
  std::vector<float> v = testing::uniform(3 * 8, 4);
  testing::BoundLayer whole(make_dropout({.p = 0.5f, .layer_id = 6}, Device::cpu()));
  std::vector<float> y = whole.forward(training(11, 2), Tensor::from_host({3, 8}, v)).to_host();
  for (int t = 0; t < 2; ++t) {
    testing::BoundLayer tower(
        make_dropout({.p = 0.5f, .layer_id = 6, .logical_width = 8, .feature_offset = 4 * t}, Device::cpu()));
    std::vector<float> slice;
    for (int n = 0; n < 3; ++n)
      for (int f = 0; f < 4; ++f) slice.push_back(v[n * 8 + 4 * t + f]);
    std::vector<float> ys = tower.forward(training(11, 2), Tensor::from_host({3, 4}, slice)).to_host();
    for (int n = 0; n < 3; ++n)
      for (int f = 0; f < 4; ++f) EXPECT_EQ(ys[n * 4 + f], y[n * 8 + 4 * t + f]) << "tower " << t;
  }
}

TEST(Dropout, GradientsMatchFiniteDifferences) {
  testing::BoundLayer drop(make_dropout({.p = 0.3f, .layer_id = 2}, Device::cpu()));
  Tensor x = testing::random_tensor({4, 16}, 71);
  testing::check_gradients(drop, x, training(3, 4));
}

}  // namespace
}  // namespace alexnet
