// Placement never changes the function: the two-tower split and its one-device twin, built from
// one seed, agree in logits, loss and every parameter gradient with dropout on, and still agree
// after SGD steps. And the exchange points do change the function, in the way the paper's
// figure 2 says.
#include <gtest/gtest.h>

#include <cmath>

#include "net/net_testing.h"
#include "train/sgd.h"

namespace alexnet {
namespace {

using testing::agree;
using testing::PlacedNet;
using Batch = testing::TestBatch;

constexpr int kBatch = 4;
constexpr uint64_t kSeed = testing::kNetSeed;

PlacedNet build(Placement placement, std::optional<std::vector<std::string>> exchange = std::nullopt,
                int towers = 2) {
  return testing::place({.placement = placement, .towers = towers, .exchange = exchange, .batch = kBatch});
}

Batch batch(uint64_t seed) {
  return testing::mini_batch(kBatch, seed);
}

TEST(SplitVsSingle, IdenticalInitialWeights) {
  PlacedNet split = build(Placement::kSplit), single = build(Placement::kSingle);
  for (const LogicalParam& p : split.net->plan().params) {
    EXPECT_EQ(split.net->read_param(p.name), single.net->read_param(p.name)) << p.name;
  }
  // The draws are the paper's: weights N(0, std^2), biases constant.
  std::vector<float> w = split.net->read_param("fc6.weight");
  double sum_sq = 0;
  for (float v : w) sum_sq += static_cast<double>(v) * v;
  EXPECT_NEAR(std::sqrt(sum_sq / w.size()), 0.088, 0.088 * 0.02);
}

// K towers: the paper's two, and four (alexnet-mini's widths divide by 4; single then runs
// groups = 4 where a layer reads its own tower's maps).
class SplitVsSingleK : public ::testing::TestWithParam<int> {};

TEST_P(SplitVsSingleK, ForwardAndBackwardAgreeWithDropoutOn) {
  const int k = GetParam();
  PlacedNet split = build(Placement::kSplit, std::nullopt, k),
            single = build(Placement::kSingle, std::nullopt, k);
  ASSERT_EQ(split.net->towers(), k);
  Batch b = batch(1);
  StepContext ctx{.training = true, .seed = kSeed, .step = 0};
  double loss_split = split.net->forward(b.images.view(), b.labels.data(), ctx);
  double loss_single = single.net->forward(b.images.view(), b.labels.data(), ctx);
  EXPECT_NEAR(loss_split, loss_single, 1e-4 * std::abs(loss_single));
  EXPECT_TRUE(agree(split.net->activation("fc8"), single.net->activation("fc8"), 1e-4f));
  // Dropout really was on: about half of fc7's outputs are zero after drop7.
  std::vector<float> dropped = single.net->activation("drop7");
  int zeros = 0;
  for (float v : dropped) zeros += v == 0.0f;
  EXPECT_GT(zeros, static_cast<int>(dropped.size() / 3));
  EXPECT_TRUE(agree(split.net->activation("drop7"), dropped, 1e-4f));

  split.net->backward(ctx);
  single.net->backward(ctx);
  for (const LogicalParam& p : single.net->plan().params) {
    EXPECT_TRUE(agree(split.net->read_param(p.name, true), single.net->read_param(p.name, true), 1e-4f))
        << p.name;
  }
}

TEST_P(SplitVsSingleK, WeightsStillAgreeAfterFiveSgdSteps) {
  const int k = GetParam();
  PlacedNet split = build(Placement::kSplit, std::nullopt, k),
            single = build(Placement::kSingle, std::nullopt, k);
  Sgd sgd_split(*split.net, {.learning_rate = 0.01f}), sgd_single(*single.net, {.learning_rate = 0.01f});
  for (uint64_t step = 0; step < 5; ++step) {
    Batch b = batch(10 + step);
    StepContext ctx{.training = true, .seed = kSeed, .step = step};
    split.net->forward(b.images.view(), b.labels.data(), ctx);
    single.net->forward(b.images.view(), b.labels.data(), ctx);
    split.net->backward(ctx);
    single.net->backward(ctx);
    sgd_split.step();
    sgd_single.step();
  }
  std::vector<float> before = build(Placement::kSingle, std::nullopt, k).net->read_param("conv1.weight");
  EXPECT_NE(single.net->read_param("conv1.weight"), before);  // the steps moved the weights
  for (const LogicalParam& p : single.net->plan().params) {
    EXPECT_TRUE(agree(split.net->read_param(p.name), single.net->read_param(p.name), 1e-3f)) << p.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Towers, SplitVsSingleK, ::testing::Values(2, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "K" + std::to_string(info.param);
                         });

// Three towers share widths of 10, 7 and 5 unevenly (3 + 3 + 4, ...): the exchanges pad and trim
// their blocks, dropout keys each tower's features by their logical index, and split still
// equals single.
TEST(SplitVsSingle, UnevenSharesOfThreeTowersAgree) {
  const std::string text = R"(
[net]
name = "uneven"
input = [1, 12, 12]
classes = 5
[[layers]]
name = "conv1"
type = "conv"
out = 10
kernel = 3
reads = "all"
weight_init = "he"
[[layers]]
name = "relu1"
type = "relu"
[[layers]]
name = "pool1"
type = "max_pool"
[[layers]]
name = "fc6"
type = "fc"
out = 7
reads = "all"
weight_init = "he"
[[layers]]
name = "act6"
type = "tanh"
[[layers]]
name = "drop6"
type = "dropout"
[[layers]]
name = "fc8"
type = "fc"
out = "classes"
reads = "all"
weight_init = "he"
[[layers]]
name = "loss"
type = "softmax_loss"
)";
  const NetworkSpec spec = parse_network(text, "uneven.toml");
  auto place = [&](Placement placement) {
    return testing::place(spec, {.placement = placement, .towers = 3, .batch = kBatch});
  };
  PlacedNet split = place(Placement::kSplit), single = place(Placement::kSingle);
  EXPECT_EQ(split.net->plan().nodes[0].tower[2].out, (Shape{4, 10, 10}));  // 10 = 3 + 3 + 4
  Tensor images = testing::random_tensor({kBatch, 1, 12, 12}, 8, 0.0f, 1.0f);
  std::vector<int32_t> labels = {0, 3, 4, 1};
  StepContext ctx{.training = true, .seed = kSeed, .step = 2};
  double a = split.net->forward(images.view(), labels.data(), ctx);
  double b = single.net->forward(images.view(), labels.data(), ctx);
  EXPECT_NEAR(a, b, 1e-5 * std::abs(b));
  EXPECT_TRUE(agree(split.net->activation("drop6"), single.net->activation("drop6"), 1e-5f));
  split.net->backward(ctx);
  single.net->backward(ctx);
  for (const LogicalParam& p : single.net->plan().params) {
    EXPECT_TRUE(agree(split.net->read_param(p.name, true), single.net->read_param(p.name, true), 1e-4f))
        << p.name;
  }
}

// Channels [begin, end) of every item of a logical [N, C, H, W] activation.
std::vector<float> channels(const std::vector<float>& a, int c_total, int plane, int begin, int end) {
  std::vector<float> out;
  for (int n = 0; n < kBatch; ++n)
    for (int c = begin; c < end; ++c)
      out.insert(out.end(), a.begin() + (n * c_total + c) * plane, a.begin() + (n * c_total + c + 1) * plane);
  return out;
}

// Perturbs tower 1's conv2 kernels and reports whether tower 0's conv5 maps moved.
bool tower0_conv5_depends_on_tower1(Placement placement, std::optional<std::vector<std::string>> exchange) {
  PlacedNet p = build(placement, exchange);
  Batch b = batch(3);
  StepContext ctx{.training = false};
  p.net->forward(b.images.view(), b.labels.data(), ctx);
  std::vector<float> before = p.net->activation("conv5");
  std::vector<float> w = p.net->read_param("conv2.weight");
  for (size_t i = w.size() / 2; i < w.size(); ++i) w[i] += 0.5f;
  p.net->write_param("conv2.weight", w);
  p.net->forward(b.images.view(), b.labels.data(), ctx);
  std::vector<float> after = p.net->activation("conv5");
  const int plane = 6 * 6;
  EXPECT_NE(channels(after, 64, plane, 32, 64), channels(before, 64, plane, 32, 64)) << "tower 1 must move";
  return channels(after, 64, plane, 0, 32) != channels(before, 64, plane, 0, 32);
}

TEST(Exchanges, WithoutTheConv3ExchangeTheTowersAreIndependentUpToFc6) {
  const std::vector<std::string> no_conv3 = {"fc6", "fc7", "fc8"};
  for (Placement p : {Placement::kSplit, Placement::kSingle}) {
    EXPECT_TRUE(tower0_conv5_depends_on_tower1(p, std::nullopt)) << placement_name(p);
    EXPECT_FALSE(tower0_conv5_depends_on_tower1(p, no_conv3)) << placement_name(p);
  }
}

TEST(Exchanges, AnAblationStillAgreesAcrossPlacements) {
  const std::vector<std::string> no_conv3 = {"fc6", "fc7", "fc8"};
  PlacedNet split = build(Placement::kSplit, no_conv3), single = build(Placement::kSingle, no_conv3);
  Batch b = batch(5);
  StepContext ctx{.training = true, .seed = kSeed, .step = 3};
  double a = split.net->forward(b.images.view(), b.labels.data(), ctx);
  double c = single.net->forward(b.images.view(), b.labels.data(), ctx);
  EXPECT_NEAR(a, c, 1e-4 * std::abs(c));
}

}  // namespace
}  // namespace alexnet

