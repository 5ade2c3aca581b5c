#include "core/device_ops.h"

#include <glog/logging.h>

#include <cstring>

#include "core/cuda_backend.h"

namespace alexnet {

void copy_async(ConstView src, View dst, const Stream& stream) {
  CHECK_EQ(src.numel(), dst.numel()) << "copy_async " << src.shape.str() << " -> " << dst.shape.str();
  copy_bytes_async(dst.data, dst.device, src.data, src.device,
                   static_cast<size_t>(src.numel()) * sizeof(float), stream);
}

void copy_bytes_async(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
                      const Stream& stream) {
  if (bytes == 0) return;
  if (src_device.is_cpu() && dst_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
  CHECK(stream.device().is_cuda()) << "a copy to or from "
                                   << (src_device.is_cpu() ? dst_device : src_device).str()
                                   << " queued on a CPU stream";
  detail::cuda_copy_async(dst, src, bytes, stream);
}

void copy_rows_async(const float* src, int64_t src_pitch, float* dst, int64_t dst_pitch, int64_t width,
                     int64_t rows, Device device, const Stream& stream) {
  if (width == 0 || rows == 0) return;
  if (device.is_cpu()) {
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(dst + r * dst_pitch, src + r * src_pitch, sizeof(float) * width);
    return;
  }
  detail::cuda_copy_rows_async(src, src_pitch, dst, dst_pitch, width, rows, stream);
}

void add_into_async(View dst, ConstView src, const Stream& stream) {
  CHECK_EQ(dst.numel(), src.numel());
  CHECK(dst.device == src.device) << "add_into " << src.device.str() << " -> " << dst.device.str();
  const int64_t n = dst.numel();
  if (dst.device.is_cpu()) {
    // Exchanges sum a few thousand floats: waking the thread pool would cost more than the sum.
#pragma omp parallel for simd schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) dst.data[i] = add_element(dst.data[i], src.data[i]);
    return;
  }
  detail::cuda_add_into_async(dst.data, src.data, n, stream);
}

void scale_async(View x, float factor, const Stream& stream) {
  const int64_t n = x.numel();
  if (x.device.is_cpu()) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) x.data[i] = scale_element(x.data[i], factor);
    return;
  }
  detail::cuda_scale_async(x.data, factor, n, stream);
}

}  // namespace alexnet
