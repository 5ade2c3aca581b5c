// The CUDA side of core/cuda_backend.h, part three: the queued halves of device_ops.h.
#include "core/cuda_backend.h"
#include "core/cuda_check.h"
#include "core/device_ops.h"
#include "core/stream.h"

namespace alexnet::detail {

namespace {
__global__ void add_into_kernel(float* dst, const float* src, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = add_element(dst[i], src[i]);
}
__global__ void scale_kernel(float* x, float factor, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    x[i] = scale_element(x[i], factor);
}
}  // namespace

void cuda_copy_async(void* dst, const void* src, size_t bytes, const Stream& stream) {
  CudaDeviceGuard guard(stream.device().index);
  // Unified addressing: the direction (host, device, peer) follows from the pointers.
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream.handle()));
}

void cuda_copy_rows_async(const float* src, int64_t src_pitch, float* dst, int64_t dst_pitch, int64_t width,
                          int64_t rows, const Stream& stream) {
  CudaDeviceGuard guard(stream.device().index);
  CUDA_CHECK(cudaMemcpy2DAsync(dst, sizeof(float) * dst_pitch, src, sizeof(float) * src_pitch,
                               sizeof(float) * width, rows, cudaMemcpyDefault, stream.handle()));
}

void cuda_add_into_async(float* dst, const float* src, int64_t n, const Stream& stream) {
  if (n == 0) return;
  CudaDeviceGuard guard(stream.device().index);
  add_into_kernel<<<grid_blocks(n), 256, 0, stream.handle()>>>(dst, src, n);
  CUDA_CHECK(cudaGetLastError());
}

void cuda_scale_async(float* x, float factor, int64_t n, const Stream& stream) {
  if (n == 0) return;
  CudaDeviceGuard guard(stream.device().index);
  scale_kernel<<<grid_blocks(n), 256, 0, stream.handle()>>>(x, factor, n);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace alexnet::detail
