// The words for what the CUDA runtime and cuDNN report at start-up (core/cuda_diagnosis.h): plain
// C++, so checked here on the CPU; the CUDA side only fills in the numbers.
#include <gtest/gtest.h>

#include "core/cuda_backend.h"
#include "core/cuda_diagnosis.h"

namespace alexnet::detail {
namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

DeviceCountFailure insufficient_driver(int driver) {
  DeviceCountFailure f;
  f.error_name = "cudaErrorInsufficientDriver";
  f.description = "CUDA driver version is insufficient for CUDA runtime version";
  f.driver_too_old = true;
  f.driver_version = driver;
  f.runtime_version = 13000;
  return f;
}

TEST(CudaDiagnosis, NoDriverAtAllIsNoDevicesNotAnError) {
  // What this machine's runtime says with no libcuda.so.1: InsufficientDriver, driver version 0.
  EXPECT_TRUE(has(no_devices_reason(insufficient_driver(0)), "no NVIDIA driver is installed"));
  DeviceCountFailure none;
  none.no_device = true;
  EXPECT_EQ(no_devices_reason(none), "the NVIDIA driver sees no device");
}

TEST(CudaDiagnosis, ADriverTooOldNamesBothVersionsAndCudasError) {
  const DeviceCountFailure f = insufficient_driver(12040);
  EXPECT_EQ(no_devices_reason(f), "");  // an error, not "no GPU"
  const std::string m = device_count_error(f);
  EXPECT_TRUE(has(m, "driver is too old")) << m;
  EXPECT_TRUE(has(m, "supports CUDA 12.4 at most")) << m;
  EXPECT_TRUE(has(m, "runtime is CUDA 13.0")) << m;
  EXPECT_TRUE(has(m, "cudaErrorInsufficientDriver")) << m;
}

TEST(CudaDiagnosis, AnyOtherFailureCarriesCudasOwnWords) {
  DeviceCountFailure f;
  f.error_name = "cudaErrorDevicesUnavailable";
  f.description = "CUDA-capable device(s) is/are busy or unavailable";
  f.driver_version = 13000;
  f.runtime_version = 13000;
  EXPECT_EQ(no_devices_reason(f), "");
  const std::string m = device_count_error(f);
  EXPECT_TRUE(has(m, "cudaErrorDevicesUnavailable (CUDA-capable device(s) is/are busy or unavailable)")) << m;
  EXPECT_TRUE(has(m, "nvidia-smi")) << m;
}

TEST(CudaDiagnosis, CudnnVersionsDecodeInBothEncodings) {
  EXPECT_EQ(decode_cudnn_version(91900).str(), "9.19.0");
  EXPECT_EQ(decode_cudnn_version(8907).str(), "8.9.7");
}

// cuDNN: the same major version, and what the calls need (9.0 for the legacy API), not the
// header's minor: a wheel's 9.1 runs a build made against 9.19.
TEST(CudaDiagnosis, CudnnLoadedMustBeTheSameMajorAndHaveWhatTheCallsNeed) {
  EXPECT_EQ(cudnn_version_problem(91900, 91900, "/x/libcudnn.so.9"), "");
  EXPECT_EQ(cudnn_version_problem(91000, 91902, "/x/libcudnn.so.9"), "");  // newer minor serves
  EXPECT_EQ(cudnn_version_problem(91900, 90100, "/wheel/nvidia/cudnn/lib/libcudnn.so.9"), "");  // older too
  EXPECT_EQ(cudnn_version_problem(91900, 90000, "/x/libcudnn.so.9"), "");
  const std::string major = cudnn_version_problem(91900, 8907, "/usr/lib/libcudnn.so.8");
  EXPECT_TRUE(has(major, "compiled against cuDNN 9.19.0")) << major;
  EXPECT_TRUE(has(major, "loaded cuDNN 8.9.7 from /usr/lib/libcudnn.so.8")) << major;
  EXPECT_TRUE(has(major, "another major version")) << major;
  // Every need in the table is met by the version it names, and refused one below it, by name.
  for (size_t i = 0; i < kCudnnNeedCount; ++i) {
    const size_t v = kCudnnNeeds[i].version;
    EXPECT_EQ(cudnn_version_problem(v, v, "/x"), "");
    if (v % 10000 == 0) continue;  // x.0.0: one below is another major version, checked above
    const std::string old = cudnn_version_problem(v, v - 1, "/x");
    EXPECT_TRUE(has(old, kCudnnNeeds[i].calls)) << old;
  }
}

TEST(CudaDiagnosis, NcclLoadedMustHaveTheCallsWeMake) {
  EXPECT_EQ(nccl_version_text(22809), "2.28.9");
  EXPECT_EQ(nccl_version_text(2804), "2.8.4");
  EXPECT_EQ(nccl_version_problem(22809, "/x/libnccl.so.2"), "");
  EXPECT_EQ(nccl_version_problem(21801, "/x/libnccl.so.2"), "");
  const std::string old = nccl_version_problem(21703, "/usr/lib/libnccl.so.2");
  EXPECT_TRUE(has(old, "loaded NCCL 2.17.3 from /usr/lib/libnccl.so.2")) << old;
  EXPECT_TRUE(has(old, "ncclCommSplit")) << old;
  EXPECT_FALSE(has(old, "ncclCommInitRankConfig")) << old;  // 2.17 has that one
  EXPECT_TRUE(has(old, "NCCL 2.18.1 or newer")) << old;
  EXPECT_TRUE(has(nccl_version_problem(21300, "/x"), "ncclCommInitRankConfig"))
      << nccl_version_problem(21300, "/x");
}

TEST(CudaDiagnosis, GpuUuidsPrintAsNvidiaSmiDoes) {
  const unsigned char b[16] = {0x8d, 0x6a, 0x3f, 0x2e, 0x0c, 0x1b, 0x4a, 0x57,
                               0x9e, 0x2d, 0x1f, 0x0a, 0x6b, 0x7c, 0x8d, 0x9e};
  EXPECT_EQ(gpu_uuid_text(b), "GPU-8d6a3f2e-0c1b-4a57-9e2d-1f0a6b7c8d9e");
}

TEST(CudaDiagnosis, DeviceCountGivesAReasonWhenThereAreNone) {
  std::string why;
  const int n = cuda_device_count(&why);  // this machine: none, or a GPU; never a fault in CI
  if (n == 0) EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace alexnet::detail
