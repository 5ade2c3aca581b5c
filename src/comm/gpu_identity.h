// Which GPU a rank drives, told by the GPU's identity rather than its ordinal.
//
// An ordinal ("cuda:0") names a GPU only among those a process sees: under Slurm's
// --gpus-per-task every rank's GPU is its cuda:0, and two CUDA_VISIBLE_DEVICES masks can show one
// GPU as cuda:0 to one rank and cuda:1 to another. The UUID the driver reports (cudaDeviceProp::uuid,
// "GPU-..." or, for a MIG instance, that instance's) is the same for every process that sees the
// GPU and differs between GPUs, on one host or many, so two ranks share a GPU exactly when their
// UUIDs are equal. Plain C++: the UUID itself comes from core/cuda_backend.h.
#pragma once

#include <string>
#include <vector>

namespace alexnet {

struct RankGpu {
  std::string uuid;  // "GPU-8d6a...", from the driver
  std::string host;  // for messages
  int ordinal = -1;  // as this rank sees it, for messages
};

// One line for the store or an all-gather, and back. decode() throws std::runtime_error on a
// line encode() did not make.
std::string encode_rank_gpu(const RankGpu& gpu);
RankGpu decode_rank_gpu(const std::string& line);

// The first two ranks (in rank order) whose GPUs are one, as "ranks 0 and 3 share GPU GPU-8d6a...
// (host-a cuda:0 and host-a cuda:1)"; empty when every rank has a GPU of its own.
std::string shared_gpu(const std::vector<RankGpu>& ranks);

}  // namespace alexnet
