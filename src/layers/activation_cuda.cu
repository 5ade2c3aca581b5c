// cuDNN's element-wise activations behind the relu and tanh layers: one class, the cuDNN mode a
// constructor argument. For both, the derivative is a function of y alone (relu: y > 0 exactly
// where x > 0; tanh: 1 - y^2), so backward passes y where cuDNN asks for x, and an in-place
// forward (x and y sharing memory) stays correct.
#include "core/cuda_libraries.h"
#include "core/cuda_memory.h"
#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

class CudnnActivation final : public Layer {
 public:
  CudnnActivation(Device device, cudnnActivationMode_t mode, const char* name) : Layer(device), name_(name) {
    CUDNN_CHECK(cudnnSetActivationDescriptor(activation_.get(), mode, CUDNN_NOT_PROPAGATE_NAN, 0.0));
  }
  const char* type() const override { return name_; }
  Shape output_shape(const Shape& in) const override { return in; }

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, x.shape);
    expect_device("x", x.device);
    CudaDeviceGuard guard(device().index);
    set_tensor(desc_, x.shape);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnActivationForward(pass.stream.libraries().cudnn(), activation_.get(), &one, desc_.get(),
                                       x.data, &zero, desc_.get(), y.data));
  }

  void backward(const Pass& pass, ConstView, ConstView y, ConstView dy, View dx) override {
    if (dx.empty()) return;
    CudaDeviceGuard guard(device().index);
    set_tensor(desc_, y.shape);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnActivationBackward(pass.stream.libraries().cudnn(), activation_.get(), &one, desc_.get(),
                                        y.data, desc_.get(), dy.data, desc_.get(), y.data, &zero, desc_.get(),
                                        dx.data));
  }

 private:
  const char* name_;
  ActivationDescriptor activation_;
  TensorDescriptor desc_;
};

}  // namespace

std::unique_ptr<Layer> make_relu_cuda(Device device) {
  detail::require_cuda_device(device);
  return std::make_unique<CudnnActivation>(device, CUDNN_ACTIVATION_RELU, "relu");
}

std::unique_ptr<Layer> make_tanh_cuda(Device device) {
  detail::require_cuda_device(device);
  return std::make_unique<CudnnActivation>(device, CUDNN_ACTIVATION_TANH, "tanh");
}

}  // namespace alexnet
