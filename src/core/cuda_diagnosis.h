// What the CUDA runtime and cuDNN report at start-up, put in words: the wording and the decisions
// behind it, kept free of CUDA headers so that the CPU tests check them (the CUDA side,
// cuda_backend.cpp, only gathers the numbers).
#pragma once

#include <cstddef>
#include <string>

namespace alexnet::detail {

// A CUDA version as the runtime and driver encode it (1000 * major + 10 * minor) -> "13.0".
std::string cuda_version_text(int encoded);

// cudaGetDeviceCount's answer when it is not cudaSuccess.
struct DeviceCountFailure {
  std::string error_name;       // cudaGetErrorName, e.g. "cudaErrorInsufficientDriver"
  std::string description;      // cudaGetErrorString
  bool no_device = false;       // cudaErrorNoDevice
  bool driver_too_old = false;  // cudaErrorInsufficientDriver
  int driver_version = 0;       // cudaDriverGetVersion: 0 when no driver is installed
  int runtime_version = 0;      // cudaRuntimeGetVersion
};

// Why there are no devices, when that is an honest "none" (no device, or no NVIDIA driver at all:
// the runtime then reports cudaErrorInsufficientDriver with driver version 0); empty when the
// failure is a fault the user must hear about instead (device_count_error).
std::string no_devices_reason(const DeviceCountFailure& f);
// The fault in words, naming CUDA's error and, for a driver too old, both versions.
std::string device_count_error(const DeviceCountFailure& f);

// cuDNN's version number (cudnnGetVersion(), CUDNN_VERSION): 90000 and above is
// major * 10000 + minor * 100 + patch (cuDNN 9), below it major * 1000 + minor * 100 + patch.
struct CudnnVersion {
  int major = 0, minor = 0, patch = 0;
  std::string str() const;
};
CudnnVersion decode_cudnn_version(size_t encoded);
// What this program calls in cuDNN and the oldest cuDNN that has it. All of it is the legacy API
// (cudnnConvolutionForward, cudnnFind*/cudnnGet*_v7, cudnnLRNCrossChannel*, cudnnPooling*,
// cudnnActivation*, cudnnSoftmaxForward), present since 9.0.0; a call that needs a later 9.x joins
// this table with the version that brought it.
struct LibraryNeed {
  size_t version;  // in the library's own encoding
  const char* calls;
};
extern const LibraryNeed kCudnnNeeds[];
extern const size_t kCudnnNeedCount;

// Empty when the cuDNN loaded at run time can run this program: the major version it was compiled
// against (cuDNN's ABI: libcudnn.so.9) and at least what each call in kCudnnNeeds needs. A minor
// version older than the headers' is fine: nothing newer than the table says is called.
// Otherwise the problem, naming both versions, where the loaded one came from and, for one too
// old, the calls that need more.
std::string cudnn_version_problem(size_t built, size_t loaded, const std::string& loaded_from);

// NCCL's version number (ncclGetVersion, NCCL_VERSION_CODE): from 2.9 on major * 10000 + minor *
// 100 + patch, before it major * 1000 + minor * 100 + patch. "2.28.9".
std::string nccl_version_text(int encoded);
// The calls this program makes in NCCL that a release brought: ncclCommSplit (2.18.1, the tower
// and replica groups of one process per GPU) and ncclCommInitRankConfig (2.14.3).
extern const LibraryNeed kNcclNeeds[];
extern const size_t kNcclNeedCount;
// Empty when the loaded NCCL has every call of kNcclNeeds; otherwise which call needs what.
std::string nccl_version_problem(int loaded, const std::string& loaded_from);

// The 16 bytes of cudaDeviceProp::uuid as nvidia-smi prints them:
// "GPU-8d6a3f2e-0c1b-4a57-9e2d-1f0a6b7c8d9e".
std::string gpu_uuid_text(const unsigned char (&bytes)[16]);

}  // namespace alexnet::detail
