// Shared test helpers: random tensors, a layer with its own parameter storage, closeness checks
// and the finite-difference gradient check every layer suite uses.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/errors.h"
#include "core/stream.h"
#include "core/tensor.h"
#include "layers/layer.h"

namespace alexnet::testing {

// The source tree the tests read their files from (experiments/*.toml): $ALEXNET_SOURCE_DIR when
// set, so that a test binary moved to another machine (the GPU bundle: run-gpu.sh exports it)
// finds the copies that travelled with it; else the tree it was built from.
inline std::string source_dir() {
  const char* moved = std::getenv("ALEXNET_SOURCE_DIR");
  return moved && *moved ? moved : ALEXNET_SOURCE_DIR;
}

// experiments/NAME.toml of the source tree.
inline std::string experiment_file(const std::string& name) {
  return source_dir() + "/experiments/" + name + ".toml";
}

// The message of the UserError that `f` throws, or "(no UserError)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no UserError)";
}

// Uniform in [lo, hi), reproducible from `seed`.
inline std::vector<float> uniform(int64_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

inline Tensor random_tensor(Shape shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  return Tensor::from_host(shape, uniform(shape.numel(), seed, lo, hi));
}

// A layer with parameters and gradients in tensors of its own, bound at construction.
struct BoundLayer {
  std::unique_ptr<Layer> layer;
  std::vector<Tensor> params;
  std::vector<Tensor> grads;

  explicit BoundLayer(std::unique_ptr<Layer> l, uint64_t seed = 7, float scale = 0.5f) : layer(std::move(l)) {
    std::vector<View> p, g;
    for (const ParamSpec& spec : layer->param_specs()) {
      params.push_back(random_tensor(spec.shape, seed++, -scale, scale));
      grads.push_back(Tensor::zeros(spec.shape));
      p.push_back(params.back().view());
      g.push_back(grads.back().view());
    }
    layer->bind(std::move(p), std::move(g));
  }
  void set_param(int i, const std::vector<float>& values) {
    params[i] = Tensor::from_host(params[i].shape(), values);
    rebind();
  }
  void rebind() {
    std::vector<View> p, g;
    for (size_t i = 0; i < params.size(); ++i) {
      p.push_back(params[i].view());
      g.push_back(grads[i].view());
    }
    layer->bind(std::move(p), std::move(g));
  }
  Tensor forward(const Pass& pass, const Tensor& x) {
    Tensor y(layer->output_shape(x.shape()));
    layer->forward(pass, x.view(), y.view());
    return y;
  }
};

// |a - b| <= atol + rtol * |b| elementwise, with the first failures reported by index.
inline ::testing::AssertionResult all_close(const std::vector<float>& a, const std::vector<float>& b,
                                            float atol, float rtol) {
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure() << "sizes differ: " << a.size() << " vs " << b.size();
  }
  int bad = 0;
  auto result = ::testing::AssertionSuccess();
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(std::abs(a[i] - b[i]) <= atol + rtol * std::abs(b[i]))) {
      if (bad++ == 0) result = ::testing::AssertionFailure();
      if (bad <= 5) result << "[" << i << "] " << a[i] << " vs " << b[i] << "; ";
    }
  }
  if (bad) result << bad << " of " << a.size() << " elements outside atol " << atol << " + rtol " << rtol;
  return result;
}

struct GradCheckOptions {
  // Central differences with step eps. For a function that is linear in the perturbed tensor
  // (conv and FC in x and in W) the difference is exact but for float rounding of the two
  // forwards: about sqrt(outputs) * 6e-8 * |y| per evaluation, divided by 2 eps, i.e. ~1e-4 here.
  // Smooth nonlinear layers add a truncation error of order eps^2 * f''' (~1e-4). The tolerances
  // below leave a margin of 10 over both, and still catch a wrong index or a missing term, which
  // errs by O(|grad|).
  float eps = 1e-2f;
  float atol = 2e-3f;
  float rtol = 1e-2f;
  int max_checks_per_tensor = 300;  // sampled evenly when a tensor has more elements
};

// Checks the layer's dx and every parameter gradient against central differences of
// L = sum(r * y) for a fixed random r, evaluated in double.
void check_gradients(BoundLayer& bound, Tensor& x, const Pass& pass, const GradCheckOptions& options = {});

// Whether a CUDA device can be used now. Tests that need one skip with the reason when there is
// honestly none (no CUDA build, no driver, no device: the reason then says "no CUDA device is
// visible", which gpu-bundle's run-gpu.sh looks for), and fail when the driver is there but the
// runtime cannot use it (e.g. a driver too old for this CUDA): a skip would hide that.
enum class GpuState { kUsable, kAbsent, kBroken };
GpuState gpu_state(std::string* why);

#define SKIP_WITHOUT_GPU()                                  \
  do {                                                      \
    std::string alexnet_why_;                               \
    switch (::alexnet::testing::gpu_state(&alexnet_why_)) { \
      case ::alexnet::testing::GpuState::kAbsent:           \
        GTEST_SKIP() << alexnet_why_;                       \
      case ::alexnet::testing::GpuState::kBroken:           \
        GTEST_FAIL() << alexnet_why_;                       \
      case ::alexnet::testing::GpuState::kUsable:           \
        break;                                              \
    }                                                       \
  } while (0)

}  // namespace alexnet::testing
