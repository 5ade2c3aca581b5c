// Micro-benchmark of the CPU reference convolution at AlexNet's conv1..conv5 shapes (the paper's
// grouping: conv2, conv4, conv5 with groups = 2), forward + backward, next to OpenBLAS sgemm
// alone on exactly the GEMMs the convolution issues (per group, chunks of images). The ratio of the two
// GFLOP/s figures is the cost of im2col/col2im and bias. Not run by ctest; run it as
//   build/conv_bench [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
// BATCH (environment, default 32) sets the batch; NET=mini measures alexnet-mini's shapes instead
// of the paper's. The sgemm rows issue the convolution's GEMMs at its chunk size (images_per_chunk
// below mirrors src/layers/conv.cpp's), so they are the bound the convolution's own rows approach.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/blas.h"
#include "core/tensor.h"
#include "layers/conv.h"

namespace alexnet {
namespace {

struct ConvShape {
  const char* name;
  ConvConfig config;
  int in_size;
  bool needs_dx;  // conv1 reads the image, whose gradient nobody wants
};

const ConvShape kPaper[] = {
    {"conv1", {.in_channels = 3, .out_channels = 96, .kernel = 11, .stride = 4}, 227, false},
    {"conv2", {.in_channels = 96, .out_channels = 256, .kernel = 5, .pad = 2, .groups = 2}, 27, true},
    {"conv3", {.in_channels = 256, .out_channels = 384, .kernel = 3, .pad = 1}, 13, true},
    {"conv4", {.in_channels = 384, .out_channels = 384, .kernel = 3, .pad = 1, .groups = 2}, 13, true},
    {"conv5", {.in_channels = 384, .out_channels = 256, .kernel = 3, .pad = 1, .groups = 2}, 13, true},
};

// alexnet-mini (experiments/alexnet-mini.toml) as the `single` placement runs it on 28x28 images.
const ConvShape kMini[] = {
    {"conv1", {.in_channels = 1, .out_channels = 32, .kernel = 5, .pad = 2}, 28, false},
    {"conv2", {.in_channels = 32, .out_channels = 64, .kernel = 5, .pad = 2, .groups = 2}, 13, true},
    {"conv3", {.in_channels = 64, .out_channels = 96, .kernel = 3, .pad = 1}, 6, true},
    {"conv4", {.in_channels = 96, .out_channels = 96, .kernel = 3, .pad = 1, .groups = 2}, 6, true},
    {"conv5", {.in_channels = 96, .out_channels = 64, .kernel = 3, .pad = 1, .groups = 2}, 6, true},
};

// NET=mini (environment) picks alexnet-mini's shapes; anything else, the paper's.
const ConvShape* shapes() {
  const char* net = std::getenv("NET");
  return net && std::string(net) == "mini" ? kMini : kPaper;
}

int batch() {
  const char* b = std::getenv("BATCH");
  return b ? std::atoi(b) : 32;
}

// One image-group's three GEMMs: forward, weight gradient, column gradient.
struct Gemms {
  int og, rows, cols;  // rows = Cg*k*k, cols = Ho*Wo
  double flops(bool dx) const { return 2.0 * og * rows * cols * (dx ? 3 : 2); }
};

Gemms gemms_of(const ConvShape& s) {
  const ConvConfig& c = s.config;
  int out = conv_output_size(s.in_size, c.kernel, c.stride, c.pad);
  return {c.out_channels / c.groups, c.in_channels / c.groups * c.kernel * c.kernel, out * out};
}

// Images per GEMM as src/layers/conv.cpp chooses them: ~2048 columns, at most 64 MB of columns.
int images_per_chunk(const Gemms& m, int batch) {
  int by_width = std::max(1, 2048 / m.cols);
  int by_memory = static_cast<int>(std::max<int64_t>(1, (int64_t(16) << 20) / (int64_t(m.rows) * m.cols)));
  return std::min({batch, by_width, by_memory});
}

void BM_ConvForwardBackward(benchmark::State& state) {
  const ConvShape& s = shapes()[state.range(0)];
  const int n = batch();
  auto conv = make_conv(s.config, Device::cpu());
  std::vector<Tensor> params, grads;
  std::vector<View> p, g;
  for (const ParamSpec& spec : conv->param_specs()) {
    params.push_back(Tensor::zeros(spec.shape));
    grads.push_back(Tensor::zeros(spec.shape));
    p.push_back(params.back().view());
    g.push_back(grads.back().view());
  }
  conv->bind(p, g);
  Tensor x = Tensor::zeros({n, s.config.in_channels, s.in_size, s.in_size});
  Tensor y(conv->output_shape(x.shape()));
  Tensor dy = Tensor::zeros(y.shape());
  Tensor dx(x.shape());
  Stream cpu;
  Pass pass{cpu};
  for (auto _ : state) {
    conv->forward(pass, x.view(), y.view());
    conv->backward(pass, x.view(), y.view(), dy.view(), s.needs_dx ? dx.view() : View{});
  }
  double flops = gemms_of(s).flops(s.needs_dx) * n * s.config.groups;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(s.name);
}

void BM_SgemmSameSizes(benchmark::State& state) {
  const ConvShape& s = shapes()[state.range(0)];
  const int n = batch();
  Gemms m = gemms_of(s);
  const int chunk = images_per_chunk(m, n);
  const int ld = chunk * m.cols;  // the GEMMs of a full chunk, as many times as the batch needs
  std::vector<float> w(static_cast<size_t>(m.og) * m.rows), col(static_cast<size_t>(m.rows) * ld),
      out(static_cast<size_t>(m.og) * ld), dw(w.size()), dcol(col.size());
  for (auto _ : state) {
    for (int i = 0; i < n; i += chunk) {
      for (int grp = 0; grp < s.config.groups; ++grp) {
        blas::gemm(false, false, m.og, ld, m.rows, 1, w.data(), m.rows, col.data(), ld, 0, out.data(), ld);
        blas::gemm(false, true, m.og, m.rows, ld, 1, out.data(), ld, col.data(), ld, 1, dw.data(), m.rows);
        if (s.needs_dx)
          blas::gemm(true, false, m.rows, ld, m.og, 1, w.data(), m.rows, out.data(), ld, 0, dcol.data(), ld);
      }
    }
  }
  double flops = m.flops(s.needs_dx) * ((n + chunk - 1) / chunk) * chunk * s.config.groups;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(s.name);
}

BENCHMARK(BM_ConvForwardBackward)->DenseRange(0, 4)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SgemmSameSizes)->DenseRange(0, 4)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace alexnet

BENCHMARK_MAIN();
