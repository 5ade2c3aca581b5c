// cuDNN max pooling, in its deterministic mode so that backward routes each gradient to one
// input the same way every run.
#include "core/cuda_libraries.h"
#include "core/cuda_memory.h"
#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

class MaxPoolCuda final : public MaxPoolLayer {
 public:
  MaxPoolCuda(const PoolConfig& c, Device device) : MaxPoolLayer(c, device) {
    CUDNN_CHECK(cudnnSetPooling2dDescriptor(pool_.get(), CUDNN_POOLING_MAX_DETERMINISTIC,
                                            CUDNN_NOT_PROPAGATE_NAN, c.kernel, c.kernel, c.pad, c.pad,
                                            c.stride, c.stride));
  }

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    expect_device("x", x.device);
    CudaDeviceGuard guard(device().index);
    set_tensor(x_, x.shape);
    set_tensor(y_, y.shape);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnPoolingForward(pass.stream.libraries().cudnn(), pool_.get(), &one, x_.get(), x.data,
                                    &zero, y_.get(), y.data));
  }

  void backward(const Pass& pass, ConstView x, ConstView y, ConstView dy, View dx) override {
    if (dx.empty()) return;
    CudaDeviceGuard guard(device().index);
    set_tensor(x_, x.shape);
    set_tensor(y_, y.shape);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnPoolingBackward(pass.stream.libraries().cudnn(), pool_.get(), &one, y_.get(), y.data,
                                     y_.get(), dy.data, x_.get(), x.data, &zero, x_.get(), dx.data));
  }

 private:
  PoolingDescriptor pool_;
  TensorDescriptor x_, y_;
};

}  // namespace

std::unique_ptr<Layer> make_max_pool_cuda(const PoolConfig& c, Device device) {
  detail::require_cuda_device(device);
  return std::make_unique<MaxPoolCuda>(c, device);
}

}  // namespace alexnet
