// CPU reference LRN. With s[c] = k + alpha * sum_window a^2 and b[c] = a[c] * s[c]^-beta,
//
//   db/da:  da[c] = dy[c] * s[c]^-beta
//                   - 2 alpha beta a[c] * sum_{c' whose window holds c} dy[c'] b[c'] / s[c']
//
// The window is symmetric for odd n, so "windows that hold c" is c's own window mirrored; we sum
// over c' in [c - n/2, c + (n-1)/2]. Each image is one task; window sums add whole pixel planes,
// which the compiler vectorises.
#include "layers/lrn.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "layers/cuda_layers.h"

namespace alexnet {

Shape lrn_output_shape(const LrnConfig& c, const Shape& in) {
  if (in.rank() != 4) throw std::invalid_argument("lrn needs maps, but its input is " + in.str());
  if (in[1] % c.groups) {
    throw std::invalid_argument("lrn: " + std::to_string(in[1]) + " channels do not split into " +
                                std::to_string(c.groups) + " groups");
  }
  return in;
}

Shape LrnLayer::output_shape(const Shape& in) const {
  return lrn_output_shape(c_, in);
}

namespace {

// s^-beta. The paper's beta = 0.75 is 1 / (sqrt(s) * sqrt(sqrt(s))), which vectorises and is
// several times faster than pow(); other betas take exp(-beta log s).
inline float pow_neg(float s, float beta) {
  if (beta == 0.75f) {
    float r = std::sqrt(s);
    return 1.0f / (r * std::sqrt(r));
  }
  return std::exp(-beta * std::log(s));
}

class LrnCpu final : public LrnLayer {
 public:
  using LrnLayer::LrnLayer;

  void forward(const Pass&, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    // Each (image, group) is an independent block of `channels` consecutive channels.
    const int64_t channels = x.shape[1] / c_.groups, plane = x.shape[2] * x.shape[3];
    scale_.resize(static_cast<size_t>(x.numel()));
    const int before = (c_.size - 1) / 2, after = c_.size / 2;
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < x.shape[0] * c_.groups; ++n) {
      const float* a = x.data + n * channels * plane;
      float* s = scale_.data() + n * channels * plane;
      float* b = y.data + n * channels * plane;
      window_sums(a, a, channels, plane, before, after, s);
      for (int64_t i = 0; i < channels * plane; ++i) {
        s[i] = c_.k + c_.alpha * s[i];
        b[i] = a[i] * pow_neg(s[i], c_.beta);
      }
    }
  }

  void backward(const Pass&, ConstView x, ConstView y, ConstView dy, View dx) override {
    if (dx.empty()) return;
    const int64_t channels = x.shape[1] / c_.groups, plane = x.shape[2] * x.shape[3];
    const int before = (c_.size - 1) / 2, after = c_.size / 2;
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < x.shape[0] * c_.groups; ++n) {
      int64_t base = n * channels * plane;
      const float *a = x.data + base, *b = y.data + base, *g = dy.data + base, *s = scale_.data() + base;
      std::vector<float> ratio(static_cast<size_t>(channels * plane));
      std::vector<float> ratio_sum(ratio.size());
      for (int64_t i = 0; i < channels * plane; ++i) ratio[i] = g[i] * b[i] / s[i];
      // Mirrored window: c' runs from c - after to c + before.
      window_sums(ratio.data(), nullptr, channels, plane, after, before, ratio_sum.data());
      float* d = dx.data + base;
      for (int64_t i = 0; i < channels * plane; ++i) {
        d[i] = g[i] * pow_neg(s[i], c_.beta) - 2.0f * c_.alpha * c_.beta * a[i] * ratio_sum[i];
      }
    }
  }

 private:
  // out[c] = sum_{c' = c - before .. c + after, clipped} v[c'] * w[c'], per pixel; w == nullptr
  // means w = 1, and w == v gives the sum of squares.
  static void window_sums(const float* v, const float* w, int64_t channels, int64_t plane, int before,
                          int after, float* out) {
    auto term = [&](int64_t c, int64_t p) {
      return w ? v[c * plane + p] * w[c * plane + p] : v[c * plane + p];
    };
    for (int64_t c = 0; c < channels; ++c) {
      float* o = out + c * plane;
      for (int64_t p = 0; p < plane; ++p) o[p] = 0.0f;
      for (int64_t cc = std::max<int64_t>(0, c - before); cc <= std::min(channels - 1, c + after); ++cc) {
        for (int64_t p = 0; p < plane; ++p) o[p] += term(cc, p);
      }
    }
  }

  std::vector<float> scale_;  // s from the last forward, for backward
};

}  // namespace

std::unique_ptr<Layer> make_lrn(const LrnConfig& c, Device device) {
  if (c.size <= 0 || c.k <= 0 || c.alpha < 0 || c.beta < 0 || c.groups <= 0) {
    throw std::invalid_argument("lrn: size, k and groups must be positive, alpha and beta >= 0");
  }
  if (device.is_cpu()) return std::make_unique<LrnCpu>(c, device);
  return make_lrn_cuda(c, device);
}

}  // namespace alexnet
