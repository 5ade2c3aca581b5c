#include "core/tensor.h"

#include <glog/logging.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "core/cuda_backend.h"

namespace alexnet {

namespace {
constexpr size_t kHostAlignment = 64;  // a cache line, and enough for AVX-512 loads
}  // namespace

// --- DeviceBuffer ------------------------------------------------------------------------------

DeviceBuffer::DeviceBuffer(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (bytes == 0) return;
  if (device.is_cpu()) {
    size_t rounded = (bytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
    data_ = std::aligned_alloc(kHostAlignment, rounded);
    if (!data_) {
      throw std::runtime_error("out of host memory allocating " + std::to_string(bytes >> 20) +
                               " MiB: try a smaller --batch");
    }
    return;
  }
  data_ = detail::cuda_allocate(bytes, device);
}

DeviceBuffer::~DeviceBuffer() {
  release();
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept : data_(o.data_), bytes_(o.bytes_), device_(o.device_) {
  o.data_ = nullptr;
  o.bytes_ = 0;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_;
    bytes_ = o.bytes_;
    device_ = o.device_;
    o.data_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

void DeviceBuffer::release() noexcept {
  if (!data_) return;
  if (device_.is_cpu()) {
    std::free(data_);
  } else {
    detail::cuda_free(data_, device_, bytes_);
  }
  data_ = nullptr;
  bytes_ = 0;
}

size_t device_bytes_in_use(Device device) {
  return device.is_cuda() ? detail::cuda_held_bytes(device) : 0;
}

size_t peak_device_bytes(Device device) {
  return device.is_cuda() ? detail::cuda_peak_bytes(device) : 0;
}

// --- Tensor ------------------------------------------------------------------------------------

Tensor::Tensor(Shape shape, Device device)
    : shape_(shape), buffer_(static_cast<size_t>(shape.numel()) * sizeof(float), device) {}

Tensor Tensor::zeros(Shape shape, Device device) {
  Tensor t(shape, device);
  t.zero();
  return t;
}

Tensor Tensor::from_host(Shape shape, const std::vector<float>& values, Device device) {
  CHECK_EQ(static_cast<int64_t>(values.size()), shape.numel()) << "values for " << shape.str();
  Tensor t(shape, device);
  copy(ConstView{values.data(), shape, Device::cpu()}, t.view());
  return t;
}

std::vector<float> Tensor::to_host() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  copy(view(), View{out.data(), shape_, Device::cpu()});
  return out;
}

void Tensor::zero() {
  size_t bytes = static_cast<size_t>(numel()) * sizeof(float);
  if (bytes == 0) return;
  if (device().is_cpu()) {
    std::memset(data(), 0, bytes);
    return;
  }
  detail::cuda_zero(data(), device(), bytes);
}

void copy(ConstView src, View dst) {
  CHECK_EQ(src.numel(), dst.numel()) << "copy " << src.shape.str() << " -> " << dst.shape.str();
  size_t bytes = static_cast<size_t>(src.numel()) * sizeof(float);
  if (bytes == 0) return;
  if (src.device.is_cpu() && dst.device.is_cpu()) {
    std::memcpy(dst.data, src.data, bytes);
    return;
  }
  detail::cuda_copy(dst.data, dst.device, src.data, src.device, bytes);
}

}  // namespace alexnet
