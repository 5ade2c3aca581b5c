// The CUDA side of core/cuda_backend.h, part two: the build and the machine (devices, versions),
// page-locked host memory, streams and events. Compiled only when CMake finds CUDA; the other
// parts are cuda_memory.cu, device_ops.cu and rng_cuda.cu, the stub no_cuda_backend.cpp.
#include "core/cuda_backend.h"

#include <dlfcn.h>
#include <nvtx3/nvToolsExt.h>

#include "core/cuda_check.h"
#include "core/cuda_diagnosis.h"
#include "core/cuda_libraries.h"
#include "core/stream.h"

namespace alexnet::detail {

namespace {
std::string dotted(size_t major, size_t minor, size_t patch) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}
}  // namespace

// --- the build and the machine ---------------------------------------------------------------

bool cuda_built() {
  return true;
}

int cuda_device_count(std::string* why_none) {
  int n = 0;
  const cudaError_t status = cudaGetDeviceCount(&n);
  if (status == cudaSuccess) {
    if (n == 0 && why_none) *why_none = "the NVIDIA driver sees no device";
    return n;
  }
  cudaGetLastError();  // clear the error so that later calls start clean
  DeviceCountFailure f;
  f.error_name = cudaGetErrorName(status);
  f.description = cudaGetErrorString(status);
  f.no_device = status == cudaErrorNoDevice;
  f.driver_too_old = status == cudaErrorInsufficientDriver;
  if (cudaDriverGetVersion(&f.driver_version) != cudaSuccess) f.driver_version = 0;
  cudaRuntimeGetVersion(&f.runtime_version);
  // No device, or no driver at all, is the answer 0. Anything else (a driver too old for this
  // CUDA, devices prohibited or busy...) would otherwise read as "cuda:0 does not exist".
  std::string reason = no_devices_reason(f);
  if (reason.empty()) throw UserError(device_count_error(f));
  if (why_none) *why_none = std::move(reason);
  return 0;
}

std::string cuda_built_with() {
  return std::string("cuDNN ") + ALEXNET_CUDNN_VERSION + ", NCCL " + ALEXNET_NCCL_VERSION;
}

std::vector<std::pair<std::string, std::string>> cuda_library_versions() {
  std::vector<std::pair<std::string, std::string>> v;
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  if (cudaDriverGetVersion(&driver) != cudaSuccess) driver = 0;
  auto cuda_version = [](int x) { return std::to_string(x / 1000) + "." + std::to_string(x % 1000 / 10); };
  v.emplace_back("cuda runtime", cuda_version(runtime));
  v.emplace_back("cuda driver", driver ? cuda_version(driver) : "none");
  size_t cudnn = cudnnGetVersion();
  v.emplace_back("cudnn", dotted(cudnn / 10000, cudnn / 100 % 100, cudnn % 100));
  int nccl = 0;
  ncclGetVersion(&nccl);
  v.emplace_back("nccl", dotted(nccl / 10000, nccl / 100 % 100, nccl % 100));
  return v;
}

std::vector<std::string> cuda_describe_devices() {
  std::vector<std::string> out;
  int count = 0;
  try {
    count = cuda_device_count();
  } catch (const UserError& e) {  // a manifest or `version` reports a broken driver, it does not stop
    return {std::string("none usable: ") + e.what()};
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    out.push_back("cuda:" + std::to_string(i) + " " + p.name + ", " + std::to_string(p.totalGlobalMem >> 20) +
                  " MiB, sm_" + std::to_string(p.major) + std::to_string(p.minor));
  }
  return out;
}

// --- page-locked host memory -----------------------------------------------------------------

void* cuda_allocate_pinned(size_t bytes) {
  // Ordinary memory when no device can be used, whatever the reason: pinning only speeds copies
  // to a device, and a CPU run should not fail on a broken driver it does not need.
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    return nullptr;
  }
  void* p = nullptr;
  CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocPortable));
  return p;
}

void cuda_free_pinned(void* p) noexcept {
  CUDA_CHECK_LOG(cudaFreeHost(p));
}

// --- NVTX ranges -----------------------------------------------------------------------------

// Without a profiler attached these cost a check of NVTX's injection pointer; nvtxRangePushA
// reports nesting depth, or an error we could do nothing about, so the results go unread.
void nvtx_push(const char* name) noexcept {
  nvtxRangePushA(name);
}

void nvtx_pop() noexcept {
  nvtxRangePop();
}

// --- streams and events ----------------------------------------------------------------------

CUstream_st* cuda_stream_create(Device device) {
  CudaDeviceGuard guard(device.index);  // a stream belongs to the device current at creation
  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  return stream;
}

void cuda_stream_destroy(CUstream_st* stream) noexcept {
  CUDA_CHECK_LOG(cudaStreamDestroy(stream));
}

void cuda_stream_synchronize(CUstream_st* stream) {
  CUDA_CHECK(cudaStreamSynchronize(stream));
}

namespace {
// The cuDNN this process loaded against the header the build was compiled with, once, before
// the first handle: a mismatch otherwise surfaces later as a missing symbol or a wrong answer.
void require_matching_cudnn() {
  static const std::string mismatch = [] {
    Dl_info where{};
    const bool known = dladdr(reinterpret_cast<void*>(&cudnnGetVersion), &where) != 0 && where.dli_fname;
    return cudnn_version_mismatch(CUDNN_VERSION, cudnnGetVersion(),
                                  known ? where.dli_fname : "an unknown path");
  }();
  if (!mismatch.empty()) throw UserError(mismatch);
}
}  // namespace

StreamLibraries* cuda_libraries_create(const Stream& stream) {
  require_matching_cudnn();
  CudaDeviceGuard guard(stream.device().index);  // handles belong to the device current at creation
  return new StreamLibraries(stream);
}

void cuda_libraries_destroy(StreamLibraries* libraries) noexcept {
  delete libraries;
}

CUevent_st* cuda_event_create(Device device, bool timing) {
  CudaDeviceGuard guard(device.index);  // likewise an event
  cudaEvent_t event = nullptr;
  CUDA_CHECK(cudaEventCreateWithFlags(&event, timing ? cudaEventDefault : cudaEventDisableTiming));
  return event;
}

void cuda_event_destroy(CUevent_st* event) noexcept {
  CUDA_CHECK_LOG(cudaEventDestroy(event));
}

void cuda_event_record(CUevent_st* event, CUstream_st* stream) {
  CUDA_CHECK(cudaEventRecord(event, stream));
}

void cuda_event_make_wait(CUevent_st* event, CUstream_st* stream) {
  if (stream) {
    CUDA_CHECK(cudaStreamWaitEvent(stream, event, 0));
  } else {
    CUDA_CHECK(cudaEventSynchronize(event));
  }
}

void cuda_event_synchronize(CUevent_st* event) {
  CUDA_CHECK(cudaEventSynchronize(event));
}

float cuda_event_elapsed_ms(CUevent_st* start, CUevent_st* end) {
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, start, end));
  return ms;
}

}  // namespace alexnet::detail
