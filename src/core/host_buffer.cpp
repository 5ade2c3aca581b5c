#include "core/host_buffer.h"

#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

#include "core/device.h"
#ifdef ALEXNET_HAVE_CUDA
#include "core/cuda_check.h"
#endif

namespace alexnet {

HostBuffer::HostBuffer(size_t bytes, bool want_pinned) : bytes_(bytes) {
  if (bytes == 0) return;
#ifdef ALEXNET_HAVE_CUDA
  if (want_pinned && cuda_device_count() > 0) {
    CUDA_CHECK(cudaHostAlloc(&data_, bytes, cudaHostAllocPortable));
    pinned_ = true;
    return;
  }
#endif
  data_ = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!data_)
    throw std::runtime_error("out of host memory allocating " + std::to_string(bytes >> 20) + " MiB");
}

HostBuffer::~HostBuffer() {
  release();
}

HostBuffer::HostBuffer(HostBuffer&& o) noexcept : data_(o.data_), bytes_(o.bytes_), pinned_(o.pinned_) {
  o.data_ = nullptr;
  o.bytes_ = 0;
}

HostBuffer& HostBuffer::operator=(HostBuffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_;
    bytes_ = o.bytes_;
    pinned_ = o.pinned_;
    o.data_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

void HostBuffer::release() noexcept {
  if (!data_) return;
#ifdef ALEXNET_HAVE_CUDA
  if (pinned_) {
    CUDA_CHECK_LOG(cudaFreeHost(data_));
    data_ = nullptr;
    return;
  }
#endif
  std::free(data_);
  data_ = nullptr;
}

}  // namespace alexnet
