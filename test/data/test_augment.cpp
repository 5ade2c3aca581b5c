#include <gtest/gtest.h>

#include <cmath>

#include "data/augment.h"

namespace alexnet {
namespace {

TEST(Augment, CropFlipAndMeanByHand) {
  // A 4x4 grey image with pixel (y, x) = 10 y + x, a mean of 1 everywhere; crop 2 at (1, 2).
  std::vector<uint8_t> image(16);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) image[y * 4 + x] = static_cast<uint8_t>(10 * y + x);
  std::vector<float> mean(16, 1.0f), out(4);
  CropDraw d;
  d.top = 1;
  d.left = 2;
  crop_image(image.data(), mean.data(), 4, 4, 1, d, 2, nullptr, out.data());
  EXPECT_EQ(out, (std::vector<float>{11, 12, 21, 22}));
  d.flip = true;
  crop_image(image.data(), mean.data(), 4, 4, 1, d, 2, nullptr, out.data());
  EXPECT_EQ(out, (std::vector<float>{12, 11, 22, 21}));
}

TEST(Augment, HwcBecomesChwWithLighting) {
  // One RGB pixel (10, 20, 30), mean (1, 2, 3), lighting offsets (0.5, -0.5, 2).
  std::vector<uint8_t> image = {10, 20, 30};
  std::vector<float> mean = {1, 2, 3}, out(3);
  float offset[3] = {0.5f, -0.5f, 2.0f};
  crop_image(image.data(), mean.data(), 1, 1, 3, CropDraw{}, 1, offset, out.data());
  EXPECT_EQ(out, (std::vector<float>{9.5f, 17.5f, 29.0f}));
}

TEST(Augment, LightingOffsetIsEigenvectorsTimesAlphaTimesEigenvalues) {
  DatasetInfo info;
  info.channels = 3;
  info.pca_eigenvalues = {1, 2, 3};
  // Columns are eigenvectors: a permutation, so each channel picks one term.
  info.pca_eigenvectors = {0, 1, 0,   // channel 0 <- vector 1
                           0, 0, 1,   // channel 1 <- vector 2
                           1, 0, 0};  // channel 2 <- vector 0
  float alpha[3] = {0.1f, 0.2f, 0.3f}, offset[3];
  lighting_offset(info, alpha, offset);
  EXPECT_FLOAT_EQ(offset[0], 255 * 0.2f * 2);
  EXPECT_FLOAT_EQ(offset[1], 255 * 0.3f * 3);
  EXPECT_FLOAT_EQ(offset[2], 255 * 0.1f * 1);
}

TEST(Augment, DrawsCoverTheCropRangeAndFlipHalfTheTime) {
  int flips = 0, min_top = 1000, max_top = -1;
  double alpha_sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    CropDraw d = draw_augmentation(7, 3, i, 256, 256, 227, 3, 0.1f);
    ASSERT_TRUE(d.top >= 0 && d.top <= 29 && d.left >= 0 && d.left <= 29);
    min_top = std::min(min_top, d.top);
    max_top = std::max(max_top, d.top);
    flips += d.flip;
    alpha_sq += d.alpha[0] * d.alpha[0];
  }
  EXPECT_EQ(min_top, 0);
  EXPECT_EQ(max_top, 29);
  EXPECT_NEAR(flips / double(n), 0.5, 0.02);
  EXPECT_NEAR(std::sqrt(alpha_sq / n), 0.1, 0.005);  // alpha ~ N(0, 0.1^2)
  // Keyed by (seed, epoch, index): repeatable, and different in the next epoch.
  CropDraw a = draw_augmentation(7, 3, 42, 256, 256, 227, 3, 0.1f),
           b = draw_augmentation(7, 3, 42, 256, 256, 227, 3, 0.1f);
  EXPECT_EQ(a.top, b.top);
  EXPECT_EQ(a.alpha[2], b.alpha[2]);
  int same = 0;
  for (int i = 0; i < 100; ++i) {
    same += draw_augmentation(7, 3, i, 256, 256, 227, 3, 0.1f).alpha[0] ==
            draw_augmentation(7, 4, i, 256, 256, 227, 3, 0.1f).alpha[0];
  }
  EXPECT_LT(same, 5);
}

TEST(Augment, TenViewsAreCornersCentreAndMirrors) {
  CropDraw c = ten_view(0, 256, 256, 227);
  EXPECT_EQ(c.top, 14);
  EXPECT_EQ(c.left, 14);
  EXPECT_FALSE(c.flip);
  EXPECT_EQ(ten_view(2, 256, 256, 227).left, 29);
  EXPECT_EQ(ten_view(2, 256, 256, 227).top, 0);
  EXPECT_EQ(ten_view(3, 256, 256, 227).top, 29);
  EXPECT_EQ(ten_view(4, 256, 256, 227).left, 29);
  for (int v = 5; v < 10; ++v) {
    EXPECT_TRUE(ten_view(v, 256, 256, 227).flip);
    EXPECT_EQ(ten_view(v, 256, 256, 227).top, ten_view(v - 5, 256, 256, 227).top);
  }
}

}  // namespace
}  // namespace alexnet
