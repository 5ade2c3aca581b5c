// The shared-GPU check reads GPUs by UUID: under Slurm's --gpus-per-task every rank's GPU is its
// cuda:0 (not shared), and two masks can show one GPU under two ordinals (shared). The UUIDs here
// stand in for what the driver reports.
#include <gtest/gtest.h>

#include <stdexcept>

#include "comm/gpu_identity.h"

namespace alexnet {
namespace {

const std::string kGpuA = "GPU-8d6a3f2e-0c1b-4a57-9e2d-1f0a6b7c8d9e";
const std::string kGpuB = "GPU-11111111-2222-3333-4444-555555555555";

TEST(GpuIdentity, EveryRankOnItsOwnCuda0IsNotShared) {
  // --gpus-per-task=1: two ranks of one host, each sees its own GPU as cuda:0.
  EXPECT_EQ(shared_gpu({{kGpuA, "node1", 0}, {kGpuB, "node1", 0}}), "");
}

TEST(GpuIdentity, OneGpuUnderTwoOrdinalsIsShared) {
  // CUDA_VISIBLE_DEVICES=1,0 for one rank and 0,1 for the other: cuda:1 and cuda:0 are one GPU.
  const std::string s = shared_gpu({{kGpuB, "node1", 0}, {kGpuA, "node1", 1}, {kGpuA, "node1", 0}});
  EXPECT_EQ(s, "ranks 1 and 2 share GPU " + kGpuA + " (node1 cuda:1 and node1 cuda:0)");
}

TEST(GpuIdentity, TheSameOrdinalOnTwoHostsIsNotShared) {
  EXPECT_EQ(shared_gpu({{kGpuA, "node1", 0}, {kGpuB, "node2", 0}}), "");
  EXPECT_EQ(shared_gpu({}), "");
  EXPECT_EQ(shared_gpu({{kGpuA, "node1", 0}}), "");
}

TEST(GpuIdentity, EncodesAndDecodes) {
  const RankGpu g{kGpuA, "node-7.cluster", 3};
  const RankGpu back = decode_rank_gpu(encode_rank_gpu(g));
  EXPECT_EQ(back.uuid, g.uuid);
  EXPECT_EQ(back.host, g.host);
  EXPECT_EQ(back.ordinal, 3);
  EXPECT_THROW(decode_rank_gpu("GPU-x"), std::runtime_error);
  EXPECT_THROW(decode_rank_gpu("GPU-x\thost\tzero"), std::runtime_error);
}

}  // namespace
}  // namespace alexnet
