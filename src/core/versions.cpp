#include "core/versions.h"

#include <cblas.h>
#include <hdf5.h>

#include "core/device.h"
#ifdef ALEXNET_HAVE_CUDA
#include "core/cuda_check.h"
#endif

namespace alexnet {

std::vector<std::pair<std::string, std::string>> library_versions() {
  std::vector<std::pair<std::string, std::string>> v;
  v.emplace_back("alexnet", ALEXNET_VERSION);
  v.emplace_back("git", ALEXNET_GIT_REVISION);
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  v.emplace_back("hdf5", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
  v.emplace_back("openblas", openblas_get_config());
#ifdef ALEXNET_HAVE_CUDA
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  if (cudaDriverGetVersion(&driver) != cudaSuccess) driver = 0;
  auto cuda_version = [](int x) { return std::to_string(x / 1000) + "." + std::to_string(x % 1000 / 10); };
  v.emplace_back("cuda runtime", cuda_version(runtime));
  v.emplace_back("cuda driver", driver ? cuda_version(driver) : "none");
  size_t cudnn = cudnnGetVersion();
  v.emplace_back("cudnn", std::to_string(cudnn / 10000) + "." + std::to_string(cudnn / 100 % 100) + "." +
                              std::to_string(cudnn % 100));
  int nccl = 0;
  ncclGetVersion(&nccl);
  v.emplace_back("nccl", std::to_string(nccl / 10000) + "." + std::to_string(nccl / 100 % 100) + "." +
                             std::to_string(nccl % 100));
#endif
  return v;
}

std::vector<std::string> describe_cuda_devices() {
  std::vector<std::string> out;
#ifdef ALEXNET_HAVE_CUDA
  for (int i = 0; i < cuda_device_count(); ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    out.push_back("cuda:" + std::to_string(i) + " " + p.name + ", " + std::to_string(p.totalGlobalMem >> 20) +
                  " MiB, sm_" + std::to_string(p.major) + std::to_string(p.minor));
  }
#endif
  return out;
}

}  // namespace alexnet
