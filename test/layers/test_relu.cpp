#include <gtest/gtest.h>

#include "layers/relu.h"
#include "testing.h"

namespace alexnet {
namespace {

const Stream kCpu;

TEST(Relu, KnownAnswer) {
  testing::BoundLayer relu(make_relu(Device::cpu()));
  Tensor x = Tensor::from_host({1, 5}, {-2, -0.5f, 0, 0.5f, 3});
  Tensor y = relu.forward(Pass{kCpu}, x);
  EXPECT_EQ(y.to_host(), (std::vector<float>{0, 0, 0, 0.5f, 3}));
  Tensor dy = Tensor::from_host({1, 5}, {1, 2, 3, 4, 5});
  Tensor dx({1, 5});
  relu.layer->backward(Pass{kCpu}, x.view(), y.view(), dy.view(), dx.view());
  EXPECT_EQ(dx.to_host(), (std::vector<float>{0, 0, 0, 4, 5}));
}

TEST(Relu, GradientsMatchFiniteDifferencesAwayFromTheKink) {
  // Inputs are kept at least 0.05 from zero so that x +- eps never crosses the kink.
  std::vector<float> v = testing::uniform(2 * 3 * 4 * 4, 21);
  for (float& x : v) x = x < 0 ? x - 0.05f : x + 0.05f;
  Tensor x = Tensor::from_host({2, 3, 4, 4}, v);
  testing::BoundLayer relu(make_relu(Device::cpu()));
  testing::check_gradients(relu, x, Pass{kCpu});
}

TEST(Relu, WorksInPlace) {
  testing::BoundLayer relu(make_relu(Device::cpu()));
  Tensor x = Tensor::from_host({1, 3}, {-1, 2, -3});
  relu.layer->forward(Pass{kCpu}, x.view(), x.view());
  EXPECT_EQ(x.to_host(), (std::vector<float>{0, 2, 0}));
}

}  // namespace
}  // namespace alexnet
