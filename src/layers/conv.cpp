// CPU reference convolution: per group and chunk of images, im2col then one sgemm.
//
//   forward   y_g  = W_g [Og, Cg*k*k] x col_g [Cg*k*k, images * Ho*Wo] + b_g
//   backward  dW_g += dy_g x col_g^T,  db += sum over pixels of dy,
//             dcol_g = W_g^T x dy_g, then col2im adds dcol back into dx.
// A chunk holds enough images for a few thousand GEMM columns (small maps such as 13x13 or 6x6
// make one image's GEMM too thin to run near sgemm's speed), and at most 64 MB of columns; the
// columns are rebuilt in backward rather than kept for the whole batch (conv1 at batch 128 would
// need 560 MB).
#include "layers/conv.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/blas.h"
#include "layers/cuda_layers.h"

namespace alexnet {

int conv_output_size(int in, int kernel, int stride, int pad) {
  int span = in + 2 * pad - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

Shape conv_output_shape(const ConvConfig& c, const Shape& in) {
  if (in.rank() != 4 || in[1] != c.in_channels) {
    throw std::invalid_argument("conv: input " + in.str() + " is not [N, " + std::to_string(c.in_channels) +
                                ", H, W]");
  }
  int oh = conv_output_size(static_cast<int>(in[2]), c.kernel, c.stride, c.pad);
  int ow = conv_output_size(static_cast<int>(in[3]), c.kernel, c.stride, c.pad);
  if (oh <= 0 || ow <= 0) {
    throw std::invalid_argument("kernel " + std::to_string(c.kernel) + " with pad " + std::to_string(c.pad) +
                                " does not fit its input " + Shape{in[1], in[2], in[3]}.str());
  }
  return {in[0], c.out_channels, oh, ow};
}

Shape ConvLayer::output_shape(const Shape& in) const {
  return conv_output_shape(c_, in);
}

std::vector<ParamSpec> ConvLayer::param_specs() const {
  std::vector<ParamSpec> specs = {
      {"weight", {c_.out_channels, c_.in_channels / c_.groups, c_.kernel, c_.kernel}}};
  if (c_.bias) specs.push_back({"bias", {c_.out_channels}});
  return specs;
}

int64_t ConvLayer::forward_macs(const Shape& in) const {
  Shape out = output_shape(in);
  return out.item_numel() * (c_.in_channels / c_.groups) * c_.kernel * c_.kernel;
}

namespace {

struct Geometry {
  int channels, height, width;  // one group's input
  int kernel, stride, pad;
  int out_height, out_width;
  int rows() const { return channels * kernel * kernel; }
  int cols() const { return out_height * out_width; }
};

// For `images` images `image_stride` floats apart, column block i of col (row stride ld) is
//   col[(c*k + i)*k + j][i * Ho*Wo + oh*Wo + ow] = x_i[c][oh*s - p + i][ow*s - p + j],
// zero outside the image.
void im2col(const float* x, int64_t image_stride, int images, const Geometry& g, float* col, int64_t ld) {
#pragma omp parallel for schedule(static)
  for (int row = 0; row < g.rows(); ++row) {
    int c = row / (g.kernel * g.kernel), i = row / g.kernel % g.kernel, j = row % g.kernel;
    for (int n = 0; n < images; ++n) {
      const float* plane = x + n * image_stride + static_cast<int64_t>(c) * g.height * g.width;
      float* out = col + static_cast<int64_t>(row) * ld + static_cast<int64_t>(n) * g.cols();
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
}

// The adjoint of im2col: each column entry is added back to the pixel it came from. Threads
// split by input channel, whose planes are disjoint.
void col2im_add(const float* col, int64_t ld, int images, const Geometry& g, float* dx,
                int64_t image_stride) {
  int kk = g.kernel * g.kernel;
#pragma omp parallel for schedule(static)
  for (int c = 0; c < g.channels; ++c) {
    for (int n = 0; n < images; ++n) {
      float* plane = dx + n * image_stride + static_cast<int64_t>(c) * g.height * g.width;
      for (int r = 0; r < kk; ++r) {
        int i = r / g.kernel, j = r % g.kernel;
        const float* in = col + static_cast<int64_t>(c * kk + r) * ld + static_cast<int64_t>(n) * g.cols();
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
}

// Images per GEMM: a few thousand columns, and at most 64 MB of columns.
int images_per_chunk(const Geometry& g, int64_t batch) {
  int64_t by_width = std::max<int64_t>(1, 4096 / g.cols());
  int64_t by_memory = std::max<int64_t>(1, (int64_t(16) << 20) / (int64_t(g.rows()) * g.cols()));
  return static_cast<int>(std::min({batch, by_width, by_memory}));
}

// Between an NCHW tensor's group (og channels of `images` images) and the GEMM's [og, images * pixels].
void gather_group(const float* y, int64_t image_stride, int images, int og, int pixels, float* out) {
#pragma omp parallel for schedule(static)
  for (int o = 0; o < og; ++o)
    for (int n = 0; n < images; ++n)
      std::memcpy(out + (int64_t(o) * images + n) * pixels, y + n * image_stride + int64_t(o) * pixels,
                  sizeof(float) * pixels);
}
void scatter_group(const float* in, int images, int og, int pixels, const float* bias, float* y,
                   int64_t image_stride) {
#pragma omp parallel for schedule(static)
  for (int o = 0; o < og; ++o) {
    const float b = bias ? bias[o] : 0.0f;
    for (int n = 0; n < images; ++n) {
      const float* src = in + (int64_t(o) * images + n) * pixels;
      float* dst = y + n * image_stride + int64_t(o) * pixels;
      for (int p = 0; p < pixels; ++p) dst[p] = src[p] + b;
    }
  }
}

class ConvCpu final : public ConvLayer {
 public:
  using ConvLayer::ConvLayer;

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    if (std::find(shapes_.begin(), shapes_.end(), x.shape) == shapes_.end()) shapes_.push_back(x.shape);
    const Geometry g = geometry(x.shape, y.shape);
    const int og = c_.out_channels / c_.groups;
    const int64_t batch = x.shape[0];
    const int chunk = images_per_chunk(g, batch);
    for (int64_t n0 = 0; n0 < batch; n0 += chunk) {
      const int nb = static_cast<int>(std::min<int64_t>(chunk, batch - n0));
      const int64_t ld = int64_t(nb) * g.cols();
      for (int grp = 0; grp < c_.groups; ++grp) {
        im2col(input_group(x.data, x.shape, n0, grp), x.shape.item_numel(), nb, g,
               buffer(col_, g.rows() * ld), ld);
        blas::gemm(false, false, og, static_cast<int>(ld), g.rows(), 1.0f,
                   param(0).data + static_cast<int64_t>(grp) * og * g.rows(), g.rows(), col_.data(),
                   static_cast<int>(ld), 0.0f, buffer(out_, og * ld), static_cast<int>(ld));
        scatter_group(out_.data(), nb, og, g.cols(), c_.bias ? param(1).data + grp * og : nullptr,
                      output_group(y.data, y.shape, n0, grp), y.shape.item_numel());
      }
    }
  }

  void backward(const Pass& pass, ConstView x, ConstView y, ConstView dy, View dx) override {
    const Geometry g = geometry(x.shape, dy.shape);
    const int og = c_.out_channels / c_.groups;
    const float* w = param(0).data;
    float* dw = grad(0).data;
    float* db = c_.bias ? grad(1).data : nullptr;
    if (pass.grad_mode == GradMode::kOverwrite) {
      std::memset(dw, 0, sizeof(float) * grad(0).numel());
      if (db) std::memset(db, 0, sizeof(float) * grad(1).numel());
    }
    if (!dx.empty()) std::memset(dx.data, 0, sizeof(float) * dx.numel());
    const int64_t batch = x.shape[0];
    const int chunk = images_per_chunk(g, batch);
    for (int64_t n0 = 0; n0 < batch; n0 += chunk) {
      const int nb = static_cast<int>(std::min<int64_t>(chunk, batch - n0));
      const int64_t ld = int64_t(nb) * g.cols();
      for (int grp = 0; grp < c_.groups; ++grp) {
        const float* w_g = w + static_cast<int64_t>(grp) * og * g.rows();
        gather_group(output_group(dy.data, dy.shape, n0, grp), dy.shape.item_numel(), nb, og, g.cols(),
                     buffer(out_, og * ld));
        im2col(input_group(x.data, x.shape, n0, grp), x.shape.item_numel(), nb, g,
               buffer(col_, g.rows() * ld), ld);
        blas::gemm(false, true, og, g.rows(), static_cast<int>(ld), 1.0f, out_.data(), static_cast<int>(ld),
                   col_.data(), static_cast<int>(ld), 1.0f, dw + static_cast<int64_t>(grp) * og * g.rows(),
                   g.rows());
        if (db) sum_bias(out_.data(), og, static_cast<int>(ld), db + grp * og);
        if (dx.empty()) continue;
        blas::gemm(true, false, g.rows(), static_cast<int>(ld), og, 1.0f, w_g, g.rows(), out_.data(),
                   static_cast<int>(ld), 0.0f, buffer(dcol_, g.rows() * ld), static_cast<int>(ld));
        col2im_add(dcol_.data(), ld, nb, g, input_group(dx.data, dx.shape, n0, grp), dx.shape.item_numel());
      }
    }
  }

  // The CPU has one way for each direction; the manifest records it as cuDNN's choices are.
  std::vector<AlgorithmChoice> algorithm_choices() const override {
    std::vector<AlgorithmChoice> out;
    for (const Shape& s : shapes_)
      out.push_back({s, "im2col+gemm", "gemm+col2im", "im2col+gemm", "fixed", 0});
    return out;
  }

 private:
  std::vector<Shape> shapes_;  // the input shapes met, in order
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
  static float* buffer(std::vector<float>& v, int64_t size) {
    if (static_cast<int64_t>(v.size()) < size) v.resize(size);
    return v.data();
  }
  static void sum_bias(const float* dout, int channels, int pixels, float* db) {
    for (int c = 0; c < channels; ++c) {
      double s = 0;
      for (int p = 0; p < pixels; ++p) s += dout[static_cast<int64_t>(c) * pixels + p];
      db[c] += static_cast<float>(s);
    }
  }

  std::vector<float> col_;  // columns of one chunk and group
  std::vector<float> out_;  // the GEMM's [og, images * pixels] output, or dy gathered the same way
  std::vector<float> dcol_;
};

}  // namespace

std::unique_ptr<Layer> make_conv(const ConvConfig& c, Device device, const BackendOptions& backend) {
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
  return make_conv_cuda(c, device, backend);
}

}  // namespace alexnet
