// Every CUDA layer against its CPU reference: same parameters, same x and dy, forward and
// backward within tolerance. FP32 results differ from the CPU's only in summation order, so
// rtol 1e-3 (about 10^4 float roundings of margin) is ample and still catches a wrong index or
// a missing term, which err by O(1). TF32 has its own bound, derived where it is tested.
// Convolutions pin their algorithms: the equality tests take cuDNN's heuristic (deterministic)
// choice, never a timed one that could differ run to run, and EveryConvAlgorithm checks each
// algorithm cuDNN offers in turn, FFT and Winograd with their own, looser tolerance. A failure
// names the algorithms that ran.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/device_ops.h"
#include "gpu_testing.h"
#include "layers/conv.h"
#include "layers/dropout.h"
#include "layers/fc.h"
#include "layers/lrn.h"
#include "layers/pool.h"
#include "layers/relu.h"
#include "layers/softmax_loss.h"
#include "layers/tanh.h"
#include "train/sgd.h"

namespace alexnet {
namespace {

using testing::algorithms_of;
using testing::expect_gpu_matches_cpu;
using testing::gpu_agrees;
using testing::LayerOnTwoDevices;

constexpr float kFp32 = 1e-3f;
const BackendOptions kHeuristic{.deterministic = true};  // cuDNN's heuristic choice: no timing

TEST(GpuLayers, ConvLikeConv1MatchesCpu) {
  SKIP_WITHOUT_GPU();
  ConvConfig c{.in_channels = 3, .out_channels = 8, .kernel = 11, .stride = 4, .pad = 0};
  LayerOnTwoDevices layers([&](Device d) { return make_conv(c, d, kHeuristic); });
  expect_gpu_matches_cpu(layers, {4, 3, 35, 35}, kFp32);
}

TEST(GpuLayers, GroupedPaddedConvMatchesCpu) {
  SKIP_WITHOUT_GPU();
  ConvConfig c{.in_channels = 8, .out_channels = 12, .kernel = 5, .stride = 1, .pad = 2, .groups = 2};
  LayerOnTwoDevices layers([&](Device d) { return make_conv(c, d, kHeuristic); });
  expect_gpu_matches_cpu(layers, {3, 8, 13, 13}, kFp32);
}

// FFT and Winograd transform the operands, and their rounding grows with the transform's length
// and the operands' range, not with the reduction length alone: 1e-2 of each value plus 1e-4 of
// the largest still flags a wrong index or a missing term (errors of O(1) relative).
constexpr float kTransformed = 1e-2f;
bool is_transform(const std::string& name) {
  return name.find("fft") != std::string::npos || name.find("winograd") != std::string::npos;
}

// Each cuDNN algorithm in turn, for the shapes of conv1 (11x11/4), conv2 (5x5, groups 2) and
// conv3-5 (3x3, pad 1): forward against the CPU's y, backward-data against dx, backward-filter
// against dW. An algorithm cuDNN does not offer for a shape is counted and named, not failed.
TEST(GpuLayers, EveryConvAlgorithmMatchesCpu) {
  SKIP_WITHOUT_GPU();
  struct Case {
    ConvConfig c;
    Shape x;
  };
  const std::vector<Case> cases = {
      {{.in_channels = 3, .out_channels = 8, .kernel = 11, .stride = 4}, {2, 3, 35, 35}},
      {{.in_channels = 8, .out_channels = 12, .kernel = 5, .pad = 2, .groups = 2}, {2, 8, 13, 13}},
      {{.in_channels = 16, .out_channels = 16, .kernel = 3, .pad = 1}, {2, 16, 13, 13}},
  };
  enum Direction { kForward, kData, kFilter };
  const char* direction_names[] = {"forward", "backward-data", "backward-filter"};
  const int algorithm_counts[] = {8, 6, 6};  // cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t
  for (const Case& k : cases) {
    // The CPU's answers, once per shape.
    LayerOnTwoDevices reference([&](Device d) { return make_conv(k.c, d, kHeuristic); });
    const Stream cs;
    Pass cpu_pass{cs};
    const Shape y_shape = reference.cpu.layer->output_shape(k.x);
    Tensor x = testing::random_tensor(k.x, 21), dy = testing::random_tensor(y_shape, 22);
    Tensor y(y_shape), dx(k.x);
    reference.cpu.layer->forward(cpu_pass, x.view(), y.view());
    reference.cpu.layer->backward(cpu_pass, x.view(), y.view(), dy.view(), dx.view());
    const std::vector<float> want_y = y.to_host(), want_dx = dx.to_host(),
                             want_dw = reference.cpu.grads[0].to_host();
    for (int direction : {kForward, kData, kFilter}) {
      int tested = 0;
      std::string unavailable;
      for (int algo = 0; algo < algorithm_counts[direction]; ++algo) {
        BackendOptions b = kHeuristic;
        (direction == kForward ? b.conv_forward_algo
         : direction == kData  ? b.conv_data_algo
                               : b.conv_filter_algo) = algo;
        LayerOnTwoDevices layers([&](Device d) { return make_conv(k.c, d, d.is_cuda() ? b : kHeuristic); });
        const Stream gs(Device::cuda(0));
        Pass gpu_pass{gs};
        Tensor xg = Tensor::from_host(k.x, x.to_host(), Device::cuda(0));
        Tensor dyg = Tensor::from_host(y_shape, dy.to_host(), Device::cuda(0));
        Tensor yg(y_shape, Device::cuda(0)), dxg(k.x, Device::cuda(0));
        try {
          layers.gpu->forward(gpu_pass, xg.view(), yg.view());
          layers.gpu->backward(gpu_pass, xg.view(), yg.view(), dyg.view(), dxg.view());
          gs.synchronize();
        } catch (const AlgorithmUnavailable&) {
          unavailable += " " + std::to_string(algo);
          continue;
        }
        ++tested;
        const AlgorithmChoice ran = layers.gpu->algorithm_choices().at(0);
        const std::string name = direction == kForward ? ran.forward
                                 : direction == kData  ? ran.backward_data
                                                       : ran.backward_filter;
        const float rtol = is_transform(name) ? kTransformed : kFp32;
        const std::vector<float>& want = direction == kForward ? want_y
                                         : direction == kData  ? want_dx
                                                               : want_dw;
        const std::vector<float> got = direction == kForward ? yg.to_host()
                                       : direction == kData  ? dxg.to_host()
                                                             : layers.gpu_grads[0].to_host();
        EXPECT_TRUE(gpu_agrees(got, want, rtol))
            << direction_names[direction] << " algorithm " << name << " (rtol " << rtol << ") for "
            << k.c.kernel << "x" << k.c.kernel << " input " << k.x.str() << algorithms_of(*layers.gpu);
      }
      std::printf("conv %dx%d input %s: %d %s algorithm(s) checked; not offered:%s\n", k.c.kernel, k.c.kernel,
                  k.x.str().c_str(), tested, direction_names[direction],
                  unavailable.empty() ? " none" : unavailable.c_str());
      EXPECT_GT(tested, 0) << direction_names[direction] << ": cuDNN offered none";
    }
  }
}

float max_abs(const std::vector<float>& v) {
  float m = 0;
  for (float x : v) m = std::max(m, std::abs(x));
  return m;
}

// The largest error a sum of `terms` products a * b (|a| <= max_a, |b| <= max_b) can have when
// the GPU rounds both inputs of each product to TF32 and both sides accumulate in FP32.
//
// TF32 keeps 10 of FP32's 23 mantissa bits: rounded to nearest, an input's relative error is at
// most the unit roundoff u = 2^-11, and a tensor core fed FP32 may truncate instead, 2u = 2^-10,
// which we allow. A product of two such inputs is then off by at most (2 * 2u + (2u)^2) |a b|,
// and each side's FP32 sum of `terms` products by at most terms * 2^-24 of sum |a b|; sum |a b|
// is at most terms * max_a * max_b. The bound holds for any data, so the test cannot flake, yet
// at these sizes it stays far below the O(|y|) error of a wrong index or a missing term.
float tf32_error_bound(int64_t terms, float max_a, float max_b) {
  const double u = std::ldexp(1.0, -11), two_u = 2 * u;
  const double per_product = 2 * two_u + two_u * two_u;
  const double accumulation = 2 * static_cast<double>(terms) * std::ldexp(1.0, -24);
  return static_cast<float>((per_product + accumulation) * static_cast<double>(terms) * max_a * max_b);
}

::testing::AssertionResult within(const std::vector<float>& gpu, const std::vector<float>& cpu, float bound) {
  for (size_t i = 0; i < gpu.size(); ++i) {
    if (!(std::abs(gpu[i] - cpu[i]) <= bound)) {
      return ::testing::AssertionFailure()
             << "element " << i << ": GPU " << gpu[i] << ", CPU " << cpu[i] << ", bound " << bound;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(GpuLayers, ConvInTf32IsCloseToCpu) {
  SKIP_WITHOUT_GPU();
  ConvConfig c{.in_channels = 16, .out_channels = 16, .kernel = 3, .stride = 1, .pad = 1};
  BackendOptions tf32{.math = MathMode::kTf32, .deterministic = true};
  LayerOnTwoDevices layers([&](Device d) { return make_conv(c, d, tf32); });
  const Shape x_shape = {4, 16, 13, 13}, y_shape = {4, 16, 13, 13};
  const Stream cs, gs(Device::cuda(0));
  Pass cpu_pass{cs, true, 11, 3}, gpu_pass{gs, true, 11, 3};
  Tensor x = testing::random_tensor(x_shape, 21), dy = testing::random_tensor(y_shape, 22);
  Tensor xg = Tensor::from_host(x_shape, x.to_host(), Device::cuda(0));
  Tensor dyg = Tensor::from_host(y_shape, dy.to_host(), Device::cuda(0));
  Tensor y(y_shape), yg(y_shape, Device::cuda(0)), dx(x_shape), dxg(x_shape, Device::cuda(0));
  layers.cpu.layer->forward(cpu_pass, x.view(), y.view());
  layers.gpu->forward(gpu_pass, xg.view(), yg.view());
  layers.cpu.layer->backward(cpu_pass, x.view(), y.view(), dy.view(), dx.view());
  layers.gpu->backward(gpu_pass, xg.view(), yg.view(), dyg.view(), dxg.view());
  gs.synchronize();

  // The reduction lengths: y and dx sum over (in_channels / groups) x k x k and
  // (out_channels / groups) x k x k taps, dW over the batch's N x H x W output positions.
  const int64_t taps = c.kernel * c.kernel, positions = y_shape[0] * y_shape[2] * y_shape[3];
  const float mx = max_abs(x.to_host()), mw = max_abs(layers.cpu.params[0].to_host()),
              mdy = max_abs(dy.to_host());
  EXPECT_TRUE(within(yg.to_host(), y.to_host(), tf32_error_bound(c.in_channels * taps, mx, mw)))
      << "forward y";
  EXPECT_TRUE(within(dxg.to_host(), dx.to_host(), tf32_error_bound(c.out_channels * taps, mdy, mw)))
      << "backward dx";
  EXPECT_TRUE(within(layers.gpu_grads[0].to_host(), layers.cpu.grads[0].to_host(),
                     tf32_error_bound(positions, mx, mdy)))
      << "weight gradient";
  // The bias gradient sums dy in FP32 on both sides: no TF32 rounding, only the accumulation.
  EXPECT_TRUE(gpu_agrees(layers.gpu_grads[1].to_host(), layers.cpu.grads[1].to_host(), kFp32))
      << "bias gradient";
}

TEST(GpuLayers, DeterministicConvRepeatsBitForBit) {
  SKIP_WITHOUT_GPU();
  ConvConfig c{.in_channels = 16, .out_channels = 32, .kernel = 3, .stride = 1, .pad = 1};
  BackendOptions deterministic{.deterministic = true};
  LayerOnTwoDevices layers([&](Device d) { return make_conv(c, d, deterministic); });
  const Stream s(Device::cuda(0));
  Pass pass{s};
  Tensor x = Tensor::from_host({8, 16, 13, 13}, testing::uniform(8 * 16 * 13 * 13, 5), Device::cuda(0));
  Tensor y({8, 32, 13, 13}, Device::cuda(0)), dx(x.shape(), Device::cuda(0));
  Tensor dy = Tensor::from_host(y.shape(), testing::uniform(y.numel(), 6), Device::cuda(0));
  std::vector<std::vector<float>> runs;
  for (int k = 0; k < 2; ++k) {
    layers.gpu->forward(pass, x.view(), y.view());
    layers.gpu->backward(pass, x.view(), y.view(), dy.view(), dx.view());
    s.synchronize();
    std::vector<float> all = layers.gpu_grads[0].to_host();
    for (float v : dx.to_host()) all.push_back(v);
    runs.push_back(all);
  }
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(GpuLayers, FcMatchesCpuAndAccumulates) {
  SKIP_WITHOUT_GPU();
  FcConfig c{.in_features = 2 * 3 * 3, .out_features = 40};
  LayerOnTwoDevices layers([&](Device d) { return make_fc(c, d); });
  expect_gpu_matches_cpu(layers, {5, 2, 3, 3}, kFp32);  // a 4-D input flattens as pool5 does

  // Accumulate mode adds to the gradients already there, on both devices alike.
  const Stream cs, gs(Device::cuda(0));
  Pass cpu_pass{cs}, gpu_pass{gs};
  cpu_pass.grad_mode = gpu_pass.grad_mode = GradMode::kAccumulate;
  Tensor x = testing::random_tensor({5, 18}, 31), dy = testing::random_tensor({5, 40}, 32);
  Tensor xg = Tensor::from_host(x.shape(), x.to_host(), Device::cuda(0));
  Tensor dyg = Tensor::from_host(dy.shape(), dy.to_host(), Device::cuda(0));
  Tensor y({5, 40}), yg({5, 40}, Device::cuda(0));
  layers.cpu.layer->backward(cpu_pass, x.view(), y.view(), dy.view(), View{});
  layers.gpu->backward(gpu_pass, xg.view(), yg.view(), dyg.view(), View{});
  gs.synchronize();
  for (int i = 0; i < 2; ++i)
    EXPECT_TRUE(gpu_agrees(layers.gpu_grads[i].to_host(), layers.cpu.grads[i].to_host(), kFp32)) << i;
}

TEST(GpuLayers, ReluMatchesCpu) {
  SKIP_WITHOUT_GPU();
  LayerOnTwoDevices layers([](Device d) { return make_relu(d); });
  expect_gpu_matches_cpu(layers, {3, 4, 5, 5}, kFp32);
}

TEST(GpuLayers, TanhMatchesCpu) {
  SKIP_WITHOUT_GPU();
  LayerOnTwoDevices layers([](Device d) { return make_tanh(d); });
  expect_gpu_matches_cpu(layers, {3, 4, 5, 5}, kFp32);
}

TEST(GpuLayers, LrnInThePapersConventionMatchesCpu) {
  SKIP_WITHOUT_GPU();
  // Inputs of a few units, where the paper's alpha against alpha/n makes a visible difference.
  for (int groups : {1, 2}) {
    LrnConfig c{.groups = groups};
    LayerOnTwoDevices layers([&](Device d) { return make_lrn(c, d); });
    expect_gpu_matches_cpu(layers, {2, 12, 5, 5}, kFp32, true, -30.0f, 30.0f);
  }
}

TEST(GpuLayers, OverlappingMaxPoolMatchesCpu) {
  SKIP_WITHOUT_GPU();
  PoolConfig c{.kernel = 3, .stride = 2};
  LayerOnTwoDevices layers([&](Device d) { return make_max_pool(c, d); });
  expect_gpu_matches_cpu(layers, {2, 3, 13, 13}, kFp32);  // random inputs: no ties
}

TEST(GpuLayers, DropoutDrawsTheCpusMasksBitForBit) {
  SKIP_WITHOUT_GPU();
  // A tower's slice of a split layer: features [64, 96) of 128.
  DropoutConfig c{.p = 0.5f, .layer_id = 6, .logical_width = 128, .feature_offset = 64};
  LayerOnTwoDevices layers([&](Device d) { return make_dropout(c, d); });
  const Stream cs, gs(Device::cuda(0));
  Pass cpu_pass{cs, true, 99, 12}, gpu_pass{gs, true, 99, 12};
  Tensor x = testing::random_tensor({7, 32}, 4, 0.5f, 1.0f);
  Tensor xg = Tensor::from_host(x.shape(), x.to_host(), Device::cuda(0));
  Tensor y(x.shape()), yg(x.shape(), Device::cuda(0)), dx(x.shape()), dxg(x.shape(), Device::cuda(0));
  layers.cpu.layer->forward(cpu_pass, x.view(), y.view());
  layers.gpu->forward(gpu_pass, xg.view(), yg.view());
  layers.cpu.layer->backward(cpu_pass, x.view(), y.view(), x.view(), dx.view());
  layers.gpu->backward(gpu_pass, xg.view(), yg.view(), xg.view(), dxg.view());
  gs.synchronize();
  EXPECT_EQ(yg.to_host(), y.to_host());
  EXPECT_EQ(dxg.to_host(), dx.to_host());
  int dropped = 0;
  for (float v : y.to_host()) dropped += v == 0.0f;
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, 7 * 32);
}

TEST(GpuLayers, SoftmaxLossMatchesCpu) {
  SKIP_WITHOUT_GPU();
  auto cpu = make_softmax_loss(Device::cpu());
  auto gpu = make_softmax_loss(Device::cuda(0));
  const std::vector<int32_t> labels = {3, 0, 9, 4, 4};
  const Stream cs, gs(Device::cuda(0));
  DeviceBuffer device_labels(sizeof(int32_t) * labels.size(), Device::cuda(0));
  copy_bytes_async(device_labels.data(), Device::cuda(0), labels.data(), Device::cpu(),
                   sizeof(int32_t) * labels.size(), gs);
  Pass cpu_pass{cs, true, 0, 0, labels.data()},
      gpu_pass{gs, true, 0, 0, static_cast<int32_t*>(device_labels.data())};
  Tensor x = testing::random_tensor({5, 10}, 8, -20.0f, 20.0f);
  Tensor xg = Tensor::from_host(x.shape(), x.to_host(), Device::cuda(0));
  Tensor y(x.shape()), yg(x.shape(), Device::cuda(0)), dx(x.shape()), dxg(x.shape(), Device::cuda(0));
  cpu->forward(cpu_pass, x.view(), y.view());
  gpu->forward(gpu_pass, xg.view(), yg.view());
  EXPECT_NEAR(gpu->loss(), cpu->loss(), 1e-5 * std::abs(cpu->loss()));
  // The errors come back with the loss, counted by the same function on the device.
  EXPECT_EQ(gpu->summary().top1_errors, cpu->summary().top1_errors);
  EXPECT_EQ(gpu->summary().top5_errors, cpu->summary().top5_errors);
  cpu->backward(cpu_pass, x.view(), y.view(), ConstView{}, dx.view());
  gpu->backward(gpu_pass, xg.view(), yg.view(), ConstView{}, dxg.view());
  gs.synchronize();
  EXPECT_TRUE(gpu_agrees(yg.to_host(), y.to_host(), kFp32));
  EXPECT_TRUE(gpu_agrees(dxg.to_host(), dx.to_host(), kFp32));
}

TEST(GpuLayers, SgdUpdateMatchesCpu) {
  SKIP_WITHOUT_GPU();
  const int64_t n = 10000;
  Tensor w = testing::random_tensor({n}, 1), g = testing::random_tensor({n}, 2),
         v = testing::random_tensor({n}, 3);
  Tensor wg = Tensor::from_host({n}, w.to_host(), Device::cuda(0));
  Tensor gg = Tensor::from_host({n}, g.to_host(), Device::cuda(0));
  Tensor vg = Tensor::from_host({n}, v.to_host(), Device::cuda(0));
  const Stream gs(Device::cuda(0));
  SgdConfig c{.learning_rate = 0.1f};
  sgd_update(w.view(), g.view(), v.view(), c);
  sgd_update(wg.view(), gg.view(), vg.view(), c, gs);
  gs.synchronize();
  EXPECT_TRUE(testing::all_close(wg.to_host(), w.to_host(), 1e-6f, 1e-5f));
  EXPECT_TRUE(testing::all_close(vg.to_host(), v.to_host(), 1e-6f, 1e-5f));
}

}  // namespace
}  // namespace alexnet
