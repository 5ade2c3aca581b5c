#include "core/host_buffer.h"

#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

#include "core/cuda_backend.h"

namespace alexnet {

HostBuffer::HostBuffer(size_t bytes, bool want_pinned) : bytes_(bytes) {
  if (bytes == 0) return;
  if (want_pinned) {
    data_ = detail::cuda_allocate_pinned(bytes);  // null without a CUDA device
    pinned_ = data_ != nullptr;
    if (pinned_) return;
  }
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
  if (pinned_) {
    detail::cuda_free_pinned(data_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
}

}  // namespace alexnet
