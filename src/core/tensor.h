// Owning memory on one device, and float32 tensors built on it.
//
// DeviceBuffer is the one RAII type for an allocation (host memory or cudaMalloc); it is
// move-only, a move leaves the source empty, and its destructor never throws. Tensor adds a
// shape. Copies between devices are explicit (copy()), never hidden in an accessor.
#pragma once

#include <cstddef>
#include <vector>

#include "core/shape.h"

namespace alexnet {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // Throws std::runtime_error naming the device and size when the memory cannot be had, and
  // UserError (no_cuda_backend) for a CUDA device in a build without the CUDA backend.
  DeviceBuffer(size_t bytes, Device device);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void release() noexcept;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

// The most bytes our DeviceBuffers have held at once on a CUDA `device` since the process
// started (library-internal memory, e.g. cuDNN's algorithm search, is not included); 0 for the CPU.
size_t peak_device_bytes(Device device);
size_t device_bytes_in_use(Device device);  // what they hold now; 0 for the CPU

class Tensor {
 public:
  Tensor() = default;
  // Contents are undefined; use zeros() where they matter.
  Tensor(Shape shape, Device device = Device::cpu());
  static Tensor zeros(Shape shape, Device device = Device::cpu());
  static Tensor from_host(Shape shape, const std::vector<float>& values, Device device = Device::cpu());

  float* data() { return static_cast<float*>(buffer_.data()); }
  const float* data() const { return static_cast<const float*>(buffer_.data()); }
  const Shape& shape() const { return shape_; }
  Device device() const { return buffer_.device(); }
  int64_t numel() const { return shape_.numel(); }

  View view() { return {data(), shape_, device()}; }
  ConstView view() const { return {data(), shape_, device()}; }
  ConstView cview() const { return view(); }

  // Synchronous copy of the contents to a host vector.
  std::vector<float> to_host() const;
  void zero();

 private:
  Shape shape_;
  DeviceBuffer buffer_;
};

// Synchronous copy between any two devices; shapes must hold the same number of elements.
void copy(ConstView src, View dst);

}  // namespace alexnet
