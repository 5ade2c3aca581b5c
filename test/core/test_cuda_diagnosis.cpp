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

TEST(CudaDiagnosis, CudnnLoadedMustBeTheSameMajorAndNoOlderMinor) {
  EXPECT_EQ(cudnn_version_mismatch(91900, 91900, "/x/libcudnn.so.9"), "");
  EXPECT_EQ(cudnn_version_mismatch(91000, 91902, "/x/libcudnn.so.9"), "");  // newer minor serves
  const std::string older = cudnn_version_mismatch(91900, 90100, "/wheel/nvidia/cudnn/lib/libcudnn.so.9");
  EXPECT_TRUE(has(older, "compiled against cuDNN 9.19.0")) << older;
  EXPECT_TRUE(has(older, "loaded cuDNN 9.1.0 from /wheel/nvidia/cudnn/lib/libcudnn.so.9")) << older;
  EXPECT_TRUE(has(older, "is older")) << older;
  const std::string major = cudnn_version_mismatch(91900, 8907, "/usr/lib/libcudnn.so.8");
  EXPECT_TRUE(has(major, "cuDNN 8.9.7")) << major;
  EXPECT_TRUE(has(major, "another major version")) << major;
}

TEST(CudaDiagnosis, DeviceCountGivesAReasonWhenThereAreNone) {
  std::string why;
  const int n = cuda_device_count(&why);  // this machine: none, or a GPU; never a fault in CI
  if (n == 0) EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace alexnet::detail
