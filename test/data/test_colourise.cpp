// `alexnet pack --colourise SEED` (data/colourise.h): reproducible, keyed by the image, hues
// spread widely around a class-specific centre, black kept black.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "data/colourise.h"
#include "data/pack.h"
#include "data_testing.h"

namespace alexnet {
namespace {

using testing::TempDir;

TEST(Colourise, TheSameKeyGivesTheSameTintAndOthersDiffer) {
  const SourceItem item{3, "train", 7};
  const Tint a = colourise_tint(item, 10, 5), b = colourise_tint(item, 10, 5);
  EXPECT_EQ(a.hue, b.hue);
  EXPECT_EQ(a.saturation, b.saturation);
  EXPECT_NE(colourise_tint(item, 10, 6).hue, a.hue);             // another seed
  EXPECT_NE(colourise_tint({3, "test", 7}, 10, 5).hue, a.hue);   // another split
  EXPECT_NE(colourise_tint({3, "train", 8}, 10, 5).hue, a.hue);  // another image
}

// The circular mean and spread of the hues of one class's images.
TEST(Colourise, HuesSpreadWidelyAroundTheClassCentre) {
  for (int label : {0, 3, 7}) {
    double sx = 0, sy = 0;
    const int n = 4000;
    for (int i = 0; i < n; ++i) {
      const Tint t = colourise_tint({label, "train", i}, 10, 1);
      ASSERT_GE(t.hue, 0.0f);
      ASSERT_LT(t.hue, 360.0f);
      ASSERT_GE(t.saturation, 0.5f);
      ASSERT_LE(t.saturation, 1.0f);
      sx += std::cos(t.hue * M_PI / 180), sy += std::sin(t.hue * M_PI / 180);
    }
    double mean = std::atan2(sy, sx) * 180 / M_PI;
    if (mean < 0) mean += 360;
    double gap = std::fabs(mean - 36.0 * label);
    gap = std::min(gap, 360 - gap);
    EXPECT_LT(gap, 5.0) << "class " << label << ": mean hue " << mean;
    // A wrapped normal of standard deviation s has mean resultant length exp(-s^2 / 2).
    const double r = std::hypot(sx, sy) / n;
    const double spread = std::sqrt(-2 * std::log(r)) * 180 / M_PI;
    EXPECT_NEAR(spread, kColouriseHueSpreadDegrees, 5.0) << "class " << label;
  }
}

TEST(Colourise, TintsTheGreyLevelAndKeepsBlackBlack) {
  cv::Mat grey(2, 2, CV_8UC1);
  grey.at<uint8_t>(0, 0) = 0, grey.at<uint8_t>(0, 1) = 255, grey.at<uint8_t>(1, 0) = 100,
                      grey.at<uint8_t>(1, 1) = 200;
  const SourceItem item{1, "train", 42};
  const Tint t = colourise_tint(item, 10, 9);
  const cv::Mat rgb = colourise(grey, item, 10, 9);
  ASSERT_EQ(rgb.type(), CV_8UC3);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(rgb.at<cv::Vec3b>(0, 0)[c], 0);
    EXPECT_EQ(rgb.at<cv::Vec3b>(0, 1)[c], std::lround(255 * t.rgb[c]));
    EXPECT_EQ(rgb.at<cv::Vec3b>(1, 1)[c], std::lround(200 * t.rgb[c]));
  }
  // HSV with value 1: the largest channel is 1, the smallest 1 - saturation.
  EXPECT_FLOAT_EQ(std::max({t.rgb[0], t.rgb[1], t.rgb[2]}), 1.0f);
  EXPECT_NEAR(std::min({t.rgb[0], t.rgb[1], t.rgb[2]}), 1.0f - t.saturation, 1e-6);
}

TEST(Colourise, TheHueSaysWhichChannelLeads) {
  // Red leads from 300 to 60 degrees, green from 60 to 180, blue from 180 to 300.
  for (int i = 0; i < 200; ++i) {
    const Tint t = colourise_tint({i % 10, "train", i}, 10, 2);
    const int lead = t.hue >= 300 || t.hue < 60 ? 0 : t.hue < 180 ? 1 : 2;
    for (int c = 0; c < 3; ++c) EXPECT_GE(t.rgb[lead], t.rgb[c]) << "hue " << t.hue;
  }
}

TEST(Colourise, PackingTwiceWithOneSeedGivesTheSameImages) {
  if (!std::filesystem::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed (tools/setup.sh installs it)";
  }
  TempDir dir;
  auto pack = [&](const std::string& name, uint64_t seed, int threads) {
    PackOptions o;
    o.source = "fashion-mnist";
    o.output = dir.file(name);
    o.per_class = 4;
    o.val = 8;
    o.colourise = seed;
    o.threads = threads;
    o.progress = false;
    pack_dataset(o);
    return std::make_unique<DatasetReader>(o.output);
  };
  auto a = pack("a.h5", 3, 1), b = pack("b.h5", 3, 2), other = pack("c.h5", 4, 1);
  EXPECT_EQ(a->info().channels, 3);
  EXPECT_NE(a->info().source.find("colourised with seed 3"), std::string::npos) << a->info().source;
  std::vector<uint8_t> x(28 * 28 * 3), y(x.size()), z(x.size());
  int differ = 0;
  for (const std::string split : {"train", "val", "test"}) {
    ASSERT_EQ(a->size(split), b->size(split));
    for (int64_t i = 0; i < a->size(split); ++i) {
      a->read_image(split, i, x.data());
      b->read_image(split, i, y.data());
      other->read_image(split, i, z.data());
      ASSERT_EQ(x, y) << split << " image " << i;
      differ += x != z;
    }
  }
  EXPECT_GT(differ, 50);  // another seed, other colours
  EXPECT_EQ(a->info().mean, b->info().mean);
}

}  // namespace
}  // namespace alexnet
