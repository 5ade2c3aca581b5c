// RAII types for cuDNN and cuBLAS handles and cuDNN descriptors, and the library state kept per
// stream. Include only in CUDA builds.
//
// Each type owns one handle: move-only, a move leaves the source empty, and the destructor logs
// rather than throws. Handles are bound to a stream once (StreamLibraries), so a layer reaches
// its cuDNN and cuBLAS through the Pass's stream and never sets a stream itself.
#pragma once

#include <cstddef>
#include <utility>

#include "core/cuda_check.h"
#include "core/shape.h"
#include "core/stream.h"
#include "core/tensor.h"

namespace alexnet {

// One cuDNN handle or descriptor; Create and Destroy are the library's pair for it.
template <typename T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
class CudnnObject {
 public:
  CudnnObject() { CUDNN_CHECK(Create(&handle_)); }
  ~CudnnObject() {
    if (handle_) CUDNN_CHECK_LOG(Destroy(handle_));
  }
  CudnnObject(CudnnObject&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}
  CudnnObject& operator=(CudnnObject&& o) noexcept {
    if (this != &o) {
      if (handle_) CUDNN_CHECK_LOG(Destroy(handle_));
      handle_ = std::exchange(o.handle_, nullptr);
    }
    return *this;
  }
  CudnnObject(const CudnnObject&) = delete;
  CudnnObject& operator=(const CudnnObject&) = delete;
  T get() const { return handle_; }

 private:
  T handle_ = nullptr;
};

using CudnnHandle = CudnnObject<cudnnHandle_t, cudnnCreate, cudnnDestroy>;
using TensorDescriptor =
    CudnnObject<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor =
    CudnnObject<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor = CudnnObject<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                                          cudnnDestroyConvolutionDescriptor>;
using PoolingDescriptor =
    CudnnObject<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor>;
using LrnDescriptor = CudnnObject<cudnnLRNDescriptor_t, cudnnCreateLRNDescriptor, cudnnDestroyLRNDescriptor>;
using ActivationDescriptor = CudnnObject<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor,
                                         cudnnDestroyActivationDescriptor>;

class CublasHandle {
 public:
  CublasHandle() { CUBLAS_CHECK(cublasCreate(&handle_)); }
  ~CublasHandle() {
    if (handle_) CUBLAS_CHECK_LOG(cublasDestroy(handle_));
  }
  CublasHandle(CublasHandle&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}
  CublasHandle& operator=(CublasHandle&& o) noexcept {
    if (this != &o) {
      if (handle_) CUBLAS_CHECK_LOG(cublasDestroy(handle_));
      handle_ = std::exchange(o.handle_, nullptr);
    }
    return *this;
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

// A float NCHW descriptor; a rank-2 [N, F] shape is described as [N, F, 1, 1].
void set_tensor(const TensorDescriptor& desc, const Shape& shape);
void set_tensor(const TensorDescriptor& desc, int64_t n, int64_t c, int64_t h, int64_t w);

// The libraries' state for one stream, created on its first use: a cuDNN and a cuBLAS handle
// bound to the stream, and scratch memory shared by the layers that run on it (work on one stream
// is ordered, so they never use it at the same time).
class StreamLibraries {
 public:
  explicit StreamLibraries(const Stream& stream);
  cudnnHandle_t cudnn() const { return cudnn_.get(); }
  cublasHandle_t cublas() const { return cublas_.get(); }
  // At least `bytes` of scratch on the stream's device; grows (never shrinks) as asked.
  void* workspace(size_t bytes);

 private:
  Device device_;
  CudnnHandle cudnn_;
  CublasHandle cublas_;
  DeviceBuffer workspace_;
};

}  // namespace alexnet
