// CPU reference max pooling. Forward remembers, for every output, which input won (the first
// maximum in row-major order, as PyTorch's CPU code picks); backward routes dy there. Padding
// never wins: padded positions are skipped rather than read as zeros.
#include "layers/pool.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "layers/conv.h"
#include "layers/cuda_layers.h"

namespace alexnet {

Shape max_pool_output_shape(const PoolConfig& c, const Shape& in) {
  if (in.rank() != 4) throw std::invalid_argument("max_pool needs maps, but its input is " + in.str());
  int oh = conv_output_size(static_cast<int>(in[2]), c.kernel, c.stride, c.pad);
  int ow = conv_output_size(static_cast<int>(in[3]), c.kernel, c.stride, c.pad);
  if (oh <= 0 || ow <= 0) {
    throw std::invalid_argument("kernel " + std::to_string(c.kernel) + " does not fit its input " +
                                Shape{in[1], in[2], in[3]}.str());
  }
  return {in[0], in[1], oh, ow};
}

Shape MaxPoolLayer::output_shape(const Shape& in) const {
  return max_pool_output_shape(c_, in);
}

namespace {

// One row of outputs without padding, where every window lies inside the image: the window's
// offsets in row-major order in the outer loops and the outputs in the inner one, which the
// compiler vectorises. Same winner as the scalar scan: the first maximum in row-major order.
// kStride is the stride when known at compile time, 0 for `stride`.
template <int kStride>
inline void row_of_windows(const float* in, int w, int h0, int h1, int ow, int kernel, int stride,
                           float* best, int32_t* best_at) {
  const int s = kStride ? kStride : stride;
  for (int j = 0; j < ow; ++j) {
    best[j] = in[h0 * w + j * s];
    best_at[j] = h0 * w + j * s;
  }
  for (int ih = h0; ih < h1; ++ih) {
    for (int dj = ih == h0 ? 1 : 0; dj < kernel; ++dj) {
      const float* row = in + ih * w + dj;
      const int32_t at = ih * w + dj;
#pragma omp simd
      for (int j = 0; j < ow; ++j) {
        const float v = row[j * s], b = best[j];
        const int32_t wins = -static_cast<int32_t>(v > b);  // all ones where v wins
        best_at[j] = (best_at[j] & ~wins) | ((at + j * s) & wins);
        best[j] = v > b ? v : b;
      }
    }
  }
}
class MaxPoolCpu final : public MaxPoolLayer {
 public:
  using MaxPoolLayer::MaxPoolLayer;

  void forward(const Pass&, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    const int h = static_cast<int>(x.shape[2]), w = static_cast<int>(x.shape[3]);
    const int oh = static_cast<int>(y.shape[2]), ow = static_cast<int>(y.shape[3]);
    const int64_t planes = x.shape[0] * x.shape[1];
    argmax_.resize(static_cast<size_t>(y.numel()));
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      const float* in = x.data + p * h * w;
      float* out = y.data + p * oh * ow;
      int32_t* arg = argmax_.data() + p * oh * ow;
      for (int i = 0; i < oh; ++i) {
        // The window clipped to the image: padding never wins.
        const int h0 = std::max(i * c_.stride - c_.pad, 0),
                  h1 = std::min(i * c_.stride - c_.pad + c_.kernel, h);
        if (c_.pad == 0 && ow >= 4) {  // shorter rows are quicker scanned one window at a time
          // The paper's (and alexnet-mini's) stride 2 as a constant, which lets the loads vectorise.
          if (c_.stride == 2) {
            row_of_windows<2>(in, w, h0, h1, ow, c_.kernel, 2, out + i * ow, arg + i * ow);
          } else {
            row_of_windows<0>(in, w, h0, h1, ow, c_.kernel, c_.stride, out + i * ow, arg + i * ow);
          }
          continue;
        }
        for (int j = 0; j < ow; ++j) {
          const int w0 = std::max(j * c_.stride - c_.pad, 0),
                    w1 = std::min(j * c_.stride - c_.pad + c_.kernel, w);
          int32_t best_at = h0 * w + w0;
          float best = in[best_at];
          for (int ih = h0; ih < h1; ++ih) {
            const float* row = in + ih * w;
            for (int iw = w0; iw < w1; ++iw) {
              if (row[iw] > best) {  // strict: the first maximum in row-major order wins
                best = row[iw];
                best_at = ih * w + iw;
              }
            }
          }
          out[i * ow + j] = best;
          arg[i * ow + j] = best_at;
        }
      }
    }
  }

  void backward(const Pass&, ConstView x, ConstView y, ConstView dy, View dx) override {
    if (dx.empty()) return;
    const int64_t in_plane = x.shape[2] * x.shape[3], out_plane = y.shape[2] * y.shape[3];
    const int64_t planes = x.shape[0] * x.shape[1];
    std::memset(dx.data, 0, sizeof(float) * dx.numel());
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      float* d = dx.data + p * in_plane;
      const float* g = dy.data + p * out_plane;
      const int32_t* arg = argmax_.data() + p * out_plane;
      for (int64_t o = 0; o < out_plane; ++o) d[arg[o]] += g[o];
    }
  }

 private:
  std::vector<int32_t> argmax_;  // per output, the winning input's index in its plane
};

}  // namespace

std::unique_ptr<Layer> make_max_pool(const PoolConfig& c, Device device) {
  if (c.kernel <= 0 || c.stride <= 0 || c.pad < 0 || c.pad >= c.kernel) {
    throw std::invalid_argument("max_pool: kernel and stride must be positive and 0 <= pad < kernel");
  }
  if (device.is_cpu()) return std::make_unique<MaxPoolCpu>(c, device);
  return make_max_pool_cuda(c, device);
}

}  // namespace alexnet
