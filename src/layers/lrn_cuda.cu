// cuDNN cross-channel LRN. cuDNN computes k + (alpha / n) * sum, so it is given the paper's alpha
// times n (LrnConfig::library_alpha()). Groups need no kernel of their own: the channels of one
// item are contiguous in NCHW, so [N, C, H, W] in g groups is the tensor [N * g, C / g, H, W], and
// a window can no longer cross a group's edge.
#include "core/cuda_libraries.h"
#include "core/cuda_memory.h"
#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

class LrnCuda final : public LrnLayer {
 public:
  LrnCuda(const LrnConfig& c, Device device) : LrnLayer(c, device) {
    CUDNN_CHECK(
        cudnnSetLRNDescriptor(lrn_.get(), static_cast<unsigned>(c.size), c.library_alpha(), c.beta, c.k));
  }

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    expect_device("x", x.device);
    CudaDeviceGuard guard(device().index);
    describe(x.shape);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnLRNCrossChannelForward(pass.stream.libraries().cudnn(), lrn_.get(),
                                            CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, desc_.get(), x.data, &zero,
                                            desc_.get(), y.data));
  }

  void backward(const Pass& pass, ConstView x, ConstView y, ConstView dy, View dx) override {
    if (dx.empty()) return;
    CudaDeviceGuard guard(device().index);
    describe(x.shape);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnLRNCrossChannelBackward(
        pass.stream.libraries().cudnn(), lrn_.get(), CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, desc_.get(), y.data,
        desc_.get(), dy.data, desc_.get(), x.data, &zero, desc_.get(), dx.data));
  }

 private:
  void describe(const Shape& s) { set_tensor(desc_, s[0] * c_.groups, s[1] / c_.groups, s[2], s[3]); }

  LrnDescriptor lrn_;
  TensorDescriptor desc_;
};

}  // namespace

std::unique_ptr<Layer> make_lrn_cuda(const LrnConfig& c, Device device) {
  // cuDNN's limits on the window and the constants.
  if (c.size < static_cast<int>(CUDNN_LRN_MIN_N) || c.size > static_cast<int>(CUDNN_LRN_MAX_N) ||
      c.k < CUDNN_LRN_MIN_K || c.beta < CUDNN_LRN_MIN_BETA) {
    throw std::invalid_argument("lrn: cuDNN needs size in [" + std::to_string(CUDNN_LRN_MIN_N) + ", " +
                                std::to_string(CUDNN_LRN_MAX_N) + "], k >= 1e-5 and beta >= 0.01");
  }
  detail::require_cuda_device(device);
  return std::make_unique<LrnCuda>(c, device);
}

}  // namespace alexnet
