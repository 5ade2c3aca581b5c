// Helpers for the GPU suites: run one layer on the CPU reference and on cuda:0 from the same
// parameters and inputs, and compare everything it produces.
#pragma once

#include <functional>

#include "testing.h"

namespace alexnet::testing {

// |a - b| <= rtol * (|b| + 1e-2 * max|b|): relative, with a floor scaled to the tensor so that
// elements that cancel to ~0 need not match relatively.
inline ::testing::AssertionResult gpu_agrees(const std::vector<float>& gpu, const std::vector<float>& cpu,
                                             float rtol) {
  float scale = 0;
  for (float v : cpu) scale = std::max(scale, std::abs(v));
  return all_close(gpu, cpu, rtol * 1e-2f * scale, rtol);
}

// The same layer on two devices, with the same parameters.
struct LayerOnTwoDevices {
  BoundLayer cpu;
  std::unique_ptr<Layer> gpu;
  std::vector<Tensor> gpu_params, gpu_grads;

  LayerOnTwoDevices(const std::function<std::unique_ptr<Layer>(Device)>& make, uint64_t seed = 7)
      : cpu(make(Device::cpu()), seed), gpu(make(Device::cuda(0))) {
    std::vector<View> p, g;
    for (size_t i = 0; i < cpu.params.size(); ++i) {
      gpu_params.push_back(
          Tensor::from_host(cpu.params[i].shape(), cpu.params[i].to_host(), Device::cuda(0)));
      gpu_grads.push_back(Tensor::zeros(cpu.params[i].shape(), Device::cuda(0)));
      p.push_back(gpu_params.back().view());
      g.push_back(gpu_grads.back().view());
    }
    gpu->bind(std::move(p), std::move(g));
  }
};

// The cuDNN algorithms a GPU layer ran, for a failure's message ("" for layers without a choice).
inline std::string algorithms_of(const Layer& layer) {
  std::string out;
  for (const AlgorithmChoice& c : layer.algorithm_choices()) {
    out += " [cuDNN algorithms for input " + c.input.str() + ", " + c.chosen_by + ": forward " + c.forward +
           ", backward-data " + c.backward_data + ", backward-filter " + c.backward_filter + "]";
  }
  return out;
}

// Forward and backward of `layers` on both devices from one random x and dy; compares y, dx and
// every parameter gradient within rtol. A failure names the cuDNN algorithms that ran.
inline void expect_gpu_matches_cpu(LayerOnTwoDevices& layers, const Shape& x_shape, float rtol,
                                   bool training = true, float x_lo = -1.0f, float x_hi = 1.0f) {
  const Stream cpu_stream;
  const Stream gpu_stream(Device::cuda(0));
  Pass cpu_pass{cpu_stream, training, 11, 3};
  Pass gpu_pass{gpu_stream, training, 11, 3};
  Tensor x = random_tensor(x_shape, 21, x_lo, x_hi);
  Tensor xg = Tensor::from_host(x_shape, x.to_host(), Device::cuda(0));
  Shape y_shape = layers.cpu.layer->output_shape(x_shape);
  Tensor y(y_shape), yg(y_shape, Device::cuda(0));
  layers.cpu.layer->forward(cpu_pass, x.view(), y.view());
  layers.gpu->forward(gpu_pass, xg.view(), yg.view());
  gpu_stream.synchronize();
  EXPECT_TRUE(gpu_agrees(yg.to_host(), y.to_host(), rtol)) << "forward y" << algorithms_of(*layers.gpu);

  Tensor dy = random_tensor(y_shape, 22);
  Tensor dyg = Tensor::from_host(y_shape, dy.to_host(), Device::cuda(0));
  Tensor dx(x_shape), dxg(x_shape, Device::cuda(0));
  layers.cpu.layer->backward(cpu_pass, x.view(), y.view(), dy.view(), dx.view());
  layers.gpu->backward(gpu_pass, xg.view(), yg.view(), dyg.view(), dxg.view());
  gpu_stream.synchronize();
  EXPECT_TRUE(gpu_agrees(dxg.to_host(), dx.to_host(), rtol)) << "backward dx" << algorithms_of(*layers.gpu);
  for (size_t i = 0; i < layers.cpu.grads.size(); ++i) {
    EXPECT_TRUE(gpu_agrees(layers.gpu_grads[i].to_host(), layers.cpu.grads[i].to_host(), rtol))
        << "gradient of parameter " << i << algorithms_of(*layers.gpu);
  }
}

}  // namespace alexnet::testing
