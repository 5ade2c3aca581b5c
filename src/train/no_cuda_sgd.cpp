// The SGD kernel's place in a build without CUDA (sgd_cuda.cu otherwise): no CUDA buffer can
// exist there, but if one were asked for, the answer is the same as everywhere else.
#include "core/cuda_backend.h"
#include "train/sgd.h"

namespace alexnet::detail {

void cuda_sgd_update(float*, const float*, float*, int64_t, const SgdConfig&, const Stream& stream) {
  throw no_cuda_backend("the SGD update on " + stream.device().str());
}

}  // namespace alexnet::detail
