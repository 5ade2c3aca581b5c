#include <gtest/gtest.h>

#include <cmath>

#include "layers/lrn.h"
#include "testing.h"

namespace alexnet {
namespace {

const Stream kCpu;

// The paper's formula written out directly: b[c] = a[c] / (k + alpha * sum a[c']^2)^beta over
// c' in [max(0, c - n/2), min(C - 1, c + n/2)], for odd n.
std::vector<float> paper_lrn(const std::vector<float>& a, int n_items, int channels, int plane,
                             const LrnConfig& c) {
  std::vector<float> b(a.size());
  for (int n = 0; n < n_items; ++n)
    for (int ch = 0; ch < channels; ++ch)
      for (int p = 0; p < plane; ++p) {
        double sum = 0;
        for (int j = std::max(0, ch - c.size / 2); j <= std::min(channels - 1, ch + c.size / 2); ++j) {
          double v = a[(n * channels + j) * plane + p];
          sum += v * v;
        }
        int i = (n * channels + ch) * plane + p;
        b[i] = static_cast<float>(a[i] / std::pow(c.k + c.alpha * sum, c.beta));
      }
  return b;
}

// The CPU layer's arithmetic as plain scalar loops, one element at a time: s = k + alpha * (the
// window's squares added in ascending channel order), b = a * (1 / (sqrt(s) * sqrt(sqrt(s))))
// for beta = 0.75, and da = dy * s^-beta - 2 alpha beta * a * (dy b / s summed over the mirrored
// window in ascending order). The vectorised block loops (and their AVX2 and AVX-512 clones)
// must give these very bits: no fused multiply-add, no reordered sum.
struct ScalarLrn {
  std::vector<float> s, b, da;
};
ScalarLrn scalar_lrn(const std::vector<float>& a, const std::vector<float>& dy, int n_items, int channels,
                     int plane, const LrnConfig& c) {
  ScalarLrn r{std::vector<float>(a.size()), std::vector<float>(a.size()), std::vector<float>(a.size())};
  auto at = [&](int n, int ch, int p) { return (static_cast<size_t>(n) * channels + ch) * plane + p; };
  auto pow_neg = [](float s) {
    float q = std::sqrt(s);
    return 1.0f / (q * std::sqrt(q));
  };
  const int before = (c.size - 1) / 2, after = c.size / 2;
  for (int n = 0; n < n_items; ++n)
    for (int ch = 0; ch < channels; ++ch)
      for (int p = 0; p < plane; ++p) {
        float sum = 0.0f;
        for (int j = std::max(0, ch - before); j <= std::min(channels - 1, ch + after); ++j) {
          float sq = a[at(n, j, p)] * a[at(n, j, p)];
          sum += sq;
        }
        float s = c.k + c.alpha * sum;
        r.s[at(n, ch, p)] = s;
        r.b[at(n, ch, p)] = pow_neg(s) * a[at(n, ch, p)];
      }
  const float two_alpha_beta = 2.0f * c.alpha * c.beta;
  for (int n = 0; n < n_items; ++n)
    for (int ch = 0; ch < channels; ++ch)
      for (int p = 0; p < plane; ++p) {
        float sum = 0.0f;
        for (int j = std::max(0, ch - after); j <= std::min(channels - 1, ch + before); ++j) {
          float ratio = dy[at(n, j, p)] * r.b[at(n, j, p)];
          ratio = ratio / r.s[at(n, j, p)];
          sum += ratio;
        }
        size_t i = at(n, ch, p);
        float g_pow = dy[i] * pow_neg(r.s[i]);
        float t = two_alpha_beta * a[i];
        t = t * sum;
        r.da[i] = g_pow - t;
      }
  return r;
}

TEST(Lrn, ForwardAndBackwardGiveTheScalarLoopsBitsWithThePapersConstants) {
  // 13 x 13 planes (169 pixels: vector loops with a remainder), 2 groups of 10 channels, so that
  // windows are clipped at both ends of each group.
  const LrnConfig c{.size = 5, .alpha = 1e-4f, .beta = 0.75f, .k = 2.0f, .groups = 2};
  const int items = 3, channels = 20, plane = 169;
  testing::BoundLayer lrn(make_lrn(c, Device::cpu()));
  Tensor x = testing::random_tensor({items, channels, 13, 13}, 7, -40.0f, 40.0f);
  Tensor y = lrn.forward(Pass{kCpu}, x);
  Tensor dy = testing::random_tensor(y.shape(), 8);
  Tensor dx(x.shape());
  lrn.layer->backward(Pass{kCpu}, x.view(), y.view(), dy.view(), dx.view());
  // Each group is a block of 10 channels: item n, group g is item 2n + g of a 10-channel tensor.
  ScalarLrn want = scalar_lrn(x.to_host(), dy.to_host(), items * 2, channels / 2, plane, c);
  const std::vector<float> got_y = y.to_host(), got_dx = dx.to_host();
  for (size_t i = 0; i < got_y.size(); ++i) {
    ASSERT_EQ(got_y[i], want.b[i]) << "y at " << i;
    ASSERT_EQ(got_dx[i], want.da[i]) << "dx at " << i;
  }
}

TEST(Lrn, KnownAnswer) {
  // a = [1, 2, 3] across channels, n = 3, k = 1, alpha = 0.1, beta = 0.5:
  // s = [1 + 0.1 * 5, 1 + 0.1 * 14, 1 + 0.1 * 13] = [1.5, 2.4, 2.3].
  testing::BoundLayer lrn(make_lrn({.size = 3, .alpha = 0.1f, .beta = 0.5f, .k = 1.0f}, Device::cpu()));
  Tensor x = Tensor::from_host({1, 3, 1, 1}, {1, 2, 3});
  std::vector<float> y = lrn.forward(Pass{kCpu}, x).to_host();
  EXPECT_NEAR(y[0], 1 / std::sqrt(1.5), 1e-6);
  EXPECT_NEAR(y[1], 2 / std::sqrt(2.4), 1e-6);
  EXPECT_NEAR(y[2], 3 / std::sqrt(2.3), 1e-6);
}

TEST(Lrn, MatchesThePapersFormulaWithThePapersConstants) {
  LrnConfig paper;  // k = 2, n = 5, alpha = 1e-4, beta = 0.75
  EXPECT_EQ(paper.size, 5);
  EXPECT_EQ(paper.k, 2.0f);
  EXPECT_EQ(paper.alpha, 1e-4f);
  EXPECT_EQ(paper.beta, 0.75f);
  // Inputs of the size ReLU outputs reach in conv1, so that the alpha term matters.
  std::vector<float> a = testing::uniform(2 * 9 * 3 * 3, 31, 0.0f, 40.0f);
  testing::BoundLayer lrn(make_lrn(paper, Device::cpu()));
  std::vector<float> y = lrn.forward(Pass{kCpu}, Tensor::from_host({2, 9, 3, 3}, a)).to_host();
  EXPECT_TRUE(testing::all_close(y, paper_lrn(a, 2, 9, 9, paper), 1e-6f, 1e-5f));
}

TEST(Lrn, DiffersFromTheAlphaOverNConventionByTheExpectedFactor) {
  // A library that divides alpha by n computes s' = k + (alpha / n) * S with the same S. Giving it
  // the paper's alpha unconverted (our layer with alpha / n) changes each output by exactly
  // (s' / s)^beta; passing library_alpha() = alpha * n instead reproduces the paper.
  LrnConfig paper{.size = 5, .alpha = 0.02f, .beta = 0.75f, .k = 2.0f};
  LrnConfig misread = paper;
  misread.alpha = paper.alpha / paper.size;
  EXPECT_FLOAT_EQ(LrnConfig{}.library_alpha(), 5e-4f);

  const int channels = 7;
  std::vector<float> a = testing::uniform(channels, 41, 0.5f, 3.0f);
  Tensor x = Tensor::from_host({1, channels, 1, 1}, a);
  testing::BoundLayer ours(make_lrn(paper, Device::cpu())), theirs(make_lrn(misread, Device::cpu()));
  std::vector<float> y = ours.forward(Pass{kCpu}, x).to_host();
  std::vector<float> y_misread = theirs.forward(Pass{kCpu}, x).to_host();
  for (int c = 0; c < channels; ++c) {
    double sum = 0;
    for (int j = std::max(0, c - 2); j <= std::min(channels - 1, c + 2); ++j) sum += a[j] * a[j];
    double s = paper.k + paper.alpha * sum, s_misread = paper.k + paper.alpha / paper.size * sum;
    double expected_factor = std::pow(s_misread / s, paper.beta);
    EXPECT_NEAR(y[c] / y_misread[c], expected_factor, 1e-6) << "channel " << c;
    EXPECT_LT(expected_factor, 0.99);  // the difference is real, not rounding
  }
}

TEST(Lrn, GradientsMatchFiniteDifferences) {
  // A strong alpha so that the cross-channel term of the gradient is large and checked.
  testing::BoundLayer lrn(make_lrn({.size = 5, .alpha = 0.1f, .beta = 0.75f, .k = 1.0f}, Device::cpu()));
  Tensor x = testing::random_tensor({2, 7, 3, 3}, 51);
  testing::check_gradients(lrn, x, Pass{kCpu});
}

TEST(Lrn, GradientsMatchFiniteDifferencesWithThePapersConstants) {
  testing::BoundLayer lrn(make_lrn(LrnConfig{}, Device::cpu()));
  Tensor x = testing::random_tensor({1, 8, 3, 3}, 52, 0.0f, 30.0f);
  testing::check_gradients(lrn, x, Pass{kCpu}, {.eps = 1e-2f, .atol = 2e-3f, .rtol = 1e-2f});
}

TEST(Lrn, EvenWindowSizesFollowCudnnPlacement) {
  // n = 2: the window is [c, c + 1] (cuDNN and Caffe put the extra channel after c).
  testing::BoundLayer lrn(make_lrn({.size = 2, .alpha = 1.0f, .beta = 1.0f, .k = 1.0f}, Device::cpu()));
  std::vector<float> y = lrn.forward(Pass{kCpu}, Tensor::from_host({1, 3, 1, 1}, {1, 2, 3})).to_host();
  EXPECT_NEAR(y[0], 1.0 / (1 + 1 + 4), 1e-6);
  EXPECT_NEAR(y[1], 2.0 / (1 + 4 + 9), 1e-6);
  EXPECT_NEAR(y[2], 3.0 / (1 + 9), 1e-6);
}

TEST(Lrn, GroupsNormaliseEachHalfOnItsOwn) {
  // Two groups of 3 channels equal two separate LRNs over each half, as two towers compute.
  LrnConfig grouped{.size = 5, .alpha = 0.1f, .beta = 0.75f, .k = 1.0f, .groups = 2};
  LrnConfig half = grouped;
  half.groups = 1;
  std::vector<float> a = testing::uniform(6, 91);
  testing::BoundLayer whole(make_lrn(grouped, Device::cpu())), tower(make_lrn(half, Device::cpu()));
  std::vector<float> y = whole.forward(Pass{kCpu}, Tensor::from_host({1, 6, 1, 1}, a)).to_host();
  for (int g = 0; g < 2; ++g) {
    std::vector<float> part(a.begin() + 3 * g, a.begin() + 3 * g + 3);
    std::vector<float> yg = tower.forward(Pass{kCpu}, Tensor::from_host({1, 3, 1, 1}, part)).to_host();
    for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(y[3 * g + c], yg[c]) << "group " << g;
  }
  testing::BoundLayer grad_check(make_lrn(grouped, Device::cpu()));
  Tensor x = testing::random_tensor({2, 6, 2, 2}, 92);
  testing::check_gradients(grad_check, x, Pass{kCpu});
}

}  // namespace
}  // namespace alexnet
