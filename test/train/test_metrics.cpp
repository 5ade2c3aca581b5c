// The metrics files: the bad_images column (damaged images skipped with --skip-bad-images), an
// old run's epochs.csv gaining it on resume, and a write that fails (a full disk) stopping the run
// with the file named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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
  EXPECT_EQ(rows[0].substr(rows[0].rfind(',') + 1), "bad_images");
  EXPECT_EQ(rows[1].substr(rows[1].rfind(',') + 1), "0");
  EXPECT_EQ(rows[2].substr(rows[2].rfind(',') + 1), "3");
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
  EXPECT_EQ(
      rows[0],
      "epoch,step,train_loss,val_loss,val_top1_error,val_top5_error,lr,images_per_s,data_wait_s,seconds,"
      "bad_images");
  EXPECT_EQ(rows[1], "1,10,2.1,,,,0.01,100,0.5,3,0");
  EXPECT_EQ(rows[2].substr(rows[2].rfind(',') + 1), "1");
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
