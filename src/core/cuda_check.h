// Checks for every CUDA, cuDNN, cuBLAS and NCCL call. Include only in CUDA builds.
//
// A failed call throws alexnet::CudaError whose message names the library, the call as written,
// the file, the line and the library's own description, e.g.
//   CUDA error at src/core/cuda_memory.cu:20: cudaMalloc(&p, bytes) -> out of memory
// Destructors use the *_CHECK_LOG variants, which log the same message and never throw.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <nccl.h>

#include <stdexcept>
#include <string>

namespace alexnet {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
std::string cuda_error_message(const char* library, const char* call, const char* file, int line,
                               const char* description);
[[noreturn]] void throw_cuda_error(const char* library, const char* call, const char* file, int line,
                                   const char* description);
void log_cuda_error(const char* library, const char* call, const char* file, int line,
                    const char* description) noexcept;
}  // namespace detail

}  // namespace alexnet

#define ALEXNET_LIB_CHECK_(library, ok, describe, call, on_error)                                 \
  do {                                                                                            \
    auto alexnet_status_ = (call);                                                                \
    if (alexnet_status_ != (ok)) {                                                                \
      ::alexnet::detail::on_error(library, #call, __FILE__, __LINE__, describe(alexnet_status_)); \
    }                                                                                             \
  } while (0)

#define CUDA_CHECK(call) ALEXNET_LIB_CHECK_("CUDA", cudaSuccess, cudaGetErrorString, call, throw_cuda_error)
#define CUDNN_CHECK(call) \
  ALEXNET_LIB_CHECK_("cuDNN", CUDNN_STATUS_SUCCESS, cudnnGetErrorString, call, throw_cuda_error)
#define CUBLAS_CHECK(call) \
  ALEXNET_LIB_CHECK_("cuBLAS", CUBLAS_STATUS_SUCCESS, cublasGetStatusString, call, throw_cuda_error)
#define NCCL_CHECK(call) ALEXNET_LIB_CHECK_("NCCL", ncclSuccess, ncclGetErrorString, call, throw_cuda_error)

#define CUDA_CHECK_LOG(call) ALEXNET_LIB_CHECK_("CUDA", cudaSuccess, cudaGetErrorString, call, log_cuda_error)
#define CUDNN_CHECK_LOG(call) \
  ALEXNET_LIB_CHECK_("cuDNN", CUDNN_STATUS_SUCCESS, cudnnGetErrorString, call, log_cuda_error)
#define CUBLAS_CHECK_LOG(call) \
  ALEXNET_LIB_CHECK_("cuBLAS", CUBLAS_STATUS_SUCCESS, cublasGetStatusString, call, log_cuda_error)
#define NCCL_CHECK_LOG(call) ALEXNET_LIB_CHECK_("NCCL", ncclSuccess, ncclGetErrorString, call, log_cuda_error)

namespace alexnet {

// Makes a CUDA device current for the guard's lifetime and restores the previous one after.
// Kernel launches and handle creation bind to the current device, so every CUDA layer call holds
// one for its layer's device.
class CudaDeviceGuard {
 public:
  explicit CudaDeviceGuard(int device) {
    CUDA_CHECK(cudaGetDevice(&previous_));
    changed_ = device != previous_;
    if (changed_) CUDA_CHECK(cudaSetDevice(device));
  }
  // Restores only what it changed: most guards find their device current already (use_device()),
  // and then need no driver call at all.
  ~CudaDeviceGuard() {
    if (changed_) CUDA_CHECK_LOG(cudaSetDevice(previous_));
  }
  CudaDeviceGuard(const CudaDeviceGuard&) = delete;
  CudaDeviceGuard& operator=(const CudaDeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

}  // namespace alexnet

namespace alexnet {

// Blocks for a grid-stride loop over n elements, `threads` per block: enough to fill any GPU,
// few enough that each thread has several elements on large tensors.
inline unsigned grid_blocks(int64_t n, int threads = 256) {
  int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 8192 ? 8192 : blocks));
}

}  // namespace alexnet
