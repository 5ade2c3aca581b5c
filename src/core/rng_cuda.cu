// The CUDA side of core/cuda_backend.h, part four: Philox draws on the device, from cuRAND and
// from our own philox_draw(), for the tests.
#include <curand_kernel.h>

#include "core/cuda_backend.h"
#include "core/cuda_check.h"
#include "core/philox.h"
#include "core/tensor.h"

namespace alexnet::detail {

namespace {
__global__ void curand_draws_kernel(uint64_t seed, uint64_t subsequence, uint64_t offset, int count,
                                    uint32_t* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    curandStatePhilox4_32_10_t state;
    curand_init(seed, subsequence, offset + i, &state);
    out[i] = curand(&state);
  }
}

__global__ void our_draws_kernel(uint64_t seed, uint64_t subsequence, uint64_t offset, int count,
                                 uint32_t* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = philox_draw(seed, subsequence, offset + i);
}

template <typename Kernel>
std::vector<uint32_t> run_draws(Kernel kernel, uint64_t seed, uint64_t subsequence, uint64_t offset,
                                int count) {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  DeviceBuffer buffer(sizeof(uint32_t) * count, Device::cuda(device));
  auto* out = static_cast<uint32_t*>(buffer.data());
  kernel<<<grid_blocks(count), 256>>>(seed, subsequence, offset, count, out);
  CUDA_CHECK(cudaGetLastError());
  std::vector<uint32_t> host(count);
  CUDA_CHECK(cudaMemcpy(host.data(), out, sizeof(uint32_t) * count, cudaMemcpyDeviceToHost));
  return host;
}
}  // namespace

std::vector<uint32_t> curand_philox_draws(uint64_t seed, uint64_t subsequence, uint64_t offset, int count) {
  return run_draws(curand_draws_kernel, seed, subsequence, offset, count);
}

std::vector<uint32_t> device_philox_draws(uint64_t seed, uint64_t subsequence, uint64_t offset, int count) {
  return run_draws(our_draws_kernel, seed, subsequence, offset, count);
}

}  // namespace alexnet::detail
