// The CUDA side of core/cuda_backend.h, part two: the build and the machine (devices, versions),
// page-locked host memory, streams and events. Compiled only when CMake finds CUDA; the other
// parts are cuda_memory.cu, device_ops.cu and rng_cuda.cu, the stub no_cuda_backend.cpp.
#include "core/cuda_backend.h"

#include <dlfcn.h>
#include <nccl.h>
#include <nvtx3/nvToolsExt.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>

#include "core/cuda_check.h"
#include "core/cuda_diagnosis.h"
#include "core/cuda_libraries.h"
#include "core/gpu_wait.h"
#include "core/stream.h"

namespace alexnet::detail {

namespace {
std::string dotted(int major, int minor, int patch) {
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

namespace {
// Where the library that defines `symbol` was loaded from, or "an unknown path".
std::string loaded_from(void* symbol) {
  Dl_info where{};
  return dladdr(symbol, &where) != 0 && where.dli_fname ? where.dli_fname : "an unknown path";
}
std::string beside_build(const std::string& loaded, const std::string& built) {
  return loaded == built ? loaded + " (built with the same)" : loaded + " (built with " + built + ")";
}
}  // namespace

std::vector<std::pair<std::string, std::string>> cuda_library_versions() {
  std::vector<std::pair<std::string, std::string>> v;
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  if (cudaDriverGetVersion(&driver) != cudaSuccess) driver = 0;
  v.emplace_back("cuda runtime", beside_build(cuda_version_text(runtime), cuda_version_text(CUDART_VERSION)) +
                                     ", " + loaded_from(reinterpret_cast<void*>(&cudaRuntimeGetVersion)));
  v.emplace_back("cuda driver",
                 driver ? cuda_version_text(driver) + " (the newest CUDA it supports)" : "none");
  const size_t cudnn = cudnnGetVersion();
  v.emplace_back("cudnn",
                 beside_build(decode_cudnn_version(cudnn).str(), decode_cudnn_version(CUDNN_VERSION).str()) +
                     ", " + loaded_from(reinterpret_cast<void*>(&cudnnGetVersion)));
  int major = 0, minor = 0, patch = 0;
  cublasGetProperty(MAJOR_VERSION, &major);
  cublasGetProperty(MINOR_VERSION, &minor);
  cublasGetProperty(PATCH_LEVEL, &patch);
  v.emplace_back("cublas", beside_build(dotted(major, minor, patch),
                                        dotted(CUBLAS_VER_MAJOR, CUBLAS_VER_MINOR, CUBLAS_VER_PATCH)) +
                               ", " + loaded_from(reinterpret_cast<void*>(&cublasGetProperty)));
  int nccl = 0;
  ncclGetVersion(&nccl);
  v.emplace_back("nccl", beside_build(nccl_version_text(nccl), nccl_version_text(NCCL_VERSION_CODE)) + ", " +
                             loaded_from(reinterpret_cast<void*>(&ncclGetVersion)));
  return v;
}

std::string cuda_device_uuid(Device device) {
  cudaDeviceProp p{};
  CUDA_CHECK(cudaGetDeviceProperties(&p, device.index));
  unsigned char bytes[16];
  std::memcpy(bytes, p.uuid.bytes, sizeof bytes);
  return gpu_uuid_text(bytes);
}

std::string cuda_device_name(Device device) {
  cudaDeviceProp p{};
  CUDA_CHECK(cudaGetDeviceProperties(&p, device.index));
  return p.name;
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
    unsigned char bytes[16];
    std::memcpy(bytes, p.uuid.bytes, sizeof bytes);
    char pci[32];
    std::snprintf(pci, sizeof pci, "%04x:%02x:%02x.0", p.pciDomainID, p.pciBusID, p.pciDeviceID);
    out.push_back("cuda:" + std::to_string(i) + " " + p.name + ", " + std::to_string(p.totalGlobalMem >> 20) +
                  " MiB, compute capability " + std::to_string(p.major) + "." + std::to_string(p.minor) +
                  " (sm_" + std::to_string(p.major) + std::to_string(p.minor) + "), " + gpu_uuid_text(bytes) +
                  ", PCI " + pci);
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

// Every stream we made, by device, so that a synchronous copy can wait for all of them: ours are
// non-blocking, which the legacy stream it runs on does not order against.
namespace {
std::mutex streams_mutex;
std::multimap<int, cudaStream_t> streams_by_device;
}  // namespace

CUstream_st* cuda_stream_create(Device device) {
  CudaDeviceGuard guard(device.index);  // a stream belongs to the device current at creation
  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  std::lock_guard<std::mutex> lock(streams_mutex);
  streams_by_device.emplace(device.index, stream);
  return stream;
}

void cuda_stream_destroy(CUstream_st* stream) noexcept {
  {
    std::lock_guard<std::mutex> lock(streams_mutex);
    for (auto it = streams_by_device.begin(); it != streams_by_device.end(); ++it) {
      if (it->second != stream) continue;
      streams_by_device.erase(it);
      break;
    }
  }
  CUDA_CHECK_LOG(cudaStreamDestroy(stream));
}

void cuda_streams_idle(Device device) {
  std::vector<cudaStream_t> mine;
  {
    std::lock_guard<std::mutex> lock(streams_mutex);
    auto [first, last] = streams_by_device.equal_range(device.index);
    for (auto it = first; it != last; ++it) mine.push_back(it->second);
  }
  for (cudaStream_t s : mine) cuda_stream_synchronize(s);
}

// Host waits poll (core/gpu_wait.h): a collective that never completes ends the run at --timeout
// with a message, not a process blocked in cudaStreamSynchronize for ever.
namespace {
bool finished(cudaError_t status, const char* call) {
  if (status == cudaErrorNotReady) return false;
  if (status != cudaSuccess) throw_cuda_error("CUDA", call, __FILE__, __LINE__, cudaGetErrorString(status));
  return true;
}
}  // namespace

void cuda_stream_synchronize(CUstream_st* stream) {
  wait_until([&] { return finished(cudaStreamQuery(stream), "cudaStreamQuery(stream)"); },
             stream ? "a stream's queued work" : "a copy on the legacy stream");
}

namespace {
// The cuDNN this process loaded against what the build needs of it, once, before the first
// handle: a mismatch otherwise surfaces later as a missing symbol or a wrong answer.
void require_usable_cudnn() {
  static const std::string problem = cudnn_version_problem(
      CUDNN_VERSION, cudnnGetVersion(), loaded_from(reinterpret_cast<void*>(&cudnnGetVersion)));
  if (!problem.empty()) throw UserError(problem);
}
}  // namespace

StreamLibraries* cuda_libraries_create(const Stream& stream) {
  require_usable_cudnn();
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
    cuda_event_synchronize(event);
  }
}

void cuda_event_synchronize(CUevent_st* event) {
  wait_until([&] { return finished(cudaEventQuery(event), "cudaEventQuery(event)"); }, "an event's work");
}

float cuda_event_elapsed_ms(CUevent_st* start, CUevent_st* end) {
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, start, end));
  return ms;
}

}  // namespace alexnet::detail

namespace alexnet::detail {

void require_usable_nccl() {
  static const std::string problem = [] {
    int loaded = 0;
    ncclGetVersion(&loaded);
    return nccl_version_problem(loaded, loaded_from(reinterpret_cast<void*>(&ncclGetVersion)));
  }();
  if (!problem.empty()) throw UserError(problem);
}

}  // namespace alexnet::detail
