#include <gtest/gtest.h>

#include <stdexcept>

#include "core/tensor.h"
#include "layers/conv.h"
#include "testing.h"

namespace alexnet {
namespace {

using testing::BoundLayer;

const Stream kCpu;
Pass train_pass() {
  return Pass{kCpu};
}

TEST(Conv, KnownAnswerDifferenceKernel) {
  // w = [[1, 0], [0, -1]]: each output is x[i][j] - x[i+1][j+1] = -4, plus the bias 0.5.
  BoundLayer conv(make_conv({.in_channels = 1, .out_channels = 1, .kernel = 2}, Device::cpu()));
  conv.set_param(0, {1, 0, 0, -1});
  conv.set_param(1, {0.5f});
  Tensor x = Tensor::from_host({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor y = conv.forward(train_pass(), x);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(y.to_host(), (std::vector<float>{-3.5f, -3.5f, -3.5f, -3.5f}));
}

TEST(Conv, KnownAnswerStrideAndPadding) {
  // A 3x3 box filter, pad 1, stride 2 over 1..9: the four windows see the four 2x2 corners.
  BoundLayer conv(
      make_conv({.in_channels = 1, .out_channels = 1, .kernel = 3, .stride = 2, .pad = 1, .bias = false},
                Device::cpu()));
  conv.set_param(0, std::vector<float>(9, 1.0f));
  Tensor x = Tensor::from_host({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor y = conv.forward(train_pass(), x);
  EXPECT_EQ(y.to_host(), (std::vector<float>{12, 16, 24, 28}));
}

TEST(Conv, KnownAnswerBackward) {
  // One 2x2 output from the difference kernel; dy = 1 everywhere.
  BoundLayer conv(make_conv({.in_channels = 1, .out_channels = 1, .kernel = 2}, Device::cpu()));
  conv.set_param(0, {1, 0, 0, -1});
  Tensor x = Tensor::from_host({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor y = conv.forward(train_pass(), x);
  Tensor dy = Tensor::from_host({1, 1, 2, 2}, {1, 1, 1, 1});
  Tensor dx({1, 1, 3, 3});
  conv.layer->backward(train_pass(), x.view(), y.view(), dy.view(), dx.view());
  // dW[i][j] = sum of the 2x2 block of x starting at (i, j); db = 4.
  EXPECT_EQ(conv.grads[0].to_host(), (std::vector<float>{12, 16, 24, 28}));
  EXPECT_EQ(conv.grads[1].to_host(), (std::vector<float>{4}));
  // dx: +1 at each output's top-left source, -1 at each bottom-right source.
  EXPECT_EQ(dx.to_host(), (std::vector<float>{1, 1, 0, 1, 0, -1, 0, -1, -1}));
}

TEST(Conv, AlexNetOutputSizes) {
  EXPECT_EQ(conv_output_size(227, 11, 4, 0), 55);
  EXPECT_EQ(conv_output_size(27, 5, 1, 2), 27);
  EXPECT_EQ(conv_output_size(13, 3, 1, 1), 13);
  auto conv1 = make_conv({.in_channels = 3, .out_channels = 96, .kernel = 11, .stride = 4}, Device::cpu());
  EXPECT_EQ(conv1->output_shape({2, 3, 227, 227}), (Shape{2, 96, 55, 55}));
  EXPECT_EQ(conv1->forward_macs({1, 3, 227, 227}), 96LL * 55 * 55 * 3 * 11 * 11);
}

TEST(Conv, GroupedEqualsTwoHalfConvolutions) {
  ConvConfig grouped{.in_channels = 4, .out_channels = 6, .kernel = 3, .stride = 1, .pad = 1, .groups = 2};
  ConvConfig half{.in_channels = 2, .out_channels = 3, .kernel = 3, .stride = 1, .pad = 1};
  BoundLayer whole(make_conv(grouped, Device::cpu()));
  std::vector<float> w = whole.params[0].to_host(), b = whole.params[1].to_host();
  BoundLayer lower(make_conv(half, Device::cpu())), upper(make_conv(half, Device::cpu()));
  const size_t half_w = w.size() / 2;
  lower.set_param(0, {w.begin(), w.begin() + half_w});
  upper.set_param(0, {w.begin() + half_w, w.end()});
  lower.set_param(1, {b.begin(), b.begin() + 3});
  upper.set_param(1, {b.begin() + 3, b.end()});

  std::vector<float> xv = testing::uniform(2 * 4 * 5 * 5, 11);
  Tensor x = Tensor::from_host({2, 4, 5, 5}, xv);
  std::vector<float> y = whole.forward(train_pass(), x).to_host();
  for (int n = 0; n < 2; ++n) {
    for (int g = 0; g < 2; ++g) {
      auto begin = xv.begin() + (n * 4 + g * 2) * 25;
      Tensor xg = Tensor::from_host({1, 2, 5, 5}, {begin, begin + 50});
      std::vector<float> yg = (g == 0 ? lower : upper).forward(train_pass(), xg).to_host();
      std::vector<float> expected(y.begin() + (n * 6 + g * 3) * 25, y.begin() + (n * 6 + g * 3 + 3) * 25);
      EXPECT_TRUE(testing::all_close(yg, expected, 1e-6f, 1e-6f)) << "image " << n << " group " << g;
    }
  }
}

TEST(Conv, GradientsMatchFiniteDifferences) {
  BoundLayer conv(make_conv(
      {.in_channels = 4, .out_channels = 6, .kernel = 3, .stride = 2, .pad = 1, .groups = 2}, Device::cpu()));
  Tensor x = testing::random_tensor({2, 4, 7, 7}, 5);
  testing::check_gradients(conv, x, train_pass());
}

TEST(Conv, GradientsMatchFiniteDifferencesAtConv1Geometry) {
  // conv1's 11x11 stride 4 on a 23x23 crop: 4x4 outputs, with kernels that overlap.
  BoundLayer conv(make_conv({.in_channels = 3, .out_channels = 2, .kernel = 11, .stride = 4}, Device::cpu()),
                  3, 0.1f);
  Tensor x = testing::random_tensor({1, 3, 23, 23}, 6);
  testing::check_gradients(conv, x, train_pass());
}

TEST(Conv, AccumulateModeAddsToParameterGradients) {
  BoundLayer conv(make_conv({.in_channels = 2, .out_channels = 2, .kernel = 3, .pad = 1}, Device::cpu()));
  Tensor x = testing::random_tensor({2, 2, 4, 4}, 8);
  Tensor y = conv.forward(train_pass(), x);
  Tensor dy = testing::random_tensor(y.shape(), 9);
  conv.layer->backward(train_pass(), x.view(), y.view(), dy.view(), View{});
  std::vector<float> once = conv.grads[0].to_host();
  Pass accumulate = train_pass();
  accumulate.grad_mode = GradMode::kAccumulate;
  conv.layer->backward(accumulate, x.view(), y.view(), dy.view(), View{});
  std::vector<float> twice = conv.grads[0].to_host();
  for (float& v : once) v *= 2;
  EXPECT_TRUE(testing::all_close(twice, once, 1e-6f, 1e-6f));
}

TEST(Conv, RejectsInputsThatDoNotFit) {
  auto conv = make_conv({.in_channels = 3, .out_channels = 4, .kernel = 5}, Device::cpu());
  EXPECT_THROW(conv->output_shape({1, 2, 9, 9}), std::invalid_argument);  // wrong channels
  EXPECT_THROW(conv->output_shape({1, 3, 4, 4}), std::invalid_argument);  // kernel larger than image
  EXPECT_THROW(make_conv({.in_channels = 3, .out_channels = 4, .kernel = 3, .groups = 2}, Device::cpu()),
               std::invalid_argument);
}

}  // namespace
}  // namespace alexnet
