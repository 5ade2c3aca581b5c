// The per-element functions our CUDA kernels share with the CPU references (core/host_device.h).
// The CPU suite runs them through the layers, the optimizer and the exchanges; these tests pin
// the properties a user relies on, one function at a time, so that a change to the GPU's
// arithmetic that breaks one fails here, on a machine without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/device_ops.h"
#include "layers/fc.h"
#include "layers/softmax_loss.h"
#include "train/sgd.h"

namespace alexnet {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

TEST(Elementwise, FcBiasBroadcastsAlongEachRow) {
  const std::vector<float> b = {1, 2, 3};
  std::vector<float> y;
  for (int64_t i = 0; i < 6; ++i) y.push_back(fc_bias_broadcast(b.data(), i, 3));
  EXPECT_EQ(y, (std::vector<float>{1, 2, 3, 1, 2, 3}));
}

TEST(Elementwise, FcBiasGradientSumsTheBatchAndOverwriteNeverReads) {
  const std::vector<float> dy = {1, 10, 2, 20, 3, 30};  // [3 items, 2 columns]
  const std::vector<float> junk = {kNan, kInf};
  EXPECT_EQ(fc_bias_grad(dy.data(), 3, 2, 0, false, junk.data()), 6.0f);
  EXPECT_EQ(fc_bias_grad(dy.data(), 3, 2, 1, false, junk.data()), 60.0f);
  const std::vector<float> old = {0.5f, -60};
  EXPECT_EQ(fc_bias_grad(dy.data(), 3, 2, 0, true, old.data()), 6.5f);
  EXPECT_EQ(fc_bias_grad(dy.data(), 3, 2, 1, true, old.data()), 0.0f);
  // Summed in double: 2^24 + 1 + 1 is exact there, not in float (where each +1 is lost).
  const std::vector<float> big = {16777216.0f, 1, 1};
  EXPECT_EQ(fc_bias_grad(big.data(), 3, 1, 0, false, nullptr), 16777218.0f);
}

TEST(Elementwise, SoftmaxLossIsLogSumExpMinusTheLabelsLogit) {
  const std::vector<float> row = {1, 2, 3};
  const SoftmaxRowStats s = softmax_row_stats(row.data(), 3);
  EXPECT_EQ(s.top, 3.0f);
  const double p0 = std::exp(1.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(softmax_item_loss(row.data(), s, 0, 3), -std::log(p0), 1e-12);
  // Logits 1000 apart: the probability underflows, the loss stays finite.
  const std::vector<float> far = {0, 1000};
  EXPECT_NEAR(softmax_item_loss(far.data(), softmax_row_stats(far.data(), 2), 0, 2), 1000.0, 1e-9);
  // A label outside [0, classes): NaN, never a read outside the row.
  EXPECT_TRUE(std::isnan(softmax_item_loss(row.data(), s, 3, 3)));
  EXPECT_TRUE(std::isnan(softmax_item_loss(row.data(), s, -1, 3)));
}

TEST(Elementwise, SoftmaxLossGradientIsProbabilityMinusOneHotOverN) {
  const float inv_n = 1.0f / 4;
  EXPECT_EQ(softmax_loss_grad(0.5f, inv_n, false), 0.125f);
  EXPECT_EQ(softmax_loss_grad(0.5f, inv_n, true), -0.125f);
  // A row of probabilities: its gradient sums to zero (up to rounding).
  const std::vector<float> y = {0.1f, 0.2f, 0.3f, 0.4f};
  float sum = 0;
  for (int c = 0; c < 4; ++c) sum += softmax_loss_grad(y[c], inv_n, c == 2);
  EXPECT_NEAR(sum, 0.0f, 1e-7f);
}

TEST(Elementwise, SgdStepIsThePapersUpdate) {
  // v <- 0.9 v - 5e-4 * 0.01 * w - 0.01 g;  w <- w + v, in that order, each rounded in float.
  float w = 2.0f, v = 1.0f;
  const float lr = 0.01f, momentum = 0.9f, decay = 5e-4f * lr;
  sgd_step(w, 3.0f, v, lr, momentum, decay);
  const float want_v = momentum * 1.0f - decay * 2.0f - lr * 3.0f;
  EXPECT_EQ(v, want_v);
  EXPECT_EQ(w, 2.0f + want_v);
  // Without momentum and decay: plain gradient descent.
  float w2 = 1.0f, v2 = 123.0f;
  sgd_step(w2, 0.5f, v2, 0.25f, 0.0f, 0.0f);
  EXPECT_EQ(v2, -0.125f);
  EXPECT_EQ(w2, 0.875f);
}

TEST(Elementwise, AddAndScale) {
  EXPECT_EQ(add_element(1.5f, 2.25f), 3.75f);
  EXPECT_EQ(scale_element(3.0f, 0.5f), 1.5f);
}

}  // namespace
}  // namespace alexnet
