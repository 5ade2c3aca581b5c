// Softmax cross-entropy on the GPU: cuDNN's accurate softmax for the probabilities, and our
// kernels for the loss (logsumexp(x) - x[label] per item, in double) and for the gradient
// (y - onehot(label)) / N, each the CPU reference's own per-item function (softmax_loss.h).
// The labels are on the device. The forward queues one copy of the per-item losses and errors to
// page-locked host memory behind the loss kernel; summary() waits for that copy (the forward's
// end) and sums on the host, in item order as the CPU does.
#include <vector>

#include "core/cuda_libraries.h"
#include "core/cuda_memory.h"
#include "core/host_buffer.h"
#include "core/stream.h"
#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

// One thread per item: softmax_loss.h's per-item loss, in double as on the CPU, and whether the
// label misses the top 1 and top 5 of the probabilities y: three doubles per item.
__global__ void item_loss_kernel(const float* x, const float* y, const int32_t* labels, int64_t n,
                                 int64_t classes, double* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float* row = x + i * classes;
    out[3 * i] = softmax_item_loss(row, softmax_row_stats(row, classes), labels[i], classes);
    const ItemErrors e = softmax_item_errors(y + i * classes, labels[i], classes);
    out[3 * i + 1] = e.top1;
    out[3 * i + 2] = e.top5;
  }
}

__global__ void loss_grad_kernel(const float* y, const int32_t* labels, int64_t n, int64_t classes,
                                 float* dx) {
  const float inv_n = 1.0f / static_cast<float>(n);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n * classes;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t item = i / classes, c = i % classes;
    dx[i] = softmax_loss_grad(y[i], inv_n, c == labels[item]);
  }
}

class SoftmaxLossCuda final : public SoftmaxLoss {
 public:
  using SoftmaxLoss::SoftmaxLoss;

  LossSummary summary() const override {
    if (items_ == 0) return {};
    copied_.synchronize();
    const double* host = static_cast<const double*>(host_.data());
    LossSummary s{0, items_, 0, 0};
    for (int64_t i = 0; i < items_; ++i) {
      s.loss += host[3 * i];
      s.top1_errors += host[3 * i + 1] != 0;
      s.top5_errors += host[3 * i + 2] != 0;
    }
    s.loss /= static_cast<double>(items_);
    return s;
  }

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    expect_device("x", x.device);
    CudaDeviceGuard guard(device().index);
    set_tensor(desc_, x.shape);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnSoftmaxForward(pass.stream.libraries().cudnn(), CUDNN_SOFTMAX_ACCURATE,
                                    CUDNN_SOFTMAX_MODE_INSTANCE, &one, desc_.get(), x.data, &zero,
                                    desc_.get(), y.data));
    items_ = 0;
    if (!pass.labels) return;
    const int64_t n = x.shape[0];
    const size_t bytes = 3 * sizeof(double) * n;
    if (per_item_.bytes() < bytes) {
      per_item_ = DeviceBuffer(bytes, device());
      host_ = HostBuffer(bytes);
    }
    item_loss_kernel<<<grid_blocks(n, 128), 128, 0, pass.stream.handle()>>>(
        x.data, y.data, pass.labels, n, x.shape[1], static_cast<double*>(per_item_.data()));
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(
        cudaMemcpyAsync(host_.data(), per_item_.data(), bytes, cudaMemcpyDeviceToHost, pass.stream.handle()));
    copied_.record(pass.stream);
    items_ = n;
  }

  void backward(const Pass& pass, ConstView, ConstView y, ConstView, View dx) override {
    if (dx.empty()) return;
    if (!pass.labels) throw std::invalid_argument("softmax_loss: backward needs labels");
    CudaDeviceGuard guard(device().index);
    const int64_t n = y.shape[0], classes = y.shape[1];
    loss_grad_kernel<<<grid_blocks(n * classes), 256, 0, pass.stream.handle()>>>(y.data, pass.labels, n,
                                                                                 classes, dx.data);
    CUDA_CHECK(cudaGetLastError());
  }

 private:
  TensorDescriptor desc_;
  DeviceBuffer per_item_;  // loss, top-1 miss, top-5 miss: three doubles per item
  HostBuffer host_;        // their page-locked copy
  Event copied_{device()};
  int64_t items_ = 0;
};

}  // namespace

std::unique_ptr<SoftmaxLoss> make_softmax_loss_cuda(Device device) {
  detail::require_cuda_device(device);
  return std::make_unique<SoftmaxLossCuda>(device);
}

}  // namespace alexnet
