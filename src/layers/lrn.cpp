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

// s^-beta. The paper's beta = 0.75 is 1 / (sqrt(s) * sqrt(sqrt(s))), which vectorises and is
// several times faster than pow(); other betas take exp(-beta log s). Callers choose between the
// two once per block, outside their loops (kPaperBeta), so that the loops stay vector loops.
template <bool kPaperBeta>
inline float pow_neg(float s, float beta) {
  if (kPaperBeta) {
    const float r = std::sqrt(s);
    return 1.0f / (r * std::sqrt(r));
  }
  return std::exp(-beta * std::log(s));
}

// One (image, group) block of `channels` planes of `plane` pixels, a channel at a time: the
// window's squares summed into s in ascending channel order, then s = k + alpha s and
// b = s^-beta a in the same pass over the plane, which stays in cache.
template <bool kPaperBeta>
inline void forward_channels(const LrnConfig& c, const float* a, int64_t channels, int64_t plane, float* s,
                             float* b) {
  const int before = (c.size - 1) / 2, after = c.size / 2;
  const float k = c.k, alpha = c.alpha, beta = c.beta;
  for (int64_t ch = 0; ch < channels; ++ch) {
    const int64_t lo = std::max<int64_t>(0, ch - before), hi = std::min(channels - 1, ch + after);
    float* o = s + ch * plane;
    const float* first = a + lo * plane;
#pragma omp simd
    for (int64_t p = 0; p < plane; ++p) o[p] = first[p] * first[p];
    for (int64_t cc = lo + 1; cc <= hi; ++cc) {
      const float* t = a + cc * plane;
#pragma omp simd
      for (int64_t p = 0; p < plane; ++p) o[p] += t[p] * t[p];
    }
    const float* x = a + ch * plane;
    float* y = b + ch * plane;
#pragma omp simd
    for (int64_t p = 0; p < plane; ++p) {
      o[p] = k + alpha * o[p];
      y[p] = pow_neg<kPaperBeta>(o[p], beta) * x[p];
    }
  }
}

// The same block's da: ratio = dy b / s for the whole block first (the mirrored windows read
// their neighbours'), then a channel at a time the window sums of ratio (c' from c - after to
// c + before) and da = dy s^-beta - 2 alpha beta a sum.
template <bool kPaperBeta>
inline void backward_channels(const LrnConfig& c, const float* a, const float* b, const float* g,
                              const float* s, int64_t channels, int64_t plane, float* ratio, float* d) {
  const int64_t block = channels * plane;
  const int before = c.size / 2, after = (c.size - 1) / 2;  // mirrored
  const float two_alpha_beta = 2.0f * c.alpha * c.beta, beta = c.beta;
#pragma omp simd
  for (int64_t i = 0; i < block; ++i) ratio[i] = g[i] * b[i] / s[i];
  for (int64_t ch = 0; ch < channels; ++ch) {
    const int64_t lo = std::max<int64_t>(0, ch - before), hi = std::min(channels - 1, ch + after);
    float* o = d + ch * plane;
    std::memcpy(o, ratio + lo * plane, sizeof(float) * plane);
    for (int64_t cc = lo + 1; cc <= hi; ++cc) {
      const float* t = ratio + cc * plane;
#pragma omp simd
      for (int64_t p = 0; p < plane; ++p) o[p] += t[p];
    }
    const int64_t at = ch * plane;
#pragma omp simd
    for (int64_t p = 0; p < plane; ++p) {
      o[p] = g[at + p] * pow_neg<kPaperBeta>(s[at + p], beta) - two_alpha_beta * a[at + p] * o[p];
    }
  }
}

// Built for AVX2 and AVX-512 besides the baseline (ALEXNET_CPU_CLONES).
ALEXNET_CPU_CLONES void forward_block(const LrnConfig& c, const float* a, int64_t channels, int64_t plane,
                                      float* s, float* b) {
  if (c.beta == 0.75f) {
    forward_channels<true>(c, a, channels, plane, s, b);
  } else {
    forward_channels<false>(c, a, channels, plane, s, b);
  }
}
ALEXNET_CPU_CLONES void backward_block(const LrnConfig& c, const float* a, const float* b, const float* g,
                                       const float* s, int64_t channels, int64_t plane, float* ratio,
                                       float* d) {
  if (c.beta == 0.75f) {
    backward_channels<true>(c, a, b, g, s, channels, plane, ratio, d);
  } else {
    backward_channels<false>(c, a, b, g, s, channels, plane, ratio, d);
  }
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
  std::vector<float> ratio_;  // backward's dy b / s
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
