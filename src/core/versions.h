// What this binary was built from and runs on, for run manifests and `alexnet version`.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace alexnet {

// ("alexnet", "0.1.0"), ("git", revision), ("hdf5", ...), ("openblas", ...), and with CUDA:
// ("cuda runtime", ...), ("cuda driver", ...), ("cudnn", ...), ("nccl", ...).
std::vector<std::pair<std::string, std::string>> library_versions();
// One line per visible CUDA device: index, name, memory, compute capability.
std::vector<std::string> describe_cuda_devices();
// The backends this build has: "cpu", or "cpu, cuda (cuDNN 9.x.y, NCCL 2.x.y)".
std::string backends();

}  // namespace alexnet
