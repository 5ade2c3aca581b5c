#include "core/cuda_diagnosis.h"

namespace alexnet::detail {

std::string cuda_version_text(int encoded) {
  return std::to_string(encoded / 1000) + "." + std::to_string(encoded % 1000 / 10);
}

std::string no_devices_reason(const DeviceCountFailure& f) {
  if (f.no_device) return "the NVIDIA driver sees no device";
  if (f.driver_too_old && f.driver_version == 0)
    return "no NVIDIA driver is installed (libcuda.so.1 not found)";
  return "";
}

std::string device_count_error(const DeviceCountFailure& f) {
  const std::string cuda_said = "cudaGetDeviceCount: " + f.error_name + " (" + f.description + ")";
  if (f.driver_too_old) {
    return "the NVIDIA driver is too old for this build: it supports CUDA " +
           cuda_version_text(f.driver_version) + " at most, and this build's runtime is CUDA " +
           cuda_version_text(f.runtime_version) + "; install a driver for CUDA " +
           cuda_version_text(f.runtime_version) +
           " or newer, or use a build made with an older CUDA toolkit [" + cuda_said + "]";
  }
  return "the CUDA devices cannot be used: " + cuda_said + "; check the driver (nvidia-smi), " +
         "CUDA_VISIBLE_DEVICES and the devices' permissions";
}

std::string CudnnVersion::str() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

CudnnVersion decode_cudnn_version(size_t v) {
  const int x = static_cast<int>(v);
  if (x >= 90000) return {x / 10000, x / 100 % 100, x % 100};
  return {x / 1000, x / 100 % 10, x % 100};
}

std::string cudnn_version_mismatch(size_t built, size_t loaded, const std::string& loaded_from) {
  const CudnnVersion b = decode_cudnn_version(built), l = decode_cudnn_version(loaded);
  if (b.major == l.major && l.minor >= b.minor) return "";
  return "cuDNN mismatch: this build was compiled against cuDNN " + b.str() + " (cudnn_version.h), but " +
         "the process loaded cuDNN " + l.str() + " from " + loaded_from + ", which " +
         (b.major != l.major ? "is another major version" : "is older") + "; put a cuDNN " +
         std::to_string(b.major) + "." + std::to_string(b.minor) + " or newer " + std::to_string(b.major) +
         ".x first on LD_LIBRARY_PATH, or rebuild against this one";
}

}  // namespace alexnet::detail
