// CPU reference convolution: per group and chunk of images, im2col then one sgemm.
//
//   forward   y_g  = W_g [Og, Cg*k*k] x col_g [Cg*k*k, images * Ho*Wo] + b_g
//   backward  dW_g += dy_g x col_g^T,  db += sum over pixels of dy,
//             dcol_g = W_g^T x dy_g, then col2im adds dcol back into dx.
// A chunk holds enough images for about 2,048 GEMM columns (small maps such as 13x13 or 6x6
// make one image's GEMM too thin to run near sgemm's speed), and at most 64 MB of columns. A
// training forward keeps the whole batch's columns for backward when they fit in
// kKeptColumnsBytes (128 MB: all of alexnet-mini's layers up to batch 128, the paper's conv3-5
// at batch 32); larger ones, such as the paper's conv1 at batch 128 (560 MB), are rebuilt in
// backward.
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

// Kernel column j reads input column ow*s - p + j, inside the image for ow in [lo, hi).
struct ValidColumns {
  int lo, hi;
};
ValidColumns valid_columns(const Geometry& g, int j) {
  // ow*s >= p - j  and  ow*s <= W - 1 + p - j
  int lo = g.pad - j <= 0 ? 0 : (g.pad - j + g.stride - 1) / g.stride;
  int last = g.width - 1 + g.pad - j;
  int hi = last < 0 ? 0 : std::min(g.out_width, last / g.stride + 1);
  return {std::min(lo, hi), hi};
}

// Under "same" padding at stride 1 (H = Ho, W = Wo) the column row of kernel offset (i, j) is
// the plane shifted by d = (i - p) W + (j - p): row[q] = plane[q + d] for q in [start, end),
// whose lines oh_lo .. oh_hi - 1 hold pixels of the image; outside them, and in each line's
// margins (outside j's valid columns v), the row is zero.
struct PlaneShift {
  int64_t d, oh_lo, oh_hi, start, end;
};
bool same_padding(const Geometry& g) {
  return g.stride == 1 && g.out_height == g.height && g.out_width == g.width;
}
PlaneShift plane_shift(const Geometry& g, int i, int j) {
  const int64_t w = g.width, size = int64_t(g.height) * w;
  const int64_t d = (i - g.pad) * w + (j - g.pad);
  const int64_t oh_lo = std::max(0, g.pad - i), oh_hi = std::min<int64_t>(g.height, g.height + g.pad - i);
  return {d, oh_lo, oh_hi, std::max(oh_lo * w, -d), std::min(oh_hi * w, size - d)};
}
// Zeroes the margins of lines oh_lo .. oh_hi - 1 of a column row.
void zero_margins(float* row, const Geometry& g, const PlaneShift& t, ValidColumns v) {
  if (v.lo == 0 && v.hi == g.out_width) return;
  for (int64_t oh = t.oh_lo; oh < t.oh_hi; ++oh) {
    float* line = row + oh * g.width;
    for (int ow = 0; ow < v.lo; ++ow) line[ow] = 0.0f;
    for (int ow = v.hi; ow < g.out_width; ++ow) line[ow] = 0.0f;
  }
}

// One image's column row for kernel offset (i, j) under same padding.
void same_padding_row(const float* plane, const Geometry& g, int i, int j, ValidColumns v, float* out) {
  const PlaneShift t = plane_shift(g, i, j);
  const int64_t size = int64_t(g.height) * g.width;
  std::memset(out, 0, sizeof(float) * t.oh_lo * g.width);
  std::memset(out + t.oh_hi * g.width, 0, sizeof(float) * (size - t.oh_hi * g.width));
  if (t.end > t.start) std::memcpy(out + t.start, plane + t.start + t.d, sizeof(float) * (t.end - t.start));
  zero_margins(out, g, t, v);
}

// same_padding_row's adjoint: plane[q + d] += row[q] over the pixels inside the image, the
// margins of row (which would land on wrapped-around pixels) zeroed first.
void same_padding_row_add(float* row, const Geometry& g, int i, int j, ValidColumns v, float* plane) {
  const PlaneShift t = plane_shift(g, i, j);
  zero_margins(row, g, t, v);
#pragma omp simd
  for (int64_t q = t.start; q < t.end; ++q) plane[q + t.d] += row[q];
}

