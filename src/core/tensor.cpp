#include "core/tensor.h"

#include <glog/logging.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "core/cuda_memory.h"

namespace alexnet {

namespace {
constexpr size_t kHostAlignment = 64;  // a cache line, and enough for AVX-512 loads

[[maybe_unused, noreturn]] void no_cuda(Device device) {
  throw std::runtime_error("device " + device.str() +
                           " requested, but this build has no CUDA backend (configure with the CUDA "
                           "toolkit, cuDNN and NCCL installed)");
}
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
#ifdef ALEXNET_HAVE_CUDA
  data_ = detail::cuda_allocate(bytes, device);
#else
  no_cuda(device);
#endif
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
#ifdef ALEXNET_HAVE_CUDA
    detail::cuda_free(data_, device_, bytes_);
#endif
  }
  data_ = nullptr;
  bytes_ = 0;
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
#ifdef ALEXNET_HAVE_CUDA
  detail::cuda_zero(data(), device(), bytes);
#else
  no_cuda(device());
#endif
}

void copy(ConstView src, View dst) {
  CHECK_EQ(src.numel(), dst.numel()) << "copy " << src.shape.str() << " -> " << dst.shape.str();
  size_t bytes = static_cast<size_t>(src.numel()) * sizeof(float);
  if (bytes == 0) return;
  if (src.device.is_cpu() && dst.device.is_cpu()) {
    std::memcpy(dst.data, src.data, bytes);
    return;
  }
#ifdef ALEXNET_HAVE_CUDA
  detail::cuda_copy(dst.data, dst.device, src.data, src.device, bytes);
#else
  no_cuda(src.device.is_cpu() ? dst.device : src.device);
#endif
}

}  // namespace alexnet
