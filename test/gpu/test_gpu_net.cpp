// The whole net on a GPU: split on one GPU equals single on one GPU; a GPU training step equals
// the CPU's, for alexnet-mini and for the paper's net (227x227, conv1's 11x11/4, the 96- and
// 256-channel LRNs, fc6's 9216x4096); deterministic runs repeat bit for bit; the communicators'
// collectives round-trip on whatever GPUs exist; and the CUDA errors a user can cause name the
// device and what to do. cuDNN's algorithms are pinned to its heuristic (deterministic) choice,
// so that a failure is the code's and repeats.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>

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

const BackendOptions kPinned{.deterministic = true};

PlacedNet build(Placement placement, std::vector<Device> devices, const std::string& comm = "auto") {
  return testing::place(
      {.placement = placement, .batch = kBatch, .devices = devices, .comm = comm, .backend = kPinned});
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

// --- the paper's net ---------------------------------------------------------------------------

constexpr int kPaperBatch = 2;

// A batch for the paper's 3x227x227 input: pixels as mean subtraction leaves them (about
// [-100, 100]), labels spread over the 1000 classes.
Batch paper_batch(uint64_t seed) {
  Batch b{testing::random_tensor({kPaperBatch, 3, 227, 227}, seed, -100.0f, 100.0f), {}};
  for (int i = 0; i < kPaperBatch; ++i)
    b.labels.push_back(static_cast<int32_t>((seed * 389 + i * 577) % 1000));
  return b;
}

PlacedNet paper(std::vector<Device> devices) {
  return testing::place({.placement = Placement::kSplit,
                         .batch = kPaperBatch,
                         .devices = devices,
                         .preset = "alexnet",
                         .backend = kPinned});
}

// The tolerance of a GPU step against the CPU's, from the reduction lengths. An FP32 sum of L
// terms, in any order, is off by at most about L u of the sum of its terms' magnitudes (u = 2^-24),
// and to first order the relative errors of the layers a gradient passes through add up. The
// paper's net sums, per output: forward 363 (conv1: 3 x 11 x 11), 1200 (conv2: 48 x 5 x 5), 2304
// (conv3), 1728 (conv4, conv5), 9216 (fc6), 4096 (fc7, fc8); backward-data 2304 (conv2's input
// gradient: 128 x 5 x 5 ... up to fc's 4096); backward-filter the batch's positions (conv1: 2 x 55
// x 55 = 6050). Their sum, about 6.5e4, times u is 3.9e-3: the worst case, where rounding errors
// never cancel (they do, so real errors are far smaller), and still far below the O(1) relative
// error of a wrong index or a missing term.
float paper_rtol() {
  const int64_t forward = 363 + 1200 + 2304 + 1728 + 1728 + 9216 + 4096 + 4096;
  const int64_t data = 1200 + 2304 + 1728 + 1728 + 9216 + 4096 + 4096;
  const int64_t filter = 2 * 55 * 55 + 2 * 27 * 27 + 3 * 2 * 13 * 13 + 3 * kPaperBatch;
  return static_cast<float>(std::ldexp(static_cast<double>(forward + data + filter), -24));
}

// Weights N(0, 0.01) and equal fc8 biases start the softmax near uniform: with logits of spread
// sigma the loss is about ln 1000 + sigma^2 / 2. Within 0.5 of ln 1000 allows sigma up to 1; a
// broken layer (LRN's alpha off by n, a wrong stride) shows as a NaN or a spread far beyond.
constexpr double kNearLn1000 = 0.5;

// The same check on the CPU, which also keeps the GPU test's threshold honest where no GPU is.
TEST(PaperNet, StepZeroLossIsNearLn1000OnTheCpu) {
  PlacedNet cpu = paper({Device::cpu(), Device::cpu()});
  Batch in = paper_batch(1);
  const double loss = cpu.net->forward(in.images.view(), in.labels.data(), {.training = true, .seed = kSeed});
  EXPECT_NEAR(loss, std::log(1000.0), kNearLn1000) << "step-0 loss";
}

TEST(GpuNet, PaperNetStepZeroLossIsNearLn1000) {
  SKIP_WITHOUT_GPU();
  PlacedNet gpu = paper({Device::cuda(0), Device::cuda(0)});
  Batch in = paper_batch(1);
  const double loss = gpu.net->forward(in.images.view(), in.labels.data(), {.training = true, .seed = kSeed});
  EXPECT_TRUE(std::isfinite(loss)) << loss;
  EXPECT_NEAR(loss, std::log(1000.0), kNearLn1000) << "step-0 loss";
  std::printf("paper net, batch %d, split on cuda:0,cuda:0: step-0 loss %.6f (ln 1000 = %.6f)\n", kPaperBatch,
              loss, std::log(1000.0));
}

TEST(GpuNet, PaperNetStepOnOneGpuEqualsTheCpuStep) {
  SKIP_WITHOUT_GPU();
  PlacedNet gpu = paper({Device::cuda(0), Device::cuda(0)});
  PlacedNet cpu = paper({Device::cpu(), Device::cpu()});
  Batch in = paper_batch(2);
  StepContext ctx{.training = true, .seed = kSeed, .step = 0};
  const double lg = gpu.net->forward(in.images.view(), in.labels.data(), ctx);
  const double lc = cpu.net->forward(in.images.view(), in.labels.data(), ctx);
  const float rtol = paper_rtol();
  EXPECT_NEAR(lg, lc, rtol * std::abs(lc)) << "loss";
  gpu.net->backward(ctx);
  cpu.net->backward(ctx);
  SgdConfig sgd{.learning_rate = 0.01f};
  Sgd gpu_sgd(*gpu.net, sgd), cpu_sgd(*cpu.net, sgd);
  gpu_sgd.step();
  cpu_sgd.step();
  // After the update w' = w - lr (g + wd w): w agrees exactly (same draws), so w' differs by lr
  // times the gradients' difference, bounded by rtol of the largest gradient.
  for (const std::string& name : {"conv1.weight", "conv2.weight", "conv3.weight", "conv5.weight",
                                  "fc6.weight", "fc7.weight", "fc8.weight", "fc8.bias"}) {
    const std::vector<float> gg = gpu.net->read_param(name, true), gc = cpu.net->read_param(name, true);
    EXPECT_TRUE(testing::gpu_agrees(gg, gc, rtol)) << name << " gradient, rtol " << rtol;
    float largest = 0;
    for (float v : gc) largest = std::max(largest, std::abs(v));
    const std::vector<float> wg = gpu.net->read_param(name), wc = cpu.net->read_param(name);
    EXPECT_TRUE(testing::all_close(wg, wc, sgd.learning_rate * rtol * largest + 1e-7f, 1e-6f))
        << name << " after the update";
  }
}

// Two nets built apart from one seed (their own cuDNN handles and algorithm choice) and trained
// three steps with --deterministic: the same weights, bit for bit.
TEST(GpuNet, DeterministicRunsRepeatBitForBit) {
  SKIP_WITHOUT_GPU();
  std::vector<std::vector<float>> finals;
  for (int run = 0; run < 2; ++run) {
    PlacedNet p = build(Placement::kSplit, {Device::cuda(0), Device::cuda(0)});
    Sgd sgd(*p.net, {.learning_rate = 0.05f});
    for (int step = 0; step < 3; ++step) {
      Batch in = batch(10 + step);
      StepContext ctx{.training = true, .seed = kSeed, .step = static_cast<uint64_t>(step)};
      p.net->forward(in.images.view(), in.labels.data(), ctx);
      p.net->backward(ctx);
      sgd.step();
    }
    std::vector<float> all;
    for (const std::string& name : kCompared)
      for (float v : p.net->read_param(name)) all.push_back(v);
    finals.push_back(std::move(all));
  }
  ASSERT_EQ(finals[0].size(), finals[1].size());
  EXPECT_EQ(std::memcmp(finals[0].data(), finals[1].data(), finals[0].size() * sizeof(float)), 0);
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
    if (name == "nccl") return version.substr(0, version.find(' '));  // "2.28.9 (built with ...), path"
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