namespace alexnet {
namespace {

// The whole placed network's parameter gradients against central differences of its loss, for a
// few elements of every tensor. Kinks of ReLU and max pooling can make a single element's
// difference quotient wrong, so a tensor passes when most of its sampled elements agree.
TEST(NetGradient, MatchesFiniteDifferencesOfTheLoss) {
  for (Placement placement : {Placement::kSplit, Placement::kSingle}) {
    PlacedNet p = build(placement);
    Batch b = batch(21);
    const StepContext ctx{.training = true, .seed = kSeed, .step = 4};
    p.net->forward(b.images.view(), b.labels.data(), ctx);
    p.net->backward(ctx);
    for (const LogicalParam& lp : p.net->plan().params) {
      std::vector<float> grad = p.net->read_param(lp.name, true);
      std::vector<float> w = p.net->read_param(lp.name);
      int checked = 0, agreed = 0;
      std::string misses;
      for (size_t k = 0; k < w.size() && checked < 6; k += std::max<size_t>(1, w.size() / 6)) {
        const float eps = lp.is_bias ? 1e-3f : 3e-3f;
        std::vector<float> v = w;
        v[k] = w[k] + eps;
        p.net->write_param(lp.name, v);
        double plus = p.net->forward(b.images.view(), b.labels.data(), ctx);
        v[k] = w[k] - eps;
        p.net->write_param(lp.name, v);
        double minus = p.net->forward(b.images.view(), b.labels.data(), ctx);
        p.net->write_param(lp.name, w);
        double numeric = (plus - minus) / (2 * eps);
        ++checked;
        if (std::abs(numeric - grad[k]) <= 2e-3 + 0.05 * std::abs(grad[k])) {
          ++agreed;
        } else {
          misses += " [" + std::to_string(k) + "] numeric " + std::to_string(numeric) + " analytic " +
                    std::to_string(grad[k]);
        }
      }
      EXPECT_GE(agreed, checked - 1) << lp.name << " under " << placement_name(placement) << ":" << misses;
    }
  }
}

}  // namespace
}  // namespace alexnet
