// The CUDA half of DeviceBuffer and copy(), implemented in cuda_memory.cu. A CPU-only build
// has no definitions for these, and tensor.cpp never calls them there.
#pragma once

#include <cstddef>

#include "core/device.h"

namespace alexnet::detail {

// Throws CudaError naming the device and how many are visible when `device` is not there.
void require_cuda_device(Device device);
void* cuda_allocate(size_t bytes, Device device);
void cuda_free(void* p, Device device, size_t bytes) noexcept;
// The most bytes our DeviceBuffers have held at once on `device` since the process started
// (library-internal memory, e.g. cuDNN's algorithm search, is not included).
size_t cuda_peak_bytes(Device device);
void cuda_copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
void cuda_zero(void* p, Device device, size_t bytes);

}  // namespace alexnet::detail
