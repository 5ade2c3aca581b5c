// The SGD update as one kernel over a tower's flat buffer: the CPU loop's sgd_step() (sgd.h),
// element for element.
#include "core/cuda_check.h"
#include "train/sgd.h"

namespace alexnet::detail {

namespace {
__global__ void sgd_kernel(float* w, const float* g, float* v, int64_t n, float lr, float momentum,
                           float decay) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    sgd_step(w[i], g[i], v[i], lr, momentum, decay);
  }
}
}  // namespace

void cuda_sgd_update(float* w, const float* g, float* v, int64_t n, const SgdConfig& c,
                     const Stream& stream) {
  if (n == 0) return;
  CudaDeviceGuard guard(stream.device().index);
  sgd_kernel<<<grid_blocks(n), 256, 0, stream.handle()>>>(w, g, v, n, c.learning_rate, c.momentum,
                                                          c.weight_decay * c.learning_rate);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace alexnet::detail
