#include "core/cuda_libraries.h"

#include "core/stream.h"

namespace alexnet {

void set_tensor(const TensorDescriptor& desc, int64_t n, int64_t c, int64_t h, int64_t w) {
  CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, static_cast<int>(n),
                                         static_cast<int>(c), static_cast<int>(h), static_cast<int>(w)));
}

void set_tensor(const TensorDescriptor& desc, const Shape& s) {
  if (s.rank() == 4) return set_tensor(desc, s[0], s[1], s[2], s[3]);
  set_tensor(desc, s[0], s.item_numel(), 1, 1);
}

StreamLibraries::StreamLibraries(const Stream& stream) : device_(stream.device()) {
  CUDNN_CHECK(cudnnSetStream(cudnn_.get(), stream.handle()));
  CUBLAS_CHECK(cublasSetStream(cublas_.get(), stream.handle()));
  // Host-side alpha/beta scalars; the FC layer passes them by pointer.
  CUBLAS_CHECK(cublasSetPointerMode(cublas_.get(), CUBLAS_POINTER_MODE_HOST));
}

void* StreamLibraries::workspace(size_t bytes) {
  if (bytes > workspace_.bytes()) {
    // cudaFree waits for the device, so work still using the old scratch finishes first.
    workspace_ = DeviceBuffer();
    workspace_ = DeviceBuffer(bytes, device_);
  }
  return workspace_.data();
}

}  // namespace alexnet
