#include <gtest/gtest.h>

#include <stdexcept>

#include "core/device.h"
#include "core/errors.h"
#include "core/host_buffer.h"
#include "core/shape.h"
#include "core/stream.h"
#include "core/tensor.h"
#include "testing.h"

namespace alexnet {
namespace {

TEST(Device, ParsesCpuAndCuda) {
  EXPECT_TRUE(Device::parse("cpu").is_cpu());
  Device d = Device::parse("cuda:1");
  EXPECT_TRUE(d.is_cuda());
  EXPECT_EQ(d.index, 1);
  EXPECT_EQ(d.str(), "cuda:1");
}

TEST(Device, RejectsMalformedNamesWithTheText) {
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:1x", "CPU"}) {
    try {
      Device::parse(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(Shape, CountsAndPrints) {
  Shape s{2, 3, 5, 7};
  EXPECT_EQ(s.rank(), 4);
  EXPECT_EQ(s.numel(), 210);
  EXPECT_EQ(s.item_numel(), 105);
  EXPECT_EQ(s.str(), "[2, 3, 5, 7]");
  EXPECT_EQ(s, (Shape{2, 3, 5, 7}));
  EXPECT_NE(s, (Shape{2, 3, 35}));
  EXPECT_EQ(Shape{}.numel(), 0);
}

TEST(Tensor, RoundTripsHostValues) {
  std::vector<float> v = {1, 2, 3, 4, 5, 6};
  Tensor t = Tensor::from_host({2, 3}, v);
  EXPECT_EQ(t.to_host(), v);
  t.zero();
  EXPECT_EQ(t.to_host(), std::vector<float>(6, 0.0f));
}

TEST(Tensor, MoveLeavesTheSourceEmpty) {
  Tensor a = Tensor::zeros({4});
  const float* p = a.data();
  Tensor b = std::move(a);
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
}

TEST(Tensor, HostMemoryIsCacheLineAligned) {
  Tensor t({3, 5});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
}

TEST(Tensor, CudaDeviceThatIsNotThereIsAClearError) {
  // In a CPU build and on a machine without that device alike, asking for it names the device.
  int count = cuda_device_count();
  try {
    Tensor t({16}, Device::cuda(count));
    ADD_FAILURE() << "allocation on a missing device succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:" + std::to_string(count)), std::string::npos) << e.what();
  }
}

// The one wording of a CPU-only build, wherever CUDA is asked for (core/cuda_backend.h).
void expect_no_cuda_backend(const UserError& e, const std::string& what) {
  const std::string m = e.what();
  EXPECT_NE(m.find(what), std::string::npos) << m;
  EXPECT_NE(m.find("this build has no CUDA backend; rebuild with the CUDA toolkit, cuDNN and NCCL"),
            std::string::npos)
      << m;
}

TEST(NoCudaBuild, DeviceMemoryStreamsAndEventsAreAUserError) {
  if (cuda_built()) GTEST_SKIP() << "this build has the CUDA backend";
  const Device gpu = Device::cuda(0);
  try {
    Tensor t({16}, gpu);
    ADD_FAILURE() << "a tensor on cuda:0 was allocated";
  } catch (const UserError& e) {
    expect_no_cuda_backend(e, "device cuda:0");
  }
  try {
    Stream s(gpu);
    ADD_FAILURE() << "a stream on cuda:0 was made";
  } catch (const UserError& e) {
    expect_no_cuda_backend(e, "cuda:0");
  }
  try {
    Event e(gpu);
    ADD_FAILURE() << "an event on cuda:0 was made";
  } catch (const UserError& e) {
    expect_no_cuda_backend(e, "cuda:0");
  }
}

TEST(NoCudaBuild, TheNeutralAnswers) {
  if (cuda_built()) GTEST_SKIP() << "this build has the CUDA backend";
  EXPECT_EQ(cuda_device_count(), 0);
  EXPECT_EQ(peak_device_bytes(Device::cuda(0)), 0u);
  HostBuffer b(1000, /*want_pinned=*/true);  // no device to pin for: ordinary aligned memory
  EXPECT_FALSE(b.pinned());
  ASSERT_NE(b.data(), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u);
}

TEST(Stream, CpuStreamAndEventsRunInline) {
  Stream s;
  Event start(Device::cpu(), true), end(Device::cpu(), true);
  start.record(s);
  end.record(s);
  end.make_wait(s);
  s.synchronize();
  EXPECT_GE(end.elapsed_ms_since(start), 0.0f);
  EXPECT_EQ(s.handle(), nullptr);
}

TEST(GpuTensor, CopiesBetweenHostAndDevice) {
  SKIP_WITHOUT_GPU();
  std::vector<float> v = testing::uniform(1000, 3);
  Tensor d = Tensor::from_host({10, 100}, v, Device::cuda(0));
  EXPECT_EQ(d.to_host(), v);
  Tensor e({10, 100}, Device::cuda(0));
  copy(d.view(), e.view());
  EXPECT_EQ(e.to_host(), v);
}

TEST(GpuTensor, PeakDeviceMemoryCountsOurBuffers) {
  SKIP_WITHOUT_GPU();
  const Device d = Device::cuda(0);
  const size_t before = peak_device_bytes(d), more = size_t{64} << 20;
  { DeviceBuffer a(before + more, d); }  // at least `more` above any earlier peak
  EXPECT_GE(peak_device_bytes(d), before + more);
}

TEST(GpuStream, EventsTimeWorkOnAStream) {
  SKIP_WITHOUT_GPU();
  Stream s(Device::cuda(0));
  Event start(Device::cuda(0), true), end(Device::cuda(0), true);
  start.record(s);
  end.record(s);
  end.synchronize();
  EXPECT_GE(end.elapsed_ms_since(start), 0.0f);
}

}  // namespace
}  // namespace alexnet
