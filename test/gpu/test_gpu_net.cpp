// The whole net on a GPU: split on one GPU equals single on one GPU; a GPU training step equals
// the CPU's; the communicators' collectives round-trip on whatever GPUs exist; and the CUDA
// errors a user can cause name the device and what to do.
#include <gtest/gtest.h>

#include <cstdio>

#include "comm/communicator.h"
#include "core/errors.h"
#include "core/versions.h"
#include "gpu_testing.h"
#include "layers/conv.h"
#include "net/net_testing.h"
#include "train/sgd.h"

namespace alexnet {
namespace {

constexpr int kBatch = 8;
constexpr uint64_t kSeed = 2012;

using testing::PlacedNet;
using Batch = testing::TestBatch;

PlacedNet build(Placement placement, std::vector<Device> devices, const std::string& comm = "auto") {
  return testing::place({.placement = placement, .batch = kBatch, .devices = devices, .comm = comm});
}

Batch batch(uint64_t seed) {
  return testing::mini_batch(kBatch, seed);
}

const std::vector<std::string> kCompared = {"conv1.weight", "conv3.weight", "fc6.weight", "fc8.bias"};

// One forward and backward with dropout on; loss, logits and gradients agree within rtol.
void expect_same_step(Net& a, Net& b, float rtol) {
  Batch in = batch(5);
  StepContext ctx{.training = true, .seed = kSeed, .step = 3};
  double la = a.forward(in.images.view(), in.labels.data(), ctx);
  double lb = b.forward(in.images.view(), in.labels.data(), ctx);
  EXPECT_NEAR(la, lb, rtol * std::abs(lb));
  EXPECT_TRUE(testing::gpu_agrees(a.activation("fc8"), b.activation("fc8"), rtol)) << "logits";
  a.backward(ctx);
  b.backward(ctx);
  for (const std::string& name : kCompared)
    EXPECT_TRUE(testing::gpu_agrees(a.read_param(name, true), b.read_param(name, true), rtol)) << name;
}

TEST(GpuNet, SplitOnOneGpuEqualsSingleOnOneGpu) {
  SKIP_WITHOUT_GPU();
  PlacedNet split = build(Placement::kSplit, {Device::cuda(0), Device::cuda(0)});
  PlacedNet single = build(Placement::kSingle, {Device::cuda(0)});
  EXPECT_STREQ(split.comm->kind(), "local");
  expect_same_step(*split.net, *single.net, 1e-3f);
}

TEST(GpuNet, TrainingStepEqualsTheCpuStep) {
  SKIP_WITHOUT_GPU();
  PlacedNet gpu = build(Placement::kSplit, {Device::cuda(0), Device::cuda(0)});
  PlacedNet cpu = build(Placement::kSplit, {Device::cpu(), Device::cpu()});
  expect_same_step(*gpu.net, *cpu.net, 1e-3f);
  // Then one SGD update on each: the weights still agree.
  Sgd gpu_sgd(*gpu.net, {.learning_rate = 0.05f}), cpu_sgd(*cpu.net, {.learning_rate = 0.05f});
  gpu_sgd.step();
  cpu_sgd.step();
  for (const std::string& name : kCompared)
    EXPECT_TRUE(testing::gpu_agrees(gpu.net->read_param(name), cpu.net->read_param(name), 1e-4f)) << name;
}

TEST(GpuNet, SplitOnTwoGpusWithNcclEqualsSingle) {
  SKIP_WITHOUT_GPU();
  if (cuda_device_count() < 2)
    GTEST_SKIP() << "needs two CUDA devices, " << cuda_device_count() << " visible";
  PlacedNet split = build(Placement::kSplit, {Device::cuda(0), Device::cuda(1)});
  PlacedNet single = build(Placement::kSingle, {Device::cuda(0)});
  EXPECT_STREQ(split.comm->kind(), "nccl");
  expect_same_step(*split.net, *single.net, 1e-3f);
}

// all-gather then reduce-scatter of known blocks through `comm`, towers on `devices`.
void expect_round_trip(Communicator& comm, const std::vector<Device>& devices) {
  const int n = static_cast<int>(devices.size());
  const int64_t count = 1000;
  std::vector<Stream> streams;
  std::vector<const Stream*> ptrs;
  std::vector<Tensor> send, gathered, reduced;
  for (int t = 0; t < n; ++t) streams.emplace_back(devices[t]);
  for (int t = 0; t < n; ++t) {
    ptrs.push_back(&streams[t]);
    send.push_back(Tensor::from_host({count}, std::vector<float>(count, float(t + 1)), devices[t]));
    gathered.push_back(Tensor({n * count}, devices[t]));
    reduced.push_back(Tensor({count}, devices[t]));
  }
  std::vector<ConstView> s, g_in;
  std::vector<View> g, r;
  for (int t = 0; t < n; ++t) {
    s.push_back(send[t].view());
    g.push_back(gathered[t].view());
    g_in.push_back(gathered[t].view());
    r.push_back(reduced[t].view());
  }
  comm.all_gather(s, g, ptrs);
  comm.reduce_scatter(g_in, r, ptrs);
  for (auto& st : streams) st.synchronize();
  for (int t = 0; t < n; ++t) {
    std::vector<float> got = gathered[t].to_host();
    for (int b = 0; b < n; ++b)
      EXPECT_EQ(got[b * count + 7], float(b + 1)) << "tower " << t << " block " << b;
    // Every tower holds every block, so the sum of block t over towers is n * (t + 1).
    EXPECT_EQ(reduced[t].to_host(), std::vector<float>(count, float(n * (t + 1)))) << "tower " << t;
  }
}

TEST(GpuComm, LocalCommunicatorRoundTripsOnOneGpu) {
  SKIP_WITHOUT_GPU();
  std::vector<Device> devices = {Device::cuda(0), Device::cuda(0)};
  auto comm = make_local_communicator(devices);
  expect_round_trip(*comm, devices);
}

TEST(GpuComm, NcclRoundTripsOnEveryVisibleGpu) {
  SKIP_WITHOUT_GPU();
  std::vector<Device> devices;
  for (int d = 0; d < cuda_device_count(); ++d) devices.push_back(Device::cuda(d));
  auto comm = make_nccl_communicator(devices, false);  // one GPU: a single rank, still through NCCL
  expect_round_trip(*comm, devices);
}

// The NCCL this process loaded, "major.minor.patch".
std::string nccl_version() {
  for (const auto& [name, version] : library_versions())
    if (name == "nccl") return version;
  return "";
}

TEST(NcclCommunicator, MultiRankGpuFlagIsRefusedBeforeNccl230) {
  if (!cuda_built()) GTEST_SKIP() << "this build has no CUDA backend";
  const std::string version = nccl_version();
  int major = 0, minor = 0;
  ASSERT_EQ(std::sscanf(version.c_str(), "%d.%d", &major, &minor), 2) << version;
  if (major > 2 || (major == 2 && minor >= 30)) GTEST_SKIP() << "NCCL " << version << " has the mode";
  try {
    make_nccl_communicator({Device::cuda(0), Device::cuda(0)}, true);
    FAIL() << "the flag was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("NCCL >= 2.30"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(version), std::string::npos) << e.what();
  }
}

TEST(CudaErrors, AMissingDeviceIsNamed) {
  if (!cuda_built()) GTEST_SKIP() << "this build has no CUDA backend";
  Device missing = Device::cuda(cuda_device_count());
  try {
    make_conv({.in_channels = 3, .out_channels = 4, .kernel = 3}, missing);
    FAIL() << "a conv on " << missing.str() << " was made";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(missing.str()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("visible"), std::string::npos) << e.what();
  }
}

TEST(CudaErrors, ACpuOnlyBuildRefusesCudaLayersAndNcclAsUserErrors) {
  if (cuda_built()) GTEST_SKIP() << "this build has the CUDA backend";
  const std::string wording = "this build has no CUDA backend; rebuild with the CUDA toolkit";
  try {
    make_conv({.in_channels = 3, .out_channels = 4, .kernel = 3}, Device::cuda(0));
    FAIL() << "a conv on cuda:0 was made";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("conv on cuda:0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(wording), std::string::npos) << e.what();
  }
  try {
    make_nccl_communicator({Device::cuda(0), Device::cuda(1)}, false);
    FAIL() << "an NCCL communicator was made";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("--comm nccl"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(wording), std::string::npos) << e.what();
  }
}

TEST(GpuErrors, OutOfMemorySaysHowMuchAndSuggestsASmallerBatch) {
  SKIP_WITHOUT_GPU();
  try {
    DeviceBuffer huge(size_t{1} << 50, Device::cuda(0));  // 1 PiB
    FAIL() << "1 PiB was allocated";
  } catch (const std::exception& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("out of memory on cuda:0"), std::string::npos) << m;
    EXPECT_NE(m.find("1073741824 MiB"), std::string::npos) << m;
    EXPECT_NE(m.find("--batch"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace alexnet
