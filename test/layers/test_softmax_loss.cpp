#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "layers/softmax_loss.h"
#include "testing.h"
#include "train/evaluate.h"

namespace alexnet {
namespace {

const Stream kCpu;

Pass with_labels(const std::vector<int32_t>& labels) {
  Pass p{kCpu};
  p.labels = labels.data();
  return p;
}

TEST(SoftmaxLoss, KnownAnswer) {
  // Logits (0, ln 3) give probabilities (1/4, 3/4); label 1 costs -ln(3/4), label 0 costs ln 4.
  auto loss = make_softmax_loss(Device::cpu());
  std::vector<int32_t> labels = {1, 0};
  Tensor x = Tensor::from_host({2, 2}, {0, std::log(3.0f), 0, std::log(3.0f)});
  Tensor y({2, 2});
  loss->forward(with_labels(labels), x.view(), y.view());
  EXPECT_TRUE(testing::all_close(y.to_host(), {0.25f, 0.75f, 0.25f, 0.75f}, 1e-7f, 1e-6f));
  EXPECT_NEAR(loss->loss(), (-std::log(0.75) + std::log(4.0)) / 2, 1e-6);

  Tensor dx({2, 2});
  loss->backward(with_labels(labels), x.view(), y.view(), ConstView{}, dx.view());
  // (p - onehot) / N
  EXPECT_TRUE(testing::all_close(dx.to_host(), {0.125f, -0.125f, -0.375f, 0.375f}, 1e-7f, 1e-6f));
}

TEST(SoftmaxLoss, StaysFiniteForLargeLogits) {
  auto loss = make_softmax_loss(Device::cpu());
  std::vector<int32_t> labels = {1};
  Tensor x = Tensor::from_host({1, 2}, {1000, 0});
  Tensor y({1, 2});
  loss->forward(with_labels(labels), x.view(), y.view());
  EXPECT_NEAR(loss->loss(), 1000.0, 1e-3);
  EXPECT_EQ(y.to_host()[0], 1.0f);
}

TEST(SoftmaxLoss, GradientMatchesFiniteDifferencesOfTheLoss) {
  auto loss = make_softmax_loss(Device::cpu());
  std::vector<int32_t> labels = {3, 0, 9};
  std::vector<float> v = testing::uniform(3 * 10, 81, -3.0f, 3.0f);
  Tensor x = Tensor::from_host({3, 10}, v), y({3, 10}), dx({3, 10});
  loss->forward(with_labels(labels), x.view(), y.view());
  loss->backward(with_labels(labels), x.view(), y.view(), ConstView{}, dx.view());
  std::vector<float> analytic = dx.to_host();
  const float eps = 1e-2f;
  for (int i = 0; i < 30; ++i) {
    float saved = x.data()[i];
    x.data()[i] = saved + eps;
    loss->forward(with_labels(labels), x.view(), y.view());
    double plus = loss->loss();
    x.data()[i] = saved - eps;
    loss->forward(with_labels(labels), x.view(), y.view());
    double minus = loss->loss();
    x.data()[i] = saved;
    EXPECT_NEAR((plus - minus) / (2 * eps), analytic[i], 1e-4 + 1e-2 * std::abs(analytic[i]))
        << "logit " << i;
  }
}

TEST(SoftmaxLoss, ALabelOutsideTheClassesNamesTheItem) {
  auto loss = make_softmax_loss(Device::cpu());
  std::vector<int32_t> labels = {0, 10};
  Tensor x({2, 10}), y({2, 10});
  x.zero();
  try {
    loss->forward(with_labels(labels), x.view(), y.view());
    ADD_FAILURE() << "accepted label 10 of 10 classes";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("label 10 of item 1"), std::string::npos) << e.what();
  }
}

// The errors that come with the loss rank classes as evaluation's top_k does, ties included (the
// probabilities below are quantised to eighths, so many are equal).
TEST(SoftmaxLoss, ErrorsAgreeWithTopKIncludingTies) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> eighths(0, 8);
  for (int classes : {1, 3, 5, 6, 10}) {
    for (int trial = 0; trial < 400; ++trial) {
      std::vector<float> p(classes);
      for (float& v : p) v = static_cast<float>(eighths(rng)) / 8;
      const int32_t label = static_cast<int32_t>(rng() % classes);
      const std::vector<int32_t> best = top_k(p.data(), classes, 5);
      const ItemErrors e = softmax_item_errors(p.data(), label, classes);
      EXPECT_EQ(e.top1, best[0] != label) << classes << " classes, trial " << trial;
      EXPECT_EQ(e.top5, std::find(best.begin(), best.end(), label) == best.end())
          << classes << " classes, trial " << trial;
    }
  }
}

TEST(SoftmaxLoss, SummaryCountsTheBatchsErrors) {
  // Seven classes; logits rank class c at 7 - c. Labels 0 (top 1), 3 (4th: a top-1 miss only) and
  // 6 (7th: both missed).
  auto loss = make_softmax_loss(Device::cpu());
  std::vector<float> logits;
  for (int item = 0; item < 3; ++item)
    for (int c = 0; c < 7; ++c) logits.push_back(static_cast<float>(7 - c));
  std::vector<int32_t> labels = {0, 3, 6};
  Tensor x = Tensor::from_host({3, 7}, logits), y({3, 7});
  loss->forward(with_labels(labels), x.view(), y.view());
  const LossSummary s = loss->summary();
  EXPECT_EQ(s.items, 3);
  EXPECT_EQ(s.top1_errors, 2);
  EXPECT_EQ(s.top5_errors, 1);
  EXPECT_DOUBLE_EQ(s.loss, loss->loss());
}

}  // namespace
}  // namespace alexnet
