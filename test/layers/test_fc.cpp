#include <gtest/gtest.h>

#include <limits>

#include "layers/fc.h"
#include "testing.h"

namespace alexnet {
namespace {

const Stream kCpu;

TEST(Fc, KnownAnswer) {
  testing::BoundLayer fc(make_fc({.in_features = 2, .out_features = 3}, Device::cpu()));
  fc.set_param(0, {1, 2, 3, 4, 5, 6});  // W [3, 2]
  fc.set_param(1, {0.5f, -1, 0});
  Tensor x = Tensor::from_host({1, 2}, {1, 2});
  Tensor y = fc.forward(Pass{kCpu}, x);
  EXPECT_EQ(y.to_host(), (std::vector<float>{5.5f, 10, 17}));

  Tensor dy = Tensor::from_host({1, 3}, {1, 0, -1});
  Tensor dx({1, 2});
  fc.layer->backward(Pass{kCpu}, x.view(), y.view(), dy.view(), dx.view());
  EXPECT_EQ(dx.to_host(), (std::vector<float>{1 - 5, 2 - 6}));                 // dy W
  EXPECT_EQ(fc.grads[0].to_host(), (std::vector<float>{1, 2, 0, 0, -1, -2}));  // dy^T x
  EXPECT_EQ(fc.grads[1].to_host(), (std::vector<float>{1, 0, -1}));
}

// Overwrite (the default) must not read the gradient buffers: what a previous step or a fresh
// allocation left there, Inf and NaN included, cannot leak in as 0 x Inf = NaN. Accumulate adds.
TEST(Fc, OverwriteIgnoresWhatTheGradientsHeldAndAccumulateAdds) {
  testing::BoundLayer fc(make_fc({.in_features = 2, .out_features = 3}, Device::cpu()));
  fc.set_param(0, {1, 2, 3, 4, 5, 6});
  fc.set_param(1, {0.5f, -1, 0});
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  fc.grads[0] = Tensor::from_host({3, 2}, {nan, inf, -inf, nan, inf, nan});
  fc.grads[1] = Tensor::from_host({3}, {inf, nan, -inf});
  fc.rebind();
  Tensor x = Tensor::from_host({1, 2}, {1, 2}), dy = Tensor::from_host({1, 3}, {1, 0, -1});
  Tensor y = fc.forward(Pass{kCpu}, x), dx({1, 2});
  fc.layer->backward(Pass{kCpu}, x.view(), y.view(), dy.view(), dx.view());
  EXPECT_EQ(fc.grads[0].to_host(), (std::vector<float>{1, 2, 0, 0, -1, -2}));
  EXPECT_EQ(fc.grads[1].to_host(), (std::vector<float>{1, 0, -1}));

  Pass accumulate{kCpu};
  accumulate.grad_mode = GradMode::kAccumulate;
  fc.layer->backward(accumulate, x.view(), y.view(), dy.view(), dx.view());
  EXPECT_EQ(fc.grads[0].to_host(), (std::vector<float>{2, 4, 0, 0, -2, -4}));
  EXPECT_EQ(fc.grads[1].to_host(), (std::vector<float>{2, 0, -2}));
}

TEST(Fc, FlattensNchwInChannelMajorOrder) {
  // Input [1, 2, 1, 2] = channels (a, b) of two pixels; W picks feature 2 = channel 1, pixel 0.
  testing::BoundLayer fc(make_fc({.in_features = 4, .out_features = 1, .bias = false}, Device::cpu()));
  fc.set_param(0, {0, 0, 1, 0});
  Tensor x = Tensor::from_host({1, 2, 1, 2}, {10, 11, 20, 21});
  EXPECT_EQ(fc.forward(Pass{kCpu}, x).to_host(), (std::vector<float>{20}));
}

TEST(Fc, GradientsMatchFiniteDifferences) {
  testing::BoundLayer fc(make_fc({.in_features = 12, .out_features = 5}, Device::cpu()));
  Tensor x = testing::random_tensor({3, 3, 2, 2}, 61);
  testing::check_gradients(fc, x, Pass{kCpu});
}

TEST(Fc, RejectsTheWrongFeatureCount) {
  auto fc = make_fc({.in_features = 12, .out_features = 5}, Device::cpu());
  EXPECT_THROW(fc->output_shape({3, 11}), std::invalid_argument);
}

}  // namespace
}  // namespace alexnet
