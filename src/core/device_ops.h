// Small element-wise operations on views, for the CPU and for CUDA devices, ordered on a stream.
// On the CPU they run inline; on a GPU they are queued on the stream and return at once. The net's
// exchanges, the local communicator and the optimizer are built from these.
#pragma once

#include <cstdint>

#include "core/host_device.h"
#include "core/shape.h"
#include "core/stream.h"

namespace alexnet {

// The per-element bodies of add_into_async and scale_async, called by the CPU loops and by
// device_ops.cu's kernels alike, so that the CPU tests check the GPU's arithmetic.
ALEXNET_HD inline float add_element(float dst, float src) {
  return dst + src;
}
ALEXNET_HD inline float scale_element(float x, float factor) {
  return x * factor;
}

// dst = src (same number of elements); either side may be on the host (pinned memory makes a
// host-to-device copy truly asynchronous).
void copy_async(ConstView src, View dst, const Stream& stream);
// The same for raw bytes (labels, say).
void copy_bytes_async(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
                      const Stream& stream);

// `rows` rows of `width` floats: row r of src starts at src + r * src_pitch, of dst at
// dst + r * dst_pitch. Both on `device`.
void copy_rows_async(const float* src, int64_t src_pitch, float* dst, int64_t dst_pitch, int64_t width,
                     int64_t rows, Device device, const Stream& stream);

// dst += src, element by element; both on the same device.
void add_into_async(View dst, ConstView src, const Stream& stream);

// x *= factor, element by element.
void scale_async(View x, float factor, const Stream& stream);

}  // namespace alexnet
