// Softmax cross-entropy on the GPU: cuDNN's accurate softmax for the probabilities, and our
// kernels for the loss (logsumexp(x) - x[label] per item, in double) and for the gradient
// (y - onehot(label)) / N, each the CPU reference's own per-item function (softmax_loss.h).
// The labels are on the device. loss() copies the per-item losses back, so it waits for the
// forward to finish.
#include <vector>

#include "core/cuda_libraries.h"
#include "core/cuda_memory.h"
#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

// One thread per item: softmax_loss.h's per-item loss, in double as on the CPU.
__global__ void item_loss_kernel(const float* x, const int32_t* labels, int64_t n, int64_t classes,
                                 double* loss) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float* row = x + i * classes;
    loss[i] = softmax_item_loss(row, softmax_row_stats(row, classes), labels[i], classes);
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

  double loss() const override {
    if (!stream_ || items_ == 0) return 0.0;
    std::vector<double> host(items_);
    stream_->synchronize();
    CudaDeviceGuard guard(device().index);
    CUDA_CHECK(cudaMemcpy(host.data(), losses_.data(), sizeof(double) * items_, cudaMemcpyDeviceToHost));
    double total = 0;
    for (double v : host) total += v;
    return total / static_cast<double>(items_);
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
    stream_ = &pass.stream;
    items_ = 0;
    if (!pass.labels) return;
    const int64_t n = x.shape[0];
    if (losses_.bytes() < sizeof(double) * n) losses_ = DeviceBuffer(sizeof(double) * n, device());
    item_loss_kernel<<<grid_blocks(n, 128), 128, 0, pass.stream.handle()>>>(
        x.data, pass.labels, n, x.shape[1], static_cast<double*>(losses_.data()));
    CUDA_CHECK(cudaGetLastError());
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
  DeviceBuffer losses_;  // double per item
  int64_t items_ = 0;
  const Stream* stream_ = nullptr;
};

}  // namespace

std::unique_ptr<SoftmaxLoss> make_softmax_loss_cuda(Device device) {
  detail::require_cuda_device(device);
  return std::make_unique<SoftmaxLossCuda>(device);
}

}  // namespace alexnet
