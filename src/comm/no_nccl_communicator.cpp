// make_nccl_communicator() in a build without the CUDA backend: the wording of
// core/cuda_backend.h (a UserError: exit status 2).
#include "comm/communicator.h"
#include "core/cuda_backend.h"

namespace alexnet {

std::unique_ptr<Communicator> make_nccl_communicator(const std::vector<Device>&, bool) {
  throw no_cuda_backend("--comm nccl");
}

}  // namespace alexnet
