// CPU reference convolution: per image and group, im2col then one sgemm.
//
//   forward   y_g  = W_g [Og, Cg*k*k] x col_g [Cg*k*k, Ho*Wo] + b_g
//   backward  dW_g += dy_g x col_g^T,  db += sum over pixels of dy,
//             dcol_g = W_g^T x dy_g, then col2im adds dcol back into dx.
// The column buffer holds one image-group at a time and is rebuilt in backward rather than kept
// for the whole batch (conv1 at batch 128 would need 560 MB of columns).
#include "layers/conv.h"

#include <glog/logging.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/blas.h"

namespace alexnet {

int conv_output_size(int in, int kernel, int stride, int pad) {
  int span = in + 2 * pad - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

namespace {

struct Geometry {
  int channels, height, width;  // one group's input
  int kernel, stride, pad;
  int out_height, out_width;
  int rows() const { return channels * kernel * kernel; }
  int cols() const { return out_height * out_width; }
};

// col[(c*k + i)*k + j][oh*Wo + ow] = x[c][oh*s - p + i][ow*s - p + j], zero outside the image.
void im2col(const float* x, const Geometry& g, float* col) {
#pragma omp parallel for schedule(static)
  for (int row = 0; row < g.rows(); ++row) {
    int c = row / (g.kernel * g.kernel), i = row / g.kernel % g.kernel, j = row % g.kernel;
    const float* plane = x + static_cast<int64_t>(c) * g.height * g.width;
    float* out = col + static_cast<int64_t>(row) * g.cols();
    for (int oh = 0; oh < g.out_height; ++oh) {
      int ih = oh * g.stride - g.pad + i;
      float* line = out + oh * g.out_width;
      if (ih < 0 || ih >= g.height) {
        std::memset(line, 0, sizeof(float) * g.out_width);
        continue;
      }
      const float* in = plane + ih * g.width;
      for (int ow = 0; ow < g.out_width; ++ow) {
        int iw = ow * g.stride - g.pad + j;
        line[ow] = (iw >= 0 && iw < g.width) ? in[iw] : 0.0f;
      }
    }
  }
}

// The adjoint of im2col: each column entry is added back to the pixel it came from. Threads
// split by input channel, whose planes are disjoint.
void col2im_add(const float* col, const Geometry& g, float* dx) {
  int kk = g.kernel * g.kernel;
#pragma omp parallel for schedule(static)
  for (int c = 0; c < g.channels; ++c) {
    float* plane = dx + static_cast<int64_t>(c) * g.height * g.width;
    for (int r = 0; r < kk; ++r) {
      int i = r / g.kernel, j = r % g.kernel;
      const float* in = col + static_cast<int64_t>(c * kk + r) * g.cols();
      for (int oh = 0; oh < g.out_height; ++oh) {
        int ih = oh * g.stride - g.pad + i;
        if (ih < 0 || ih >= g.height) continue;
        float* line = plane + ih * g.width;
        const float* src = in + oh * g.out_width;
        for (int ow = 0; ow < g.out_width; ++ow) {
          int iw = ow * g.stride - g.pad + j;
          if (iw >= 0 && iw < g.width) line[iw] += src[ow];
        }
      }
    }
  }
}

class ConvCpu final : public Layer {
 public:
  ConvCpu(const ConvConfig& config, Device device) : Layer(device), c_(config) {}

  const char* type() const override { return "conv"; }

  Shape output_shape(const Shape& in) const override {
    if (in.rank() != 4 || in[1] != c_.in_channels) {
      throw std::invalid_argument("conv: input " + in.str() + " is not [N, " +
                                  std::to_string(c_.in_channels) + ", H, W]");
    }
    int oh = conv_output_size(static_cast<int>(in[2]), c_.kernel, c_.stride, c_.pad);
    int ow = conv_output_size(static_cast<int>(in[3]), c_.kernel, c_.stride, c_.pad);
    if (oh <= 0 || ow <= 0) {
      throw std::invalid_argument("conv: kernel " + std::to_string(c_.kernel) + " with pad " +
                                  std::to_string(c_.pad) + " does not fit input " + in.str());
    }
    return {in[0], c_.out_channels, oh, ow};
  }

  std::vector<ParamSpec> param_specs() const override {
    std::vector<ParamSpec> specs = {
        {"weight", {c_.out_channels, c_.in_channels / c_.groups, c_.kernel, c_.kernel}}};
    if (c_.bias) specs.push_back({"bias", {c_.out_channels}});
    return specs;
  }

  int64_t forward_macs(const Shape& in) const override {
    Shape out = output_shape(in);
    return out.item_numel() * (c_.in_channels / c_.groups) * c_.kernel * c_.kernel;
  }

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    Geometry g = geometry(x.shape, y.shape);
    int og = c_.out_channels / c_.groups;
    const float* w = param(0).data;
    for (int64_t n = 0; n < x.shape[0]; ++n) {
      for (int grp = 0; grp < c_.groups; ++grp) {
        im2col(input_group(x.data, x.shape, n, grp), g, col(g));
        float* out = output_group(y.data, y.shape, n, grp);
        blas::gemm(false, false, og, g.cols(), g.rows(), 1.0f, w + static_cast<int64_t>(grp) * og * g.rows(),
                   g.rows(), col(g), g.cols(), 0.0f, out, g.cols());
        if (c_.bias) add_bias(param(1).data + grp * og, og, g.cols(), out);
      }
    }
  }

  void backward(const Pass& pass, ConstView x, ConstView y, ConstView dy, View dx) override {
    Geometry g = geometry(x.shape, dy.shape);
    int og = c_.out_channels / c_.groups;
    const float* w = param(0).data;
    float* dw = grad(0).data;
    float* db = c_.bias ? grad(1).data : nullptr;
    if (pass.grad_mode == GradMode::kOverwrite) {
      std::memset(dw, 0, sizeof(float) * grad(0).numel());
      if (db) std::memset(db, 0, sizeof(float) * grad(1).numel());
    }
    if (!dx.empty()) std::memset(dx.data, 0, sizeof(float) * dx.numel());
    dcol_.resize(static_cast<size_t>(g.rows()) * g.cols());
    for (int64_t n = 0; n < x.shape[0]; ++n) {
      for (int grp = 0; grp < c_.groups; ++grp) {
        const float* dout = output_group(dy.data, dy.shape, n, grp);
        const float* w_g = w + static_cast<int64_t>(grp) * og * g.rows();
        im2col(input_group(x.data, x.shape, n, grp), g, col(g));
        blas::gemm(false, true, og, g.rows(), g.cols(), 1.0f, dout, g.cols(), col(g), g.cols(), 1.0f,
                   dw + static_cast<int64_t>(grp) * og * g.rows(), g.rows());
        if (db) sum_bias(dout, og, g.cols(), db + grp * og);
        if (dx.empty()) continue;
        blas::gemm(true, false, g.rows(), g.cols(), og, 1.0f, w_g, g.rows(), dout, g.cols(), 0.0f,
                   dcol_.data(), g.cols());
        col2im_add(dcol_.data(), g, input_group(dx.data, dx.shape, n, grp));
      }
    }
  }

 private:
  Geometry geometry(const Shape& in, const Shape& out) const {
    return {c_.in_channels / c_.groups,
            static_cast<int>(in[2]),
            static_cast<int>(in[3]),
            c_.kernel,
            c_.stride,
            c_.pad,
            static_cast<int>(out[2]),
            static_cast<int>(out[3])};
  }
  // Image n, group grp of an NCHW tensor whose groups have `per_group` channels each.
  template <typename T>
  static T* group_at(T* base, const Shape& s, int64_t n, int grp, int per_group) {
    return base + n * s.item_numel() + static_cast<int64_t>(grp) * per_group * s[2] * s[3];
  }
  template <typename T>
  T* input_group(T* x, const Shape& s, int64_t n, int grp) const {
    return group_at(x, s, n, grp, c_.in_channels / c_.groups);
  }
  template <typename T>
  T* output_group(T* y, const Shape& s, int64_t n, int grp) const {
    return group_at(y, s, n, grp, c_.out_channels / c_.groups);
  }
  float* col(const Geometry& g) {
    col_.resize(static_cast<size_t>(g.rows()) * g.cols());
    return col_.data();
  }
  static void add_bias(const float* b, int channels, int pixels, float* out) {
    for (int c = 0; c < channels; ++c)
      for (int p = 0; p < pixels; ++p) out[static_cast<int64_t>(c) * pixels + p] += b[c];
  }
  static void sum_bias(const float* dout, int channels, int pixels, float* db) {
    for (int c = 0; c < channels; ++c) {
      double s = 0;
      for (int p = 0; p < pixels; ++p) s += dout[static_cast<int64_t>(c) * pixels + p];
      db[c] += static_cast<float>(s);
    }
  }

  ConvConfig c_;
  std::vector<float> col_;
  std::vector<float> dcol_;
};

}  // namespace

std::unique_ptr<Layer> make_conv(const ConvConfig& c, Device device) {
  if (c.in_channels <= 0 || c.out_channels <= 0 || c.kernel <= 0 || c.stride <= 0 || c.pad < 0 ||
      c.groups <= 0) {
    throw std::invalid_argument("conv: channels, kernel, stride and groups must be positive, pad >= 0");
  }
  if (c.in_channels % c.groups || c.out_channels % c.groups) {
    throw std::invalid_argument("conv: groups = " + std::to_string(c.groups) +
                                " must divide in_channels = " + std::to_string(c.in_channels) +
                                " and out_channels = " + std::to_string(c.out_channels));
  }
  if (device.is_cpu()) return std::make_unique<ConvCpu>(c, device);
  throw std::runtime_error("conv: no implementation for " + device.str() + " in this build yet");
}

}  // namespace alexnet