// For `images` images `image_stride` floats apart, column block i of col (row stride ld) is
//   col[(c*k + i)*k + j][i * Ho*Wo + oh*Wo + ow] = x_i[c][oh*s - p + i][ow*s - p + j],
// zero outside the image. Each output line is its zero margins and one copy (a strided one when
// s > 1), so the bounds are worked out once per kernel column rather than per element.
void im2col(const float* x, int64_t image_stride, int images, const Geometry& g, float* col, int64_t ld) {
  // "Same" padding at stride 1 (alexnet-mini's convolutions, the paper's conv2-5): a kernel
  // offset (i, j) shifts the whole plane by (i - p) rows and (j - p) columns, so each image's
  // column row is one copy of the plane, then its wrapped-around margins zeroed.
  const bool same = same_padding(g);
#pragma omp parallel for schedule(static)
  for (int row = 0; row < g.rows(); ++row) {
    int c = row / (g.kernel * g.kernel), i = row / g.kernel % g.kernel, j = row % g.kernel;
    const ValidColumns v = valid_columns(g, j);
    const int shift = j - g.pad;
    for (int n = 0; n < images; ++n) {
      const float* plane = x + n * image_stride + static_cast<int64_t>(c) * g.height * g.width;
      float* out = col + static_cast<int64_t>(row) * ld + static_cast<int64_t>(n) * g.cols();
      if (same) {
        same_padding_row(plane, g, i, j, v, out);
        continue;
      }
      for (int oh = 0; oh < g.out_height; ++oh) {
        int ih = oh * g.stride - g.pad + i;
        float* line = out + oh * g.out_width;
        if (ih < 0 || ih >= g.height) {
          std::memset(line, 0, sizeof(float) * g.out_width);
          continue;
        }
        const float* in = plane + ih * g.width;
        for (int ow = 0; ow < v.lo; ++ow) line[ow] = 0.0f;
        if (g.stride == 1) {
          if (v.hi > v.lo) std::memcpy(line + v.lo, in + v.lo + shift, sizeof(float) * (v.hi - v.lo));
        } else {
          for (int ow = v.lo; ow < v.hi; ++ow) line[ow] = in[ow * g.stride + shift];
        }
        for (int ow = v.hi; ow < g.out_width; ++ow) line[ow] = 0.0f;
      }
    }
  }
}

// The adjoint of im2col: each column entry is added back to the pixel it came from. Threads
// split by input channel, whose planes are disjoint. Under "same" padding at stride 1 the column
// row of offset (i, j) is the plane shifted by d (same_padding_row): its wrapped-around margins
// are zeroed in col (scratch, dcol) and the row is added back as one run, which adds to each
// pixel the same terms in the same order as the line-by-line loop.
void col2im_add(float* col, int64_t ld, int images, const Geometry& g, float* dx, int64_t image_stride) {
  const int kk = g.kernel * g.kernel;
  const bool same = same_padding(g);
#pragma omp parallel for schedule(static)
  for (int c = 0; c < g.channels; ++c) {
    for (int n = 0; n < images; ++n) {
      float* plane = dx + n * image_stride + static_cast<int64_t>(c) * g.height * g.width;
      for (int r = 0; r < kk; ++r) {
        int i = r / g.kernel, j = r % g.kernel;
        const ValidColumns v = valid_columns(g, j);
        float* in = col + static_cast<int64_t>(c * kk + r) * ld + static_cast<int64_t>(n) * g.cols();
        if (same) {
          same_padding_row_add(in, g, i, j, v, plane);
          continue;
        }
        for (int oh = 0; oh < g.out_height; ++oh) {
          int ih = oh * g.stride - g.pad + i;
          if (ih < 0 || ih >= g.height) continue;
          float* line = plane + ih * g.width;
          const float* src = in + oh * g.out_width;
          const int shift = j - g.pad;
          if (g.stride == 1) {
#pragma omp simd
            for (int ow = v.lo; ow < v.hi; ++ow) line[ow + shift] += src[ow];
          } else {
            for (int ow = v.lo; ow < v.hi; ++ow) line[ow * g.stride + shift] += src[ow];
          }
        }
      }
    }
  }
}

constexpr int64_t kKeptColumnsBytes = int64_t(128) << 20;

