// Host memory for data on its way to a GPU: page-locked (cudaHostAlloc) when a CUDA device is
// present, so that copies to it can run asynchronously, and ordinary aligned memory otherwise.
// Move-only; the destructor never throws.
#pragma once

#include <cstddef>

namespace alexnet {

class HostBuffer {
 public:
  HostBuffer() = default;
  explicit HostBuffer(size_t bytes, bool want_pinned = true);
  ~HostBuffer();
  HostBuffer(HostBuffer&& o) noexcept;
  HostBuffer& operator=(HostBuffer&& o) noexcept;
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  bool pinned() const { return pinned_; }

 private:
  void release() noexcept;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  bool pinned_ = false;
};

}  // namespace alexnet
