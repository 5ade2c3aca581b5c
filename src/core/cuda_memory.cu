// The CUDA side of core/cuda_backend.h, part one: device allocations and copies for DeviceBuffer,
// peak memory, and the error reporting behind CUDA_CHECK.
#include <glog/logging.h>

#include <atomic>

#include "core/cuda_backend.h"
#include "core/cuda_check.h"

namespace alexnet {
namespace detail {

std::string cuda_error_message(const char* library, const char* call, const char* file, int line,
                               const char* description) {
  return std::string(library) + " error at " + file + ":" + std::to_string(line) + ": " + call + " -> " +
         (description ? description : "unknown error");
}

void throw_cuda_error(const char* library, const char* call, const char* file, int line,
                      const char* description) {
  throw CudaError(cuda_error_message(library, call, file, line, description));
}

void log_cuda_error(const char* library, const char* call, const char* file, int line,
                    const char* description) noexcept {
  LOG(ERROR) << cuda_error_message(library, call, file, line, description);
}

void require_cuda_device(Device device) {
  std::string why_none;
  const int count = cuda_device_count(&why_none);  // throws what the runtime said, if not "none"
  if (device.index >= count) {
    throw CudaError("device " + device.str() + " requested, but " + std::to_string(count) +
                    " CUDA device(s) are visible (" + (why_none.empty() ? "" : why_none + "; ") +
                    "check CUDA_VISIBLE_DEVICES and --devices)");
  }
}

void cuda_use_device(Device device) {
  require_cuda_device(device);
  CUDA_CHECK(cudaSetDevice(device.index));
}

namespace {
// Bytes held now and at most, per device ordinal (enough for any node).
constexpr int kMaxDevices = 64;
std::atomic<size_t> held[kMaxDevices];
std::atomic<size_t> peak[kMaxDevices];
}  // namespace

size_t cuda_peak_bytes(Device device) {
  return device.is_cuda() && device.index < kMaxDevices ? peak[device.index].load() : 0;
}

size_t cuda_held_bytes(Device device) {
  return device.is_cuda() && device.index < kMaxDevices ? held[device.index].load() : 0;
}

void* cuda_allocate(size_t bytes, Device device) {
  require_cuda_device(device);
  CudaDeviceGuard guard(device.index);
  void* p = nullptr;
  cudaError_t status = cudaMalloc(&p, bytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    throw CudaError("out of memory on " + device.str() + ": asked for " + std::to_string(bytes >> 20) +
                    " MiB with " + std::to_string(free_bytes >> 20) + " MiB free of " +
                    std::to_string(total_bytes >> 20) + " MiB; try a smaller --batch");
  }
  CUDA_CHECK(status);
  if (device.index < kMaxDevices) {
    size_t now = held[device.index] += bytes;
    size_t old = peak[device.index].load();
    while (now > old && !peak[device.index].compare_exchange_weak(old, now)) {
    }
  }
  return p;
}

void cuda_free(void* p, Device device, size_t bytes) noexcept {
  if (device.index < kMaxDevices) held[device.index] -= bytes;
  int previous = 0;
  CUDA_CHECK_LOG(cudaGetDevice(&previous));
  CUDA_CHECK_LOG(cudaSetDevice(device.index));
  CUDA_CHECK_LOG(cudaFree(p));
  CUDA_CHECK_LOG(cudaSetDevice(previous));
}

void cuda_copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  // Unified addressing lets cudaMemcpyDefault infer the direction, peers included.
  CudaDeviceGuard guard((dst_device.is_cuda() ? dst_device : src_device).index);
  // Our streams are non-blocking: the legacy stream the copy runs on does not wait for them, nor
  // they for it. So the copy waits for their queued work first (it may write what they read, or
  // read what they write), and is finished before it returns: a synchronous copy for every stream.
  if (dst_device.is_cuda()) cuda_streams_idle(dst_device);
  if (src_device.is_cuda() && src_device != dst_device) cuda_streams_idle(src_device);
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, 0));
  cuda_stream_synchronize(nullptr);
}

void cuda_zero(void* p, Device device, size_t bytes) {
  CudaDeviceGuard guard(device.index);
  cuda_streams_idle(device);  // likewise ordered after our streams' work, and finished on return
  CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, 0));
  cuda_stream_synchronize(nullptr);
}

}  // namespace detail
}  // namespace alexnet
