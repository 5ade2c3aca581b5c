// The CUDA implementations behind the make_* factories, one *_cuda.cpp (cuDNN, cuBLAS) or
// *_cuda.cu (our kernels) beside each CPU reference. A build without the CUDA backend links
// no_cuda_layers.cpp instead, whose versions throw a message saying so.
#pragma once

#include <memory>

#include "core/backend_options.h"
#include "layers/conv.h"
#include "layers/dropout.h"
#include "layers/fc.h"
#include "layers/lrn.h"
#include "layers/pool.h"
#include "layers/softmax_loss.h"

namespace alexnet {

std::unique_ptr<Layer> make_conv_cuda(const ConvConfig& config, Device device, const BackendOptions& backend);
std::unique_ptr<Layer> make_fc_cuda(const FcConfig& config, Device device, const BackendOptions& backend);
std::unique_ptr<Layer> make_relu_cuda(Device device);
std::unique_ptr<Layer> make_tanh_cuda(Device device);
std::unique_ptr<Layer> make_lrn_cuda(const LrnConfig& config, Device device);
std::unique_ptr<Layer> make_max_pool_cuda(const PoolConfig& config, Device device);
std::unique_ptr<Layer> make_dropout_cuda(const DropoutConfig& config, Device device);
std::unique_ptr<SoftmaxLoss> make_softmax_loss_cuda(Device device);

}  // namespace alexnet