// Images per GEMM: about 2,048 columns (as fast as 4,096 in sgemm, and the columns stay in
// cache), and at most 64 MB of columns.
int images_per_chunk(const Geometry& g, int64_t batch) {
  int64_t by_width = std::max<int64_t>(1, 2048 / g.cols());
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
    const int64_t all_columns = int64_t(c_.groups) * g.rows() * g.cols() * batch;
    const bool keep = pass.training && all_columns * int64_t(sizeof(float)) <= kKeptColumnsBytes;
    kept_for_ = keep ? x.data : nullptr;
    kept_shape_ = x.shape;
    if (keep) buffer(kept_, all_columns);
    for (int64_t n0 = 0; n0 < batch; n0 += chunk) {
      const int nb = static_cast<int>(std::min<int64_t>(chunk, batch - n0));
      const int64_t ld = int64_t(nb) * g.cols();
      for (int grp = 0; grp < c_.groups; ++grp) {
        float* col = keep ? kept_.data() + kept_offset(g, n0, nb, grp) : buffer(col_, g.rows() * ld);
        im2col(input_group(x.data, x.shape, n0, grp), x.shape.item_numel(), nb, g, col, ld);
        blas::gemm(false, false, og, static_cast<int>(ld), g.rows(), 1.0f,
                   param(0).data + static_cast<int64_t>(grp) * og * g.rows(), g.rows(), col,
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
    // The forward's columns, when it kept them for this very input.
    const bool kept = kept_for_ == x.data && kept_shape_ == x.shape;
    for (int64_t n0 = 0; n0 < batch; n0 += chunk) {
      const int nb = static_cast<int>(std::min<int64_t>(chunk, batch - n0));
      const int64_t ld = int64_t(nb) * g.cols();
      for (int grp = 0; grp < c_.groups; ++grp) {
        const float* w_g = w + static_cast<int64_t>(grp) * og * g.rows();
        gather_group(output_group(dy.data, dy.shape, n0, grp), dy.shape.item_numel(), nb, og, g.cols(),
                     buffer(out_, og * ld));
        const float* col = kept ? kept_.data() + kept_offset(g, n0, nb, grp) : buffer(col_, g.rows() * ld);
        if (!kept)
          im2col(input_group(x.data, x.shape, n0, grp), x.shape.item_numel(), nb, g, col_.data(), ld);
        blas::gemm(false, true, og, g.rows(), static_cast<int>(ld), 1.0f, out_.data(), static_cast<int>(ld),
                   col, static_cast<int>(ld), 1.0f, dw + static_cast<int64_t>(grp) * og * g.rows(), g.rows());
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
  // Where chunk n0 (nb images) of group grp starts in kept_: chunks in order, groups within each.
  int64_t kept_offset(const Geometry& g, int64_t n0, int nb, int grp) const {
    return (n0 * c_.groups + int64_t(grp) * nb) * g.rows() * g.cols();
  }
  static float* buffer(std::vector<float>& v, int64_t size) {
    if (static_cast<int64_t>(v.size()) < size) v.resize(size);
    return v.data();
  }
  // In double, over eight interleaved partial sums (a fixed order, which the compiler vectorises
  // instead of waiting on one chain of additions), added pairwise at the end.
  static void sum_bias(const float* dout, int channels, int pixels, float* db) {
    constexpr int kLanes = 8;
    for (int c = 0; c < channels; ++c) {
      const float* row = dout + static_cast<int64_t>(c) * pixels;
      double part[kLanes] = {};
      int p = 0;
      for (; p + kLanes <= pixels; p += kLanes) {
        for (int k = 0; k < kLanes; ++k) part[k] += row[p + k];
      }
      for (int k = 0; p < pixels; ++p, ++k) part[k] += row[p];
      const double s =
          ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
      db[c] += static_cast<float>(s);
    }
  }

  std::vector<float> col_;  // columns of one chunk and group
  std::vector<float> out_;  // the GEMM's [og, images * pixels] output, or dy gathered the same way
  std::vector<float> dcol_;
  std::vector<float> kept_;          // a training forward's columns, all chunks and groups
  const float* kept_for_ = nullptr;  // the input kept_ was built from (nullptr: none)
  Shape kept_shape_;
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
