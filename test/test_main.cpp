#include <glog/logging.h>
#include <gtest/gtest.h>

#include "core/blas.h"
#include "core/cuda_backend.h"
#include "core/errors.h"
#include "testing.h"

namespace alexnet::testing {

namespace {
double objective(BoundLayer& bound, const Tensor& x, const std::vector<float>& r, const Pass& pass) {
  Tensor y = bound.forward(pass, x);
  std::vector<float> v = y.to_host();
  double sum = 0;
  for (size_t i = 0; i < v.size(); ++i) sum += static_cast<double>(v[i]) * r[i];
  return sum;
}

void check_tensor(const char* name, float* values, int64_t n, const std::vector<float>& analytic,
                  const std::function<double()>& f, const GradCheckOptions& o) {
  int64_t stride = std::max<int64_t>(1, n / o.max_checks_per_tensor);
  int failures = 0;
  for (int64_t i = 0; i < n && failures < 5; i += stride) {
    float saved = values[i];
    values[i] = saved + o.eps;
    double plus = f();
    values[i] = saved - o.eps;
    double minus = f();
    values[i] = saved;
    double numeric = (plus - minus) / (2.0 * o.eps);
    double expected_tol = o.atol + o.rtol * std::abs(analytic[i]);
    if (std::abs(numeric - analytic[i]) > expected_tol) {
      ++failures;
      ADD_FAILURE() << name << "[" << i << "]: analytic " << analytic[i] << ", numeric " << numeric
                    << " (tolerance " << expected_tol << ")";
    }
  }
}
}  // namespace

void check_gradients(BoundLayer& bound, Tensor& x, const Pass& pass, const GradCheckOptions& o) {
  Shape y_shape = bound.layer->output_shape(x.shape());
  std::vector<float> r = uniform(y_shape.numel(), 1234);
  Tensor dy = Tensor::from_host(y_shape, r);
  Tensor y = bound.forward(pass, x);
  Tensor dx(x.shape());
  bound.layer->backward(pass, x.view(), y.view(), dy.view(), dx.view());
  std::vector<std::vector<float>> grads;
  for (Tensor& g : bound.grads) grads.push_back(g.to_host());

  auto f = [&] { return objective(bound, x, r, pass); };
  check_tensor("dx", x.data(), x.numel(), dx.to_host(), f, o);
  std::vector<ParamSpec> specs = bound.layer->param_specs();
  for (size_t p = 0; p < bound.params.size(); ++p) {
    check_tensor(specs[p].name.c_str(), bound.params[p].data(), bound.params[p].numel(), grads[p], f, o);
  }
}

GpuState gpu_state(std::string* why) {
  std::string why_none;
  try {
    if (detail::cuda_device_count(&why_none) > 0) return GpuState::kUsable;
  } catch (const UserError& e) {
    *why = e.what();
    return GpuState::kBroken;
  }
  *why = "no CUDA device is visible: " + why_none;
  return GpuState::kAbsent;
}

}  // namespace alexnet::testing

int main(int argc, char** argv) {
  google::InitGoogleLogging(argv[0]);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
