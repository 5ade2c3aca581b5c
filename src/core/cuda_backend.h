// The seam between core and CUDA: everything core asks of the CUDA runtime, declared once.
//
// CMake builds one of two sides, so no source tests a macro:
//   with CUDA:  cuda_backend.cpp (devices, versions, pinned memory, streams, events),
//               cuda_memory.cu (allocation, copies, peak memory), device_ops.cu (queued copies,
//               sums), rng_cuda.cu (Philox on the device);
//   without:    no_cuda_backend.cpp, which gives the neutral answer where there is one (no
//               devices, no versions, nothing to synchronize, pinned memory refused so that the
//               caller falls back to aligned host memory) and otherwise throws no_cuda_backend().
// Above core, the CUDA layers, the NCCL communicator and the SGD kernel have stubs of their own
// beside them (no_cuda_layers.cpp, no_nccl_communicator.cpp, no_cuda_sgd.cpp), with this wording.
// The rest of the program sees CUDA through tensor.h, stream.h, host_buffer.h, device_ops.h,
// device.h and versions.h; the CUDA layers and the NCCL communicator also call
// require_cuda_device(), and anything may throw no_cuda_backend().
// Plain C++: includes no CUDA header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/errors.h"

struct CUstream_st;  // cudaStream_t
struct CUevent_st;   // cudaEvent_t

namespace alexnet {

class Stream;
class StreamLibraries;  // core/cuda_libraries.h

// What a build without CUDA says when asked for it; `what` names the request ("device cuda:0",
// "--comm nccl"). The CLI prints it and exits with status 2.
inline UserError no_cuda_backend(const std::string& what) {
  return UserError(what +
                   ": this build has no CUDA backend; rebuild with the CUDA toolkit, cuDNN and NCCL "
                   "installed (see docs/gpu.md)");
}

namespace detail {

// --- the build and the machine ---------------------------------------------------------------
bool cuda_built();
// Devices usable now: 0 without a driver or a device (`why_none`, when given, then says which).
// Any other failure of the runtime (a driver too old for this build's CUDA, devices prohibited or
// busy) throws a UserError with CUDA's own words, rather than reading as "no GPU".
int cuda_device_count(std::string* why_none = nullptr);
// "cuDNN 9.x.y, NCCL 2.x.y" as found at build time; empty without CUDA.
std::string cuda_built_with();
// ("cuda runtime", ...), ("cuda driver", ...), ("cudnn", ...), ("cublas", ...), ("nccl", ...):
// each as loaded now, beside the version the build was compiled with, and the file it came from.
std::vector<std::pair<std::string, std::string>> cuda_library_versions();
// One line per visible device: index, name, memory, compute capability, UUID, PCI bus id.
std::vector<std::string> cuda_describe_devices();
// The device's UUID, "GPU-8d6a3f2e-...": the same in every process that sees the GPU, whatever
// its ordinal there (comm/gpu_identity.h).
std::string cuda_device_uuid(Device device);
// Its name as the driver gives it ("NVIDIA H100 80GB HBM3").
std::string cuda_device_name(Device device);
// Throws a UserError, once decided per process, when the loaded NCCL lacks a call we make
// (core/cuda_diagnosis.h's kNcclNeeds), naming the call and the version it needs.
void require_usable_nccl();

// --- device memory ---------------------------------------------------------------------------
// Throws naming the device and how many are visible when `device` is not there.
void require_cuda_device(Device device);
// use_device() (core/device.h) for a CUDA device.
void cuda_use_device(Device device);
void* cuda_allocate(size_t bytes, Device device);
void cuda_free(void* p, Device device, size_t bytes) noexcept;
// The most bytes our DeviceBuffers have held at once on `device` since the process started
// (library-internal memory, e.g. cuDNN's algorithm search, is not included).
size_t cuda_peak_bytes(Device device);
size_t cuda_held_bytes(Device device);  // what our buffers hold now
// Synchronous and ordered: they first wait for all work queued on our streams of the devices
// involved (cuda_streams_idle), and are finished for every stream when they return.
void cuda_copy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
void cuda_zero(void* p, Device device, size_t bytes);

// --- page-locked host memory -----------------------------------------------------------------
// Null when no device is visible (or without CUDA): the caller then uses ordinary memory.
// Allocated with the portable flag, usable from every device's context; the calling thread's
// current device (use_device()) is the one whose context the allocation may create.
void* cuda_allocate_pinned(size_t bytes);
void cuda_free_pinned(void* p) noexcept;

// --- work queued on a stream (device_ops.cu) --------------------------------------------------
void cuda_copy_async(void* dst, const void* src, size_t bytes, const Stream& stream);
void cuda_copy_rows_async(const float* src, int64_t src_pitch, float* dst, int64_t dst_pitch, int64_t width,
                          int64_t rows, const Stream& stream);
void cuda_add_into_async(float* dst, const float* src, int64_t n, const Stream& stream);
void cuda_scale_async(float* x, float factor, int64_t n, const Stream& stream);

// --- NVTX ranges (core/nvtx.h): NVTX v3, header-only; nothing without CUDA -----------------
void nvtx_push(const char* name) noexcept;
void nvtx_pop() noexcept;

// --- streams and events ----------------------------------------------------------------------
CUstream_st* cuda_stream_create(Device device);
void cuda_stream_destroy(CUstream_st* stream) noexcept;
// Polls until the stream's work is done (null: the legacy stream), with the deadline of
// core/gpu_wait.h.
void cuda_stream_synchronize(CUstream_st* stream);
// Waits, likewise, for every stream this process made on `device`.
void cuda_streams_idle(Device device);
// The cuDNN and cuBLAS handles bound to `stream`, on its device.
StreamLibraries* cuda_libraries_create(const Stream& stream);
void cuda_libraries_destroy(StreamLibraries* libraries) noexcept;
CUevent_st* cuda_event_create(Device device, bool timing);
void cuda_event_destroy(CUevent_st* event) noexcept;
void cuda_event_record(CUevent_st* event, CUstream_st* stream);
// Later work on `stream` waits for `event`; a null stream (the CPU's) blocks until it completes.
void cuda_event_make_wait(CUevent_st* event, CUstream_st* stream);
void cuda_event_synchronize(CUevent_st* event);
float cuda_event_elapsed_ms(CUevent_st* start, CUevent_st* end);

// --- Philox on the device (rng_cuda.cu), for the tests that hold host draws against cuRAND ---
// `count` draws from cuRAND itself: curand_init(seed, subsequence, offset + i) then curand(),
// one thread per i, on the current CUDA device.
std::vector<uint32_t> curand_philox_draws(uint64_t seed, uint64_t subsequence, uint64_t offset, int count);
// The same draws from our philox_draw() compiled for the device.
std::vector<uint32_t> device_philox_draws(uint64_t seed, uint64_t subsequence, uint64_t offset, int count);

}  // namespace detail
}  // namespace alexnet
