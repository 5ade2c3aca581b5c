// core/cuda_backend.h in a build without CUDA: the only file CMake compiles in place of
// cuda_backend.cpp, cuda_memory.cu, device_ops.cu and rng_cuda.cu.
//
// Where "no CUDA" has a neutral answer it gives it: no devices, no versions, no peak memory, no
// pinned memory (HostBuffer falls back to aligned host memory). Everything that would need a
// device throws no_cuda_backend(), a UserError: the CLI exits with status 2. The functions that
// take a stream or event handle cannot be reached (no handle can be made), so they do nothing.
#include "core/cuda_backend.h"

namespace alexnet::detail {

// --- the build and the machine ---------------------------------------------------------------

bool cuda_built() {
  return false;
}

int cuda_device_count(std::string* why_none) {
  if (why_none) *why_none = "this build has no CUDA backend";
  return 0;
}

std::string cuda_built_with() {
  return "";
}

std::vector<std::pair<std::string, std::string>> cuda_library_versions() {
  return {};
}

std::vector<std::string> cuda_describe_devices() {
  return {};
}

std::string cuda_device_uuid(Device device) {
  throw no_cuda_backend("device " + device.str());
}

std::string cuda_device_name(Device device) {
  throw no_cuda_backend("device " + device.str());
}

void require_usable_nccl() {
  throw no_cuda_backend("NCCL");
}

// --- device memory ---------------------------------------------------------------------------

void require_cuda_device(Device device) {
  throw no_cuda_backend("device " + device.str());
}

void* cuda_allocate(size_t, Device device) {
  throw no_cuda_backend("device " + device.str());
}

void cuda_free(void*, Device, size_t) noexcept {}

size_t cuda_held_bytes(Device) {
  return 0;
}

size_t cuda_peak_bytes(Device) {
  return 0;
}

void cuda_copy(void*, Device dst_device, const void*, Device src_device, size_t) {
  throw no_cuda_backend("device " + (dst_device.is_cuda() ? dst_device : src_device).str());
}

void cuda_zero(void*, Device device, size_t) {
  throw no_cuda_backend("device " + device.str());
}

void cuda_use_device(Device device) {
  throw no_cuda_backend("device " + device.str());
}

// --- page-locked host memory -----------------------------------------------------------------

void* cuda_allocate_pinned(size_t) {
  return nullptr;
}

void cuda_free_pinned(void*) noexcept {}

// --- work queued on a stream -----------------------------------------------------------------

void cuda_copy_async(void*, const void*, size_t, const Stream&) {
  throw no_cuda_backend("a copy to a CUDA device");
}

void cuda_copy_rows_async(const float*, int64_t, float*, int64_t, int64_t, int64_t, const Stream&) {
  throw no_cuda_backend("a copy on a CUDA device");
}

void cuda_add_into_async(float*, const float*, int64_t, const Stream&) {
  throw no_cuda_backend("a sum on a CUDA device");
}
void cuda_scale_async(float*, float, int64_t, const Stream&) {
  throw no_cuda_backend("scaling on a CUDA device");
}

// --- streams and events ----------------------------------------------------------------------

CUstream_st* cuda_stream_create(Device device) {
  throw no_cuda_backend("a stream on " + device.str());
}

void cuda_stream_destroy(CUstream_st*) noexcept {}

void cuda_stream_synchronize(CUstream_st*) {}

void cuda_streams_idle(Device) {}

StreamLibraries* cuda_libraries_create(const Stream&) {
  throw no_cuda_backend("cuDNN and cuBLAS");
}

void cuda_libraries_destroy(StreamLibraries*) noexcept {}

CUevent_st* cuda_event_create(Device device, bool) {
  throw no_cuda_backend("an event on " + device.str());
}

void cuda_event_destroy(CUevent_st*) noexcept {}

void cuda_event_record(CUevent_st*, CUstream_st*) {}

void cuda_event_make_wait(CUevent_st*, CUstream_st*) {}

void cuda_event_synchronize(CUevent_st*) {}

float cuda_event_elapsed_ms(CUevent_st*, CUevent_st*) {
  return 0;
}

// --- Philox on the device --------------------------------------------------------------------

std::vector<uint32_t> curand_philox_draws(uint64_t, uint64_t, uint64_t, int) {
  throw no_cuda_backend("cuRAND");
}

std::vector<uint32_t> device_philox_draws(uint64_t, uint64_t, uint64_t, int) {
  throw no_cuda_backend("Philox on a CUDA device");
}

// --- NVTX ranges: nothing to mark without the toolkit ------------------------------------------

void nvtx_push(const char*) noexcept {}

void nvtx_pop() noexcept {}

}  // namespace alexnet::detail
