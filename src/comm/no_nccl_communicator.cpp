// make_nccl_communicator() in a build without the CUDA backend.
#include "comm/communicator.h"
#include "core/errors.h"

namespace alexnet {

std::unique_ptr<Communicator> make_nccl_communicator(const std::vector<Device>&, bool) {
  throw UserError(
      "--comm nccl: this build has no CUDA backend (build with the CUDA toolkit, cuDNN and NCCL)");
}

}  // namespace alexnet
