// make_nccl_communicator() in a build without the CUDA backend: the wording of
// core/cuda_backend.h (a UserError: exit status 2).
#include "comm/communicator.h"
#include "comm/process_groups.h"
#include "core/cuda_backend.h"

namespace alexnet {

std::unique_ptr<Communicator> make_nccl_communicator(const std::vector<Device>&, bool) {
  throw no_cuda_backend("--comm nccl");
}

ProcessGroups connect_gpu_groups(const LaunchInfo&, const RankGrid&, const ProcessOptions&, Device device,
                                 bool) {
  throw no_cuda_backend("--devices " + device.str() + " with many processes");
}

}  // namespace alexnet
