// Pieces of the trainer that do not need a dataset: TensorBoard framing, option precedence,
// device resolution, top-k.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "cli/options.h"
#include "core/errors.h"
#include "data_testing.h"
#include "train/evaluate.h"
#include "train/run_config.h"
#include "train/tensorboard.h"

namespace alexnet {
namespace {

TEST(TensorBoard, Crc32cKnownAnswer) {
  // The CRC-32C check value (RFC 3720, iSCSI): "123456789" -> 0xE3069283.
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

TEST(TensorBoard, RecordsAreFramedWithLengthAndCrc) {
  testing::TempDir dir;
  std::string path;
  {
    TensorBoardWriter w(dir.path().string());
    w.scalar("train/loss", 3, 0.5);
    path = w.path();
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Walk the records: each is length (8), masked crc (4), payload, masked crc (4).
  size_t at = 0;
  int records = 0;
  while (at < bytes.size()) {
    ASSERT_GE(bytes.size() - at, 12u);
    uint64_t length = 0;
    std::memcpy(&length, bytes.data() + at, 8);
    uint32_t crc = 0;
    std::memcpy(&crc, bytes.data() + at + 8, 4);
    uint32_t expect = crc32c(bytes.data() + at, 8);
    EXPECT_EQ(crc, ((expect >> 15) | (expect << 17)) + 0xa282ead8u);
    at += 12 + length + 4;
    ++records;
  }
  EXPECT_EQ(at, bytes.size());
  EXPECT_EQ(records, 2);  // the file version, then the scalar
  EXPECT_NE(bytes.find("train/loss"), std::string::npos);
}

TEST(Options, CommandLineBeatsEnvironmentBeatsRunFile) {
  testing::TempDir dir;
  std::ofstream(dir.file("run.toml")) << "batch = 32\nepochs = 7\nlr = 0.5\nschedule = \"step\"\n";
  RunConfig c;
  cli::TrainFlags f;
  auto desc = cli::train_options(c, f);
  setenv("ALEXNET_EPOCHS", "9", 1);
  setenv("ALEXNET_LR", "0.25", 1);
  std::string config = "--config=" + dir.file("run.toml");
  const char* argv[] = {"train", "--lr", "0.125", config.c_str()};  // argv[0] is the subcommand
  cli::parse_options("train", 4, const_cast<char**>(argv), desc);
  unsetenv("ALEXNET_EPOCHS");
  unsetenv("ALEXNET_LR");
  EXPECT_EQ(c.lr, 0.125);         // command line
  EXPECT_EQ(c.epochs, 9);         // environment
  EXPECT_EQ(c.batch, 32);         // run file
  EXPECT_EQ(c.schedule, "step");  // run file
  EXPECT_EQ(c.momentum, 0.9);     // default
}

TEST(Options, BadInputNamesTheCulprit) {
  testing::TempDir dir;
  std::ofstream(dir.file("run.toml")) << "batch = 32\nbatchh = 7\n";
  RunConfig c;
  cli::TrainFlags f;
  auto desc = cli::train_options(c, f);
  std::string config = "--config=" + dir.file("run.toml");
  const char* with_file[] = {"train", config.c_str()};
  try {
    cli::parse_options("train", 2, const_cast<char**>(with_file), desc);
    ADD_FAILURE() << "an unknown run-file key was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("run.toml:2: unknown key 'batchh'"), std::string::npos) << e.what();
  }
  RunConfig c2;
  cli::TrainFlags f2;
  auto desc2 = cli::train_options(c2, f2);
  const char* bad_value[] = {"train", "--batch", "lots"};
  EXPECT_THROW(cli::parse_options("train", 3, const_cast<char**>(bad_value), desc2), UserError);
}

TEST(Devices, ResolveListsAndRefuseMissingGpus) {
  EXPECT_EQ(resolve_devices("cpu", 2), (std::vector<Device>{Device::cpu(), Device::cpu()}));
  EXPECT_EQ(resolve_devices("cpu,cpu", 2).size(), 2u);
  EXPECT_THROW(resolve_devices("cpu,cpu,cpu", 2), UserError);
  EXPECT_THROW(resolve_devices("gpu0", 1), UserError);
  EXPECT_THROW(resolve_devices("cuda:" + std::to_string(cuda_device_count()), 1), UserError);
  if (cuda_device_count() == 0) EXPECT_EQ(resolve_devices("auto", 2)[1], Device::cpu());
}

TEST(TopK, LargestFirstAndClipped) {
  const float p[4] = {0.1f, 0.4f, 0.2f, 0.3f};
  EXPECT_EQ(top_k(p, 4, 5), (std::vector<int32_t>{1, 3, 2, 0}));
  EXPECT_EQ(top_k(p, 4, 1), (std::vector<int32_t>{1}));
}

}  // namespace
}  // namespace alexnet
