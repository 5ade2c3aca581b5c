// The metrics files: the bad_images column (damaged images skipped with --skip-bad-images), the
// run figures (MFU, memory, the ranks' step times; empty where not measured), an old run's CSV
// files gaining the columns on resume, and a write that fails (a full disk) stopping the run with
// the file named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/errors.h"
#include "data_testing.h"
#include "train/metrics.h"

namespace fs = std::filesystem;

namespace alexnet {
namespace {

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Row `row`'s field under header column `name`.
std::string field(const std::vector<std::string>& rows, size_t row, const std::string& name) {
  auto split = [](const std::string& line) {
    std::vector<std::string> out;
    std::stringstream in(line);
    for (std::string f; std::getline(in, f, ',');) out.push_back(f);
    if (!line.empty() && line.back() == ',') out.push_back("");
    return out;
  };
  const std::vector<std::string> header = split(rows.at(0)), values = split(rows.at(row));
  EXPECT_EQ(header.size(), values.size()) << rows.at(row);
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i < values.size() ? values[i] : "<missing>";
  ADD_FAILURE() << "no column " << name << " in " << rows.at(0);
  return "";
}

EpochMetrics epoch(int64_t e, int64_t bad) {
  EpochMetrics m;
  m.epoch = e;
  m.step = 10 * e;
  m.train_loss = 1.5;
  m.bad_images = bad;
  return m;
}

TEST(Metrics, EpochsCsvCountsBadImages) {
  testing::TempDir dir;
  {
    Metrics metrics(dir.path().string(), 0);
    metrics.log(epoch(1, 0));
    metrics.log(epoch(2, 3));
  }
  auto rows = lines(dir.file("metrics/epochs.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(field(rows, 1, "bad_images"), "0");
  EXPECT_EQ(field(rows, 2, "bad_images"), "3");
}

TEST(Metrics, StepRowsCarryTheRunFiguresAndLeaveTheUnmeasuredEmpty) {
  testing::TempDir dir;
  {
    Metrics metrics(dir.path().string(), 0);
    StepMetrics m{.step = 4, .epoch = 1, .loss = 2.0};
    m.mfu = 0.25;
    m.host_rss_mib = 300;
    m.device_mib = m.device_peak_mib = std::numeric_limits<double>::quiet_NaN();  // a CPU run
    m.step_ms_min = 10;
    m.step_ms_median = 11;
    m.step_ms_max = 14;
    m.slowest_rank = 3;
    metrics.log(m);
    m.step = 8;
    m.mfu = std::numeric_limits<double>::quiet_NaN();  // no known peak
    m.slowest_rank = -1;                               // one process
    metrics.log(m);
  }
  auto rows = lines(dir.file("metrics/steps.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(field(rows, 1, "mfu"), "0.25");
  EXPECT_EQ(field(rows, 1, "host_rss_mib"), "300");
  EXPECT_EQ(field(rows, 1, "device_mib"), "");
  EXPECT_EQ(field(rows, 1, "step_ms_max"), "14");
  EXPECT_EQ(field(rows, 1, "slowest_rank"), "3");
  EXPECT_EQ(field(rows, 2, "mfu"), "");
  EXPECT_EQ(field(rows, 2, "slowest_rank"), "");
}

TEST(Metrics, AnOldRunsStepsCsvGainsTheColumnsOnResume) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "metrics");
  std::ofstream(dir.file("metrics/steps.csv"))
      << "step,epoch,loss,top1_error,top5_error,lr,images_per_s,data_wait_s\n"
      << "4,1,2.5,0.9,0.5,0.01,300,0.1\n";
  {
    Metrics metrics(dir.path().string(), 4);
    metrics.log(StepMetrics{.step = 8, .epoch = 1, .loss = 2.0});
  }
  auto rows = lines(dir.file("metrics/steps.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(field(rows, 1, "loss"), "2.5");
  EXPECT_EQ(field(rows, 1, "mfu"), "");
  EXPECT_EQ(field(rows, 1, "slowest_rank"), "");
  EXPECT_EQ(field(rows, 2, "step"), "8");
}

TEST(Metrics, AnOldRunsEpochsCsvGainsTheColumnOnResume) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "metrics");
  std::ofstream(dir.file("metrics/epochs.csv"))
      << "epoch,step,train_loss,val_loss,val_top1_error,val_top5_error,lr,images_per_s,data_wait_s,seconds\n"
      << "1,10,2.1,,,,0.01,100,0.5,3\n";
  {
    Metrics metrics(dir.path().string(), 10);  // resumed from the checkpoint of step 10
    metrics.log(epoch(2, 1));
  }
  auto rows = lines(dir.file("metrics/epochs.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].rfind("1,10,2.1,,,,0.01,100,0.5,3,", 0), 0u) << rows[1];
  EXPECT_EQ(field(rows, 1, "bad_images"), "0");
  EXPECT_EQ(field(rows, 1, "mfu"), "");
  EXPECT_EQ(field(rows, 2, "bad_images"), "1");
}

// /dev/full stands in for a full disk: every write fails with ENOSPC.
TEST(Metrics, AFullDiskStopsWithTheFileNamed) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  testing::TempDir dir;
  fs::create_directories(dir.path() / "metrics");
  fs::create_symlink("/dev/full", dir.path() / "metrics" / "steps.csv");
  try {
    Metrics metrics(dir.path().string(), 0);
    for (int i = 0; i < 1000; ++i) metrics.log(StepMetrics{i, 1, 2.0, 0.5, 0.1, 0.01, 100, 0});
    ADD_FAILURE() << "metrics written to /dev/full without an error";
  } catch (const UserError& e) {
    ADD_FAILURE() << "a full disk reported as bad input: " << e.what();
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("metrics/steps.csv"), std::string::npos) << what;
    EXPECT_NE(what.find("No space left on device"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace alexnet
