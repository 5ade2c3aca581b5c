// Dropout on the GPU: the CPU reference's loop as a kernel. Each element's keep decision is the
// same philox_draw() of the same (seed, layer, step, logical element), so the masks match the
// CPU's bit for bit; nothing is stored between forward and backward.
#include "core/cuda_check.h"
#include "core/cuda_memory.h"
#include "core/device_ops.h"
#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

__global__ void dropout_kernel(const float* in, float* out, int64_t total, int64_t width,
                               int64_t logical_width, int64_t feature_offset, uint64_t seed,
                               uint32_t layer_id, uint64_t step, uint64_t threshold, float scale) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t n = i / width, f = i % width;
    uint64_t element = static_cast<uint64_t>(n * logical_width + feature_offset + f);
    out[i] = dropout_keep(seed, layer_id, step, element, threshold) ? in[i] * scale : 0.0f;
  }
}

class DropoutCuda final : public DropoutLayer {
 public:
  using DropoutLayer::DropoutLayer;

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    expect_device("x", x.device);
    apply(pass, x, y);
  }

  void backward(const Pass& pass, ConstView x, ConstView, ConstView dy, View dx) override {
    if (!dx.empty()) apply(pass, dy, dx);
  }

 private:
  void apply(const Pass& pass, ConstView in, View out) const {
    if (!pass.training || c_.p == 0.0f) {
      if (in.data != out.data) copy_async(in, out, pass.stream);
      return;
    }
    CudaDeviceGuard guard(device().index);
    const int64_t total = in.numel(), width = in.shape.item_numel();
    dropout_kernel<<<grid_blocks(total), 256, 0, pass.stream.handle()>>>(
        in.data, out.data, total, width, c_.logical_width ? c_.logical_width : width,
        c_.feature_offset +
            static_cast<int64_t>(pass.first_item) * (c_.logical_width ? c_.logical_width : width),
        pass.seed, c_.layer_id, pass.step, dropout_keep_threshold(c_.p), 1.0f / (1.0f - c_.p));
    CUDA_CHECK(cudaGetLastError());
  }
};

}  // namespace

std::unique_ptr<Layer> make_dropout_cuda(const DropoutConfig& c, Device device) {
  detail::require_cuda_device(device);
  return std::make_unique<DropoutCuda>(c, device);
}

}  // namespace alexnet
