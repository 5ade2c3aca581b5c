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
// Empty when the cuDNN loaded at run time serves a program compiled against `built`: the same
// major version and a minor version no older (PyTorch's rule; an older minor may lack what the
// header declared). Otherwise the mismatch, naming both versions and where the loaded one is.
std::string cudnn_version_mismatch(size_t built, size_t loaded, const std::string& loaded_from);

}  // namespace alexnet::detail
