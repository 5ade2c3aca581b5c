// The CUDA factories of a build without the CUDA backend: each says so and how to get one, with
// the wording of core/cuda_backend.h (a UserError: exit status 2).
#include <string>

#include "core/cuda_backend.h"
#include "layers/cuda_layers.h"

namespace alexnet {

namespace {
[[noreturn]] void no_backend(const char* layer, Device device) {
  throw no_cuda_backend(std::string(layer) + " on " + device.str());
}
}  // namespace

std::unique_ptr<Layer> make_conv_cuda(const ConvConfig&, Device d, const BackendOptions&) {
  no_backend("conv", d);
}
std::unique_ptr<Layer> make_fc_cuda(const FcConfig&, Device d, const BackendOptions&) {
  no_backend("fc", d);
}
std::unique_ptr<Layer> make_relu_cuda(Device d) {
  no_backend("relu", d);
}
std::unique_ptr<Layer> make_tanh_cuda(Device d) {
  no_backend("tanh", d);
}
std::unique_ptr<Layer> make_lrn_cuda(const LrnConfig&, Device d) {
  no_backend("lrn", d);
}
std::unique_ptr<Layer> make_max_pool_cuda(const PoolConfig&, Device d) {
  no_backend("max_pool", d);
}
std::unique_ptr<Layer> make_dropout_cuda(const DropoutConfig&, Device d) {
  no_backend("dropout", d);
}
std::unique_ptr<SoftmaxLoss> make_softmax_loss_cuda(Device d) {
  no_backend("softmax_loss", d);
}

}  // namespace alexnet
