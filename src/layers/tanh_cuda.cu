// cuDNN tanh.
#include "core/cuda_libraries.h"
#include "core/cuda_memory.h"
#include "layers/cuda_layers.h"
#include "layers/tanh.h"

namespace alexnet {

namespace {

class TanhCuda final : public Layer {
 public:
  explicit TanhCuda(Device device) : Layer(device) {
    CUDNN_CHECK(
        cudnnSetActivationDescriptor(tanh_.get(), CUDNN_ACTIVATION_TANH, CUDNN_NOT_PROPAGATE_NAN, 0.0));
  }
  const char* type() const override { return "tanh"; }
  Shape output_shape(const Shape& in) const override { return in; }

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, x.shape);
    expect_device("x", x.device);
    CudaDeviceGuard guard(device().index);
    set_tensor(desc_, x.shape);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnActivationForward(pass.stream.libraries().cudnn(), tanh_.get(), &one, desc_.get(),
                                       x.data, &zero, desc_.get(), y.data));
  }

  // cuDNN's tanh backward reads y (and ignores x), so an in-place forward is fine.
  void backward(const Pass& pass, ConstView, ConstView y, ConstView dy, View dx) override {
    if (dx.empty()) return;
    CudaDeviceGuard guard(device().index);
    set_tensor(desc_, y.shape);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnActivationBackward(pass.stream.libraries().cudnn(), tanh_.get(), &one, desc_.get(),
                                        y.data, desc_.get(), dy.data, desc_.get(), y.data, &zero, desc_.get(),
                                        dx.data));
  }

 private:
  ActivationDescriptor tanh_;
  TensorDescriptor desc_;
};

}  // namespace

std::unique_ptr<Layer> make_tanh_cuda(Device device) {
  detail::require_cuda_device(device);
  return std::make_unique<TanhCuda>(device);
}

}  // namespace alexnet
