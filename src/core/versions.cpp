#include "core/versions.h"

#include <cblas.h>
#include <hdf5.h>

#include "core/cuda_backend.h"

namespace alexnet {

std::vector<std::pair<std::string, std::string>> library_versions() {
  std::vector<std::pair<std::string, std::string>> v;
  v.emplace_back("alexnet", ALEXNET_VERSION);
  v.emplace_back("git", ALEXNET_GIT_REVISION);
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  v.emplace_back("hdf5", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
  v.emplace_back("openblas", openblas_get_config());
  for (auto& entry : detail::cuda_library_versions()) v.push_back(std::move(entry));
  return v;
}

std::vector<std::string> describe_cuda_devices() {
  return detail::cuda_describe_devices();
}

std::string backends() {
  return detail::cuda_built() ? "cpu, cuda (" + detail::cuda_built_with() + ")" : "cpu";
}

}  // namespace alexnet
