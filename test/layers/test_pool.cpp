#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>

#include "layers/pool.h"
#include "testing.h"

namespace alexnet {
namespace {

const Stream kCpu;

TEST(MaxPool, KnownAnswerOverlappingWindows) {
  // 3x3 windows, stride 2, on 5x5: the right-hand windows share column 2 and the 9 at (2, 4).
  testing::BoundLayer pool(make_max_pool({.kernel = 3, .stride = 2}, Device::cpu()));
  Tensor x = Tensor::from_host({1, 1, 5, 5}, {1, 9, 2, 0, 3,  //
                                              4, 0, 8, 7, 1,  //
                                              2, 6, 5, 3, 9,  //
                                              0, 1, 4, 2, 0,  //
                                              7, 3, 0, 8, 6});
  Tensor y = pool.forward(Pass{kCpu}, x);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(y.to_host(), (std::vector<float>{9, 9, 7, 9}));

  Tensor dy = Tensor::from_host({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor dx({1, 1, 5, 5});
  pool.layer->backward(Pass{kCpu}, x.view(), y.view(), dy.view(), dx.view());
  std::vector<float> expected(25, 0.0f);
  expected[1] = 1;       // (0, 1) won window (0, 0)
  expected[14] = 2 + 4;  // (2, 4) won windows (0, 1) and (1, 1): gradients add
  expected[20] = 3;      // (4, 0) won window (1, 0)
  EXPECT_EQ(dx.to_host(), expected);
}

TEST(MaxPool, VectorRowsPickTheSameWinnerAsTheScalarScanAmidTies) {
  // Values on a coarse grid, so that most windows hold ties: the first maximum in row-major order
  // must win in the vectorised rows (no padding, 4 or more outputs a row) as in a plain scan, and
  // backward must route each dy there. Widths 27 (13 outputs a row) and 13 (6, the paper's pool2
  // and pool5 sizes scaled), stride 2 and the odd stride 3.
  for (auto [size, stride] : {std::pair{27, 2}, std::pair{13, 2}, std::pair{15, 3}}) {
    const PoolConfig c{.kernel = 3, .stride = stride};
    testing::BoundLayer pool(make_max_pool(c, Device::cpu()));
    std::vector<float> v = testing::uniform(2 * 3 * size * size, 11);
    for (float& e : v) e = std::round(e * 2.0f);  // -2 .. 2
    Tensor x = Tensor::from_host({2, 3, size, size}, v);
    Tensor y = pool.forward(Pass{kCpu}, x);
    const int out = static_cast<int>(y.shape()[2]);
    Tensor dy = testing::random_tensor(y.shape(), 12);
    Tensor dx(x.shape());
    pool.layer->backward(Pass{kCpu}, x.view(), y.view(), dy.view(), dx.view());
    const std::vector<float> got_y = y.to_host(), got_dx = dx.to_host(), g = dy.to_host();
    std::vector<float> want_dx(v.size(), 0.0f);
    for (int p = 0; p < 6; ++p)
      for (int i = 0; i < out; ++i)
        for (int j = 0; j < out; ++j) {
          int best = (p * size + i * stride) * size + j * stride;
          for (int di = 0; di < 3; ++di)
            for (int dj = 0; dj < 3; ++dj) {
              int at = (p * size + i * stride + di) * size + j * stride + dj;
              if (v[at] > v[best]) best = at;
            }
          const int o = (p * out + i) * out + j;
          ASSERT_EQ(got_y[o], v[best]) << "size " << size << ", output " << o;
          want_dx[best] += g[o];
        }
    EXPECT_EQ(got_dx, want_dx) << "size " << size;
  }
}

TEST(MaxPool, FloorOutputSizesOfAlexNet) {
  auto pool = make_max_pool({.kernel = 3, .stride = 2}, Device::cpu());
  EXPECT_EQ(pool->output_shape({1, 96, 55, 55}), (Shape{1, 96, 27, 27}));
  EXPECT_EQ(pool->output_shape({1, 256, 27, 27}), (Shape{1, 256, 13, 13}));
  EXPECT_EQ(pool->output_shape({1, 256, 13, 13}), (Shape{1, 256, 6, 6}));
  EXPECT_EQ(pool->output_shape({1, 1, 4, 4}), (Shape{1, 1, 1, 1}));  // floor, not ceil (Caffe gives 2)
}

TEST(MaxPool, GradientsMatchFiniteDifferencesAwayFromTies) {
  // Distinct inputs 0.1 apart, shuffled: no x +- eps (eps = 0.01) changes which input wins.
  const int n = 2 * 3 * 7 * 7;
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 0.0f);
  std::shuffle(v.begin(), v.end(), std::mt19937(3));
  for (float& x : v) x *= 0.1f;
  Tensor x = Tensor::from_host({2, 3, 7, 7}, v);
  testing::BoundLayer pool(make_max_pool({.kernel = 3, .stride = 2}, Device::cpu()));
  testing::check_gradients(pool, x, Pass{kCpu});
}

TEST(MaxPool, PaddingNeverWins) {
  testing::BoundLayer pool(make_max_pool({.kernel = 3, .stride = 2, .pad = 1}, Device::cpu()));
  Tensor x = Tensor::from_host({1, 1, 2, 2}, {-4, -3, -2, -1});
  EXPECT_EQ(pool.forward(Pass{kCpu}, x).to_host(), (std::vector<float>{-1}));
}

}  // namespace
}  // namespace alexnet
