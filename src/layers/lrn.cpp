// CPU reference LRN. With s[c] = k + alpha * sum_window a^2 and b[c] = a[c] * s[c]^-beta,
//
//   db/da:  da[c] = dy[c] * s[c]^-beta
//                   - 2 alpha beta a[c] * sum_{c' whose window holds c} dy[c'] b[c'] / s[c']
//
// The window is symmetric for odd n, so "windows that hold c" is c's own window mirrored; we sum
// over c' in [c - n/2, c + (n-1)/2]. Each image is one task; window sums add whole pixel planes,
// which the compiler vectorises.
#include "layers/lrn.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/host_device.h"
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

// out = s^-beta. The paper's beta = 0.75 is 1 / (sqrt(s) * sqrt(sqrt(s))), which vectorises and
// is several times faster than pow(); other betas take exp(-beta log s). The choice is made once
// per array, outside the loop, so that the loop stays a vector loop.
inline void pow_neg(const float* s, float beta, int64_t n, float* out) {
  if (beta == 0.75f) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      float r = std::sqrt(s[i]);
      out[i] = 1.0f / (r * std::sqrt(r));
    }
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = std::exp(-beta * std::log(s[i]));
  }
}

// out[c] = sum_{c' = c - before .. c + after, clipped} v[c'], per pixel, the terms added in
// ascending c'. One block of `channels` planes of `plane` pixels.
inline void window_sums(const float* v, int64_t channels, int64_t plane, int before, int after, float* out) {
  for (int64_t c = 0; c < channels; ++c) {
    float* o = out + c * plane;
    const int64_t lo = std::max<int64_t>(0, c - before), hi = std::min(channels - 1, c + after);
    std::memcpy(o, v + lo * plane, sizeof(float) * plane);
    for (int64_t cc = lo + 1; cc <= hi; ++cc) {
      const float* t = v + cc * plane;
#pragma omp simd
      for (int64_t p = 0; p < plane; ++p) o[p] += t[p];
    }
  }
}

// One (image, group) block of `channels` planes, in passes over data that stays in cache: b = a^2,
// the window sums of b into s, s = k + alpha s, s^-beta into b, then b = a s^-beta.
ALEXNET_CPU_CLONES void forward_block(const LrnConfig& c, const float* a, int64_t channels, int64_t plane,
                                      float* s, float* b) {
  const int64_t block = channels * plane;
  const float k = c.k, alpha = c.alpha;
#pragma omp simd
  for (int64_t i = 0; i < block; ++i) b[i] = a[i] * a[i];
  window_sums(b, channels, plane, (c.size - 1) / 2, c.size / 2, s);
#pragma omp simd
  for (int64_t i = 0; i < block; ++i) s[i] = k + alpha * s[i];
  pow_neg(s, c.beta, block, b);
#pragma omp simd
  for (int64_t i = 0; i < block; ++i) b[i] *= a[i];
}

// The same block's da, with ratio as room for one block: dy b / s, then s^-beta.
ALEXNET_CPU_CLONES void backward_block(const LrnConfig& c, const float* a, const float* b, const float* g,
                                       const float* s, int64_t channels, int64_t plane, float* ratio,
                                       float* d) {
  const int64_t block = channels * plane;
  const float two_alpha_beta = 2.0f * c.alpha * c.beta;
#pragma omp simd
  for (int64_t i = 0; i < block; ++i) ratio[i] = g[i] * b[i] / s[i];
  // Mirrored window: c' runs from c - after to c + before; the sums go into dx first, and
  // s^-beta into ratio once the sums have read it.
  window_sums(ratio, channels, plane, c.size / 2, (c.size - 1) / 2, d);
  pow_neg(s, c.beta, block, ratio);
#pragma omp simd
  for (int64_t i = 0; i < block; ++i) d[i] = g[i] * ratio[i] - two_alpha_beta * a[i] * d[i];
}

class LrnCpu final : public LrnLayer {
 public:
  using LrnLayer::LrnLayer;

  // Each (image, group) block is one task (forward_block). Only s is kept for backward, which
  // works s^-beta out again: cheaper than writing and reading it back.
  void forward(const Pass&, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    const int64_t channels = x.shape[1] / c_.groups, plane = x.shape[2] * x.shape[3];
    const int64_t block = channels * plane;
    scale_.resize(static_cast<size_t>(x.numel()));
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < x.shape[0] * c_.groups; ++n) {
      forward_block(c_, x.data + n * block, channels, plane, scale_.data() + n * block, y.data + n * block);
    }
  }

  void backward(const Pass&, ConstView x, ConstView y, ConstView dy, View dx) override {
    if (dx.empty()) return;
    const int64_t channels = x.shape[1] / c_.groups, plane = x.shape[2] * x.shape[3];
    const int64_t block = channels * plane;
    ratio_.resize(static_cast<size_t>(x.numel()));
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < x.shape[0] * c_.groups; ++n) {
      const int64_t at = n * block;
      backward_block(c_, x.data + at, y.data + at, dy.data + at, scale_.data() + at, channels, plane,
                     ratio_.data() + at, dx.data + at);
    }
  }

 private:
  std::vector<float> scale_;  // s from the last forward, for backward
  std::vector<float> ratio_;  // backward's dy b / s, then s^-beta
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
