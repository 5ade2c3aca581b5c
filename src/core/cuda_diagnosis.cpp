#include "core/cuda_diagnosis.h"

#include <algorithm>

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

const LibraryNeed kCudnnNeeds[] = {
    {90000, "the legacy convolution, LRN, pooling, activation and softmax calls (cudnn_ops, cudnn_cnn)"},
};
const size_t kCudnnNeedCount = sizeof kCudnnNeeds / sizeof kCudnnNeeds[0];

std::string cudnn_version_problem(size_t built, size_t loaded, const std::string& loaded_from) {
  const CudnnVersion b = decode_cudnn_version(built), l = decode_cudnn_version(loaded);
  const std::string which = "this build was compiled against cuDNN " + b.str() + " (cudnn_version.h), and " +
                            "the process loaded cuDNN " + l.str() + " from " + loaded_from;
  if (b.major != l.major) {
    return "cuDNN mismatch: " + which + ", which is another major version; put a cuDNN " +
           std::to_string(b.major) + ".x first on LD_LIBRARY_PATH, or rebuild against this one";
  }
  std::string short_of;
  size_t needed = 0;
  for (size_t i = 0; i < kCudnnNeedCount; ++i) {
    if (loaded >= kCudnnNeeds[i].version) continue;
    short_of += std::string(short_of.empty() ? "" : "; ") + kCudnnNeeds[i].calls + " need cuDNN " +
                decode_cudnn_version(kCudnnNeeds[i].version).str();
    needed = std::max(needed, kCudnnNeeds[i].version);
  }
  if (short_of.empty()) return "";
  return "cuDNN too old: " + which + ": " + short_of + "; put a cuDNN " + decode_cudnn_version(needed).str() +
         " or newer first on LD_LIBRARY_PATH";
}

std::string nccl_version_text(int v) {
  if (v >= 20900)
    return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
  return std::to_string(v / 1000) + "." + std::to_string(v / 100 % 10) + "." + std::to_string(v % 100);
}

const LibraryNeed kNcclNeeds[] = {
    {21403, "ncclCommInitRankConfig (one NCCL rank per process)"},
    {21801, "ncclCommSplit (the tower and replica groups of one process per GPU)"},
};
const size_t kNcclNeedCount = sizeof kNcclNeeds / sizeof kNcclNeeds[0];

std::string nccl_version_problem(int loaded, const std::string& loaded_from) {
  std::string short_of;
  int needed = 0;
  for (size_t i = 0; i < kNcclNeedCount; ++i) {
    if (loaded >= static_cast<int>(kNcclNeeds[i].version)) continue;
    short_of += std::string(short_of.empty() ? "" : "; ") + kNcclNeeds[i].calls + " needs NCCL " +
                nccl_version_text(static_cast<int>(kNcclNeeds[i].version));
    needed = std::max(needed, static_cast<int>(kNcclNeeds[i].version));
  }
  if (short_of.empty()) return "";
  return "NCCL too old: the process loaded NCCL " + nccl_version_text(loaded) + " from " + loaded_from +
         ": " + short_of + "; put an NCCL " + nccl_version_text(needed) +
         " or newer first on LD_LIBRARY_PATH";
}

std::string gpu_uuid_text(const unsigned char (&b)[16]) {
  static const char* hex = "0123456789abcdef";
  std::string out = "GPU-";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[b[i] >> 4];
    out += hex[b[i] & 15];
  }
  return out;
}

}  // namespace alexnet::detail
