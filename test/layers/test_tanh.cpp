#include <gtest/gtest.h>

#include <cmath>

#include "layers/tanh.h"
#include "testing.h"

namespace alexnet {
namespace {

const Stream kCpu;

TEST(Tanh, KnownAnswer) {
  testing::BoundLayer tanh_layer(make_tanh(Device::cpu()));
  Tensor x = Tensor::from_host({1, 4}, {-2, 0, 0.5f, 3});
  Tensor y = tanh_layer.forward(Pass{kCpu}, x);
  std::vector<float> got = y.to_host();
  const float want[] = {std::tanh(-2.0f), 0.0f, std::tanh(0.5f), std::tanh(3.0f)};
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(got[i], want[i]) << i;
  // dx = dy * (1 - y^2): 1 at the origin, almost 0 where tanh saturates.
  Tensor dy = Tensor::from_host({1, 4}, {1, 1, 1, 1});
  Tensor dx({1, 4});
  tanh_layer.layer->backward(Pass{kCpu}, x.view(), y.view(), dy.view(), dx.view());
  std::vector<float> g = dx.to_host();
  EXPECT_FLOAT_EQ(g[1], 1.0f);
  EXPECT_NEAR(g[3], 1.0f - want[3] * want[3], 1e-7f);
  EXPECT_LT(g[3], 0.01f);
}

TEST(Tanh, GradientsMatchFiniteDifferences) {
  Tensor x = Tensor::from_host({2, 3, 4, 4}, testing::uniform(2 * 3 * 4 * 4, 31));
  testing::BoundLayer tanh_layer(make_tanh(Device::cpu()));
  testing::check_gradients(tanh_layer, x, Pass{kCpu});
}

TEST(Tanh, WorksInPlace) {
  testing::BoundLayer tanh_layer(make_tanh(Device::cpu()));
  Tensor x = Tensor::from_host({1, 2}, {-1, 2});
  tanh_layer.layer->forward(Pass{kCpu}, x.view(), x.view());
  std::vector<float> got = x.to_host();
  EXPECT_FLOAT_EQ(got[0], std::tanh(-1.0f));
  EXPECT_FLOAT_EQ(got[1], std::tanh(2.0f));
}

}  // namespace
}  // namespace alexnet
