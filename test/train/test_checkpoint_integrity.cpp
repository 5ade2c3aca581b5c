// Damaged checkpoints are refused with a message naming the file and what is wrong, `--resume`
// steps back to the newest intact one, version 1 files (no checksums) still load, and the
// pieces of a resumed run that keep its files consistent: --checkpoint-every's parsing and the
// metrics rows that a killed run wrote after its last checkpoint.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/hdf5.h"
#include "data_testing.h"
#include "net/net_testing.h"
#include "train/checkpoint.h"
#include "train/metrics.h"
#include "train/run_dir.h"
#include "train/sgd.h"

namespace fs = std::filesystem;

namespace alexnet {
namespace {

// A single-tower alexnet-mini with momentum that is not zero, moved one SGD step per call.
struct Trained {
  testing::PlacedNet placed = testing::place({.placement = Placement::kSingle, .batch = 2});
  Sgd sgd{*placed.net, SgdConfig{.learning_rate = 0.01f, .momentum = 0.9f}};
  Net& net() { return *placed.net; }
  void step(uint64_t s) {
    testing::TestBatch b = testing::mini_batch(2, s + 1);
    StepContext ctx{.training = true, .seed = 5, .step = s};
    net().forward(b.images.view(), b.labels.data(), ctx);
    net().backward(ctx);
    sgd.step();
  }
};

using testing::error_of;

// The file offset of a dataset's first value (tensors are stored contiguously).
haddr_t offset_of(const std::string& path, const std::string& dataset) {
  std::lock_guard<std::mutex> lock(hdf5_lock());
  h5::H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  h5::H5Id set(H5Dopen2(file.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
  return H5Dget_offset(set.get());
}

void flip_byte(const std::string& path, std::streamoff at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x10);
  f.seekp(at);
  f.write(&c, 1);
}

void truncate_to_half(const std::string& path) {
  fs::resize_file(path, fs::file_size(path) / 2);
}

TEST(CheckpointIntegrity, VersionFourCarriesACrc32PerTensorAndCountsImages) {
  testing::TempDir dir;
  Trained t;
  t.step(0);
  const std::string path = dir.file("step-1.h5");
  save_checkpoint(path, t.net(), &t.sgd, TrainState{.step = 1, .position = 8});
  EXPECT_FALSE(load_checkpoint(path, t.net(), &t.sgd).position_in_batches);
  std::lock_guard<std::mutex> lock(hdf5_lock());
  h5::H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  EXPECT_EQ(h5::read_int_attr(file.get(), "version"), 4);
  for (const LogicalParam& p : t.net().plan().params) {
    for (const std::string group : {"params/", "momentum/"}) {
      h5::H5Id set(H5Dopen2(file.get(), (group + p.name).c_str(), H5P_DEFAULT), H5Dclose);
      EXPECT_TRUE(h5::has_attr(set.get(), "crc32")) << group << p.name;
    }
  }
}

// A checkpoint describes itself: the network file's text and path, and the run's configuration.
TEST(CheckpointIntegrity, VersionFourKeepsItsNetworkAndConfiguration) {
  testing::TempDir dir;
  Trained t;
  t.step(0);
  const std::string path = dir.file("step-1.h5");
  save_checkpoint(path, t.net(), collect_checkpoint(t.net(), &t.sgd), TrainState{.step = 1},
                  "lr = 0.5\nbatch = 8\n");
  const CheckpointTexts texts = read_checkpoint_texts(path);
  EXPECT_EQ(texts.network, t.net().plan().net.text);
  EXPECT_NE(texts.network.find("[net]"), std::string::npos) << texts.network;
  EXPECT_EQ(texts.network_path, t.net().plan().net.path);
  EXPECT_EQ(texts.config, "lr = 0.5\nbatch = 8\n");
  EXPECT_THROW(read_checkpoint_texts(dir.file("none.h5")), UserError);
}

TEST(CheckpointIntegrity, AFlippedByteFailsItsChecksumNamingFileAndTensor) {
  testing::TempDir dir;
  Trained t;
  t.step(0);
  const std::string path = dir.file("step-1.h5");
  save_checkpoint(path, t.net(), &t.sgd, TrainState{.step = 1});
  const std::string tensor = "momentum/" + t.net().plan().params.back().name;
  flip_byte(path, static_cast<std::streamoff>(offset_of(path, tensor)) + 2);

  const std::string why = error_of([&] { load_checkpoint(path, t.net(), &t.sgd); });
  EXPECT_NE(why.find(path), std::string::npos) << why;
  EXPECT_NE(why.find("/" + tensor + " fails its checksum"), std::string::npos) << why;
  // Without the momentum (eval), the parameters alone still load: the damage is elsewhere.
  EXPECT_NO_THROW(load_checkpoint(path, t.net(), nullptr));
  EXPECT_NE(error_of([&] { verify_checkpoint(path, t.net(), true); }).find("checksum"), std::string::npos);
}

TEST(CheckpointIntegrity, TruncatedOrOverwrittenFilesAreRefusedNamingThem) {
  testing::TempDir dir;
  Trained t;
  const std::string truncated = dir.file("truncated.h5"), scribbled = dir.file("scribbled.h5");
  save_checkpoint(truncated, t.net(), &t.sgd, TrainState{});
  save_checkpoint(scribbled, t.net(), &t.sgd, TrainState{});
  truncate_to_half(truncated);
  for (int i = 0; i < 8; ++i) flip_byte(scribbled, i);  // the HDF5 signature

  const std::string a = error_of([&] { load_checkpoint(truncated, t.net(), &t.sgd); });
  EXPECT_EQ(a.rfind(truncated + ": ", 0), 0u) << a;
  EXPECT_NE(a.find("truncated"), std::string::npos) << a;
  const std::string b = error_of([&] { load_checkpoint(scribbled, t.net(), &t.sgd); });
  EXPECT_EQ(b.rfind(scribbled + ": not an HDF5 file", 0), 0u) << b;
}

TEST(CheckpointIntegrity, VersionOneWithoutChecksumsStillLoads) {
  testing::TempDir dir;
  Trained a;
  a.step(0);
  const std::string path = dir.file("v1.h5");
  save_checkpoint(path, a.net(), &a.sgd, TrainState{.step = 1, .seed = 3});
  {  // What version 1 wrote: the same file without the crc32 attributes.
    std::lock_guard<std::mutex> lock(hdf5_lock());
    h5::H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    h5::write_int_attr(file.get(), "version", 1);
    for (const LogicalParam& p : a.net().plan().params) {
      for (const std::string group : {"params/", "momentum/"}) {
        h5::H5Id set(H5Dopen2(file.get(), (group + p.name).c_str(), H5P_DEFAULT), H5Dclose);
        ASSERT_GE(H5Adelete(set.get(), "crc32"), 0);
      }
    }
  }
  Trained b;
  b.placed.net->init_parameters(99);
  TrainState s = load_checkpoint(path, b.net(), &b.sgd);
  EXPECT_EQ(s.step, 1);
  EXPECT_EQ(s.seed, 3u);
  EXPECT_TRUE(s.position_in_batches);  // --resume multiplies by the run's --batch
  for (const LogicalParam& p : a.net().plan().params)
    EXPECT_EQ(a.net().read_param(p.name), b.net().read_param(p.name)) << p.name;
}

// --- resuming a run directory ------------------------------------------------------------------

TEST(CheckpointIntegrity, ResumeStepsBackOverDamagedCheckpoints) {
  testing::TempDir dir;
  RunDir run(dir.path().string());
  Trained t;
  std::vector<float> at_step_1;
  for (int64_t step = 1; step <= 3; ++step) {
    t.step(static_cast<uint64_t>(step - 1));
    run.save_checkpoint(t.net(), t.sgd, TrainState{.step = step, .position = step}, 5);
    if (step == 1) at_step_1 = t.net().read_param("fc8.weight");
  }
  const std::vector<std::string> all = run.checkpoints();
  ASSERT_EQ(all.size(), 3u);
  truncate_to_half(all[2]);
  flip_byte(all[1], static_cast<std::streamoff>(offset_of(all[1], "params/conv1.weight")));
  std::ofstream(all[2] + ".partial") << "left by a killed write";

  Trained fresh;
  std::vector<std::string> lines;
  RunDir::Resumed r =
      run.load_latest_intact(fresh.net(), fresh.sgd, [&](const std::string& l) { lines.push_back(l); });
  EXPECT_EQ(r.path, all[0]);
  EXPECT_EQ(r.state.step, 1);
  EXPECT_EQ(fresh.net().read_param("fc8.weight"), at_step_1);
  // One line per damaged file, naming it and why, then where each was set aside.
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].rfind(all[2] + ": ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("falling back to the previous checkpoint"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].rfind(all[1] + ": /params/conv1.weight fails its checksum", 0), 0u) << lines[1];
  EXPECT_NE(lines[2].find(all[1] + ".damaged"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find(all[2] + ".damaged"), std::string::npos) << lines[3];
  // The damaged ones are out of the list (and of rotation); the stale temporary is gone.
  EXPECT_EQ(run.checkpoints(), std::vector<std::string>{all[0]});
  EXPECT_TRUE(fs::exists(all[2] + ".damaged"));
  EXPECT_FALSE(fs::exists(all[2] + ".partial"));
}

TEST(CheckpointIntegrity, NoIntactCheckpointIsAUserErrorNamingEach) {
  testing::TempDir dir;
  RunDir run(dir.path().string());
  Trained t;
  run.save_checkpoint(t.net(), t.sgd, TrainState{.step = 1}, 5);
  run.save_checkpoint(t.net(), t.sgd, TrainState{.step = 2}, 5);
  const std::vector<std::string> all = run.checkpoints();
  truncate_to_half(all[0]);
  truncate_to_half(all[1]);
  const std::string why =
      error_of([&] { run.load_latest_intact(t.net(), t.sgd, [](const std::string&) {}); });
  EXPECT_NE(why.find("no intact checkpoint"), std::string::npos) << why;
  EXPECT_NE(why.find(all[0]), std::string::npos) << why;
  EXPECT_NE(why.find(all[1]), std::string::npos) << why;
  EXPECT_EQ(run.checkpoints().size(), 2u);  // nothing set aside when nothing loaded
}

TEST(CheckpointIntegrity, RotationKeepsTheNewestAfterVerifying) {
  testing::TempDir dir;
  RunDir run(dir.path().string());
  Trained t;
  for (int64_t step = 1; step <= 4; ++step) run.save_checkpoint(t.net(), t.sgd, TrainState{.step = step}, 2);
  EXPECT_EQ(run.checkpoints(), (std::vector<std::string>{run.checkpoint_path(3), run.checkpoint_path(4)}));
}

// --- --checkpoint-every ------------------------------------------------------------------------

TEST(CheckpointEvery, StepsOrADurationElseAnErrorNamingTheFlag) {
  EXPECT_EQ(CheckpointEvery::parse("0").steps, 0);
  EXPECT_EQ(CheckpointEvery::parse("0").seconds, 0);
  EXPECT_EQ(CheckpointEvery::parse("250").steps, 250);
  EXPECT_EQ(CheckpointEvery::parse("90s").seconds, 90);
  EXPECT_EQ(CheckpointEvery::parse("30m").seconds, 1800);
  EXPECT_EQ(CheckpointEvery::parse("2h").seconds, 7200);
  EXPECT_EQ(CheckpointEvery::parse("30m").steps, 0);
  for (const char* bad : {"", "m", "-3", "3.5m", "5x", "10 m", "1d", "99999999999999"}) {
    const std::string why = error_of([&] { CheckpointEvery::parse(bad); });
    EXPECT_EQ(why.rfind("--checkpoint-every: '" + std::string(bad) + "'", 0), 0u) << why;
  }
  const CheckpointEvery three = CheckpointEvery::parse("3"), minute = CheckpointEvery::parse("1m");
  EXPECT_TRUE(three.due(6, 0));
  EXPECT_FALSE(three.due(7, 1e9));
  EXPECT_TRUE(minute.due(7, 60));
  EXPECT_FALSE(minute.due(7, 59.9));
  EXPECT_FALSE(CheckpointEvery{}.due(6, 1e9));
}

// --- metrics of a resumed run ------------------------------------------------------------------

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Today's headers; the files below are an older alexnet's, whose rows gain the columns since, empty.
const std::string kStepsHeader =
    "step,epoch,loss,top1_error,top5_error,lr,images_per_s,data_wait_s,mfu,host_rss_mib,device_mib,"
    "device_peak_mib,step_ms_min,step_ms_median,step_ms_max,slowest_rank\n";
const std::string kEpochsHeader =
    "epoch,step,train_loss,val_loss,val_top1_error,val_top5_error,lr,images_per_s,data_wait_s,seconds,"
    "bad_images,mfu,host_peak_mib,device_peak_mib\n";

TEST(ResumedMetrics, RowsPastTheCheckpointAndATornRowAreDropped) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "metrics");
  const std::string steps_header = "step,epoch,loss,top1_error,top5_error,lr,images_per_s,data_wait_s\n";
  const std::string epochs_header =
      "epoch,step,train_loss,val_loss,val_top1_error,val_top5_error,lr,images_per_s,data_wait_s,seconds,"
      "bad_images\n";
  std::ofstream(dir.path() / "metrics" / "steps.csv")
      << steps_header << "2,1,2.3,0.9,0.5,0.01,100,0\n4,1,2.2,0.9,0.5,0.01,100,0\n"
      << "6,2,2.1,0.9,0.5,0.01,100,0\n8,2,2.0,0.9,0.5,0.01,100,0\n10,3,1.9";
  std::ofstream(dir.path() / "metrics" / "epochs.csv")
      << epochs_header << "1,4,2.2,2.1,0.8,0.4,0.01,100,0,1,0\n2,8,2.0,1.9,0.7,0.3,0.01,100,0,1,0\n";
  { Metrics m(dir.path().string(), 6); }
  EXPECT_EQ(read_file(dir.path() / "metrics" / "steps.csv"),
            kStepsHeader + "2,1,2.3,0.9,0.5,0.01,100,0,,,,,,,,\n4,1,2.2,0.9,0.5,0.01,100,0,,,,,,,,\n" +
                "6,2,2.1,0.9,0.5,0.01,100,0,,,,,,,,\n");
  EXPECT_EQ(read_file(dir.path() / "metrics" / "epochs.csv"),
            kEpochsHeader + "1,4,2.2,2.1,0.8,0.4,0.01,100,0,1,0,,,\n");
}

// A run killed before its first epoch ended left epochs.csv empty (its header not yet flushed), and
// the next run then appended rows without a header.
TEST(ResumedMetrics, AnEmptyOrHeaderlessFileGetsItsHeader) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "metrics");
  std::ofstream(dir.path() / "metrics" / "steps.csv");
  std::ofstream(dir.path() / "metrics" / "epochs.csv") << "1,4,2.2,2.1,0.8,0.4,0.01,100,0,1,0\n";
  { Metrics m(dir.path().string(), 6); }
  EXPECT_EQ(read_file(dir.path() / "metrics" / "steps.csv"), kStepsHeader);
  EXPECT_EQ(read_file(dir.path() / "metrics" / "epochs.csv"),
            kEpochsHeader + "1,4,2.2,2.1,0.8,0.4,0.01,100,0,1,0,,,\n");
}

}  // namespace
}  // namespace alexnet
