// The run figures (train/run_metrics.h): the training FLOPs MFU counts, the peak it divides by
// (the flag, a measured sgemm on the CPU, the datasheet table for GPUs), and the memory read.
#include <gtest/gtest.h>

#include "net/net_testing.h"
#include "net/network_file.h"
#include "train/run_metrics.h"

namespace alexnet {
namespace {

TEST(RunMetrics, TrainingFlopsAreSixTimesTheForwardMacs) {
  const Plan plan = make_plan(testing::preset_network("alexnet-mini"), {.placement = Placement::kSingle});
  EXPECT_EQ(training_flops_per_image(plan), 6.0 * static_cast<double>(plan.macs_per_item()));
  EXPECT_GT(plan.macs_per_item(), 1'000'000);
}

TEST(RunMetrics, KnownChipsHaveTheirDatasheetPeaksAndOthersNone) {
  EXPECT_DOUBLE_EQ(gpu_peak_flops("NVIDIA H100 80GB HBM3", MathMode::kFp32), 67e12);
  EXPECT_DOUBLE_EQ(gpu_peak_flops("NVIDIA H100 80GB HBM3", MathMode::kTf32), 494.7e12);
  EXPECT_DOUBLE_EQ(gpu_peak_flops("NVIDIA H100 PCIe", MathMode::kFp32), 51e12);
  EXPECT_DOUBLE_EQ(gpu_peak_flops("NVIDIA H200", MathMode::kFp32), 67e12);
  EXPECT_DOUBLE_EQ(gpu_peak_flops("NVIDIA A100-SXM4-80GB", MathMode::kTf32), 156e12);
  EXPECT_EQ(gpu_peak_flops("NVIDIA GeForce GTX 580", MathMode::kFp32), 0);  // the paper's, not in the table
}

TEST(RunMetrics, ThePeakIsTheFlagOrAMeasuredSgemmOnTheCpu) {
  const PeakFlops given = peak_flops({Device::cpu()}, {}, 123.5);
  EXPECT_DOUBLE_EQ(given.flops, 123.5e9);
  EXPECT_EQ(given.source, "--peak-gflops 123.5");
  const PeakFlops measured = peak_flops({Device::cpu(), Device::cpu()}, {}, 0);  // two towers, one CPU
  EXPECT_GT(measured.flops, 1e9) << measured.source;  // any CPU this runs on does a GFLOP/s
  EXPECT_NE(measured.source.find("sgemm 1024^3 measured"), std::string::npos) << measured.source;
}

TEST(RunMetrics, MemoryIsReadFromTheKernel) {
  const MemoryNow m = memory_now({Device::cpu()});
  EXPECT_GT(m.host_rss_mib, 1);
  EXPECT_GE(m.host_peak_mib, m.host_rss_mib * 0.99);
  EXPECT_EQ(m.device_mib, 0);
}

}  // namespace
}  // namespace alexnet
