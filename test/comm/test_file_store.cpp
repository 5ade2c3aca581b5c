// The file store's own behaviour (comm/file_store.h), beyond what the process groups' tests check
// over both stores: an earlier job's folder refused, ranks of two hosts refused, the folder removed
// after a normal end and kept after a loss, a rank whose process ends without a goodbye found lost
// through its lock, keys with our timeout and message, and the launch flags that choose it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "comm/file_store.h"
#include "comm/launch_env.h"
#include "core/errors.h"
#include "data/data_testing.h"
#include "testing.h"

namespace alexnet {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

TEST(FileStore, AnEarlierJobsFolderIsRefused) {
  testing::TempDir temp;
  const std::string dir = temp.file("job");
  {
    // An earlier job whose rank 1 died: its files stay, nobody holds their locks.
    FileRendezvous earlier(dir, 1, 2, 2, milliseconds(1000));
    earlier.vanish();
  }
  ASSERT_TRUE(fs::exists(dir + "/rank-1.hello"));
  const std::string message =
      testing::error_of([&] { FileRendezvous store(dir, 0, 2, 2, milliseconds(1000)); });
  EXPECT_EQ(message,
            "--store-dir " + dir +
                " already holds files (rank-1.hello, ...) that no running rank holds: an earlier job's? Give "
                "each job a fresh folder (e.g. mktemp -d), or remove it");
}

TEST(FileStore, AFolderMadeBeforehandAndEmptyIsFine) {
  testing::TempDir temp;  // e.g. mktemp -d: exists, empty
  FileRendezvous store(temp.path().string(), 0, 1, 1, milliseconds(1000));
  EXPECT_EQ(store.roster().members.size(), 1u);
}

TEST(FileStore, RanksOnTwoHostsAreRefused) {
  testing::TempDir temp;
  const std::string dir = temp.file("job");
  FileRendezvous rank0(dir, 0, 2, 1, milliseconds(1000), "alpha");
  FileRendezvous rank1(dir, 1, 2, 1, milliseconds(1000), "beta");
  const std::string message = testing::error_of([&] { rank0.wait_for_all_ranks(); });
  EXPECT_EQ(message, "the file store (--store-dir " + dir +
                         ") is for the ranks of one host: rank 1 runs on beta, rank 0 on alpha; use the TCP "
                         "store for several hosts (MASTER_ADDR / --store-host)");
}

TEST(FileStore, TheFolderIsRemovedAfterANormalEnd) {
  testing::TempDir temp;
  const std::string dir = temp.file("job");
  {
    auto rank1 = std::make_unique<FileRendezvous>(dir, 1, 2, 1, milliseconds(3000));
    std::optional<std::jthread> later;  // joined after rank 0 has left, before rank 1 is destroyed
    FileRendezvous rank0(dir, 0, 2, 1, milliseconds(3000));
    rank0.wait_for_all_ranks();
    rank0.set("key", {'v'});
    EXPECT_EQ(rank1->get("key"), std::vector<char>{'v'});
    // Rank 1 says goodbye after rank 0 has begun to leave: rank 0 lingers for it.
    later.emplace([&] {
      std::this_thread::sleep_for(milliseconds(200));
      rank1.reset();
    });
  }
  EXPECT_FALSE(fs::exists(dir));
}

TEST(FileStore, TheFolderStaysAfterALoss) {
  testing::TempDir temp;
  const std::string dir = temp.file("job");
  const auto start = Clock::now();
  {
    FileRendezvous rank1(dir, 1, 2, 1, milliseconds(3000));
    FileRendezvous rank0(dir, 0, 2, 1, milliseconds(3000));
    rank0.wait_for_all_ranks();
    rank1.vanish();
    EXPECT_EQ(rank0.lost_ranks(), std::vector<int>{1});
  }
  EXPECT_TRUE(fs::exists(dir + "/rank-1.hello"));       // for the next job to refuse
  EXPECT_LT(Clock::now() - start, milliseconds(1000));  // rank 0 did not linger for the lost rank
}

TEST(FileStore, AKilledProcessIsLostThroughItsLock) {
  testing::TempDir temp;
  const std::string dir = temp.file("job");
  FileRendezvous rank0(dir, 0, 2, 1, milliseconds(5000));
  const pid_t child = fork();
  if (child == 0) {
    // The child arrives as rank 1, then ends with no goodbye at all (_exit runs no destructor).
    try {
      new FileRendezvous(dir, 1, 2, 1, milliseconds(5000));
    } catch (...) {
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  std::string message;
  try {
    rank0.wait_for_all_ranks();
  } catch (const PeerLost& e) {
    message = e.what();
  }
  EXPECT_EQ(
      message,
      "rank 1 was lost (its connection closed) before every rank reached the rendezvous store in " + dir);
}

TEST(FileStore, AWaitForKeysEndsAtTheTimeoutNamingThem) {
  testing::TempDir temp;
  FileRendezvous store(temp.file("job"), 0, 1, 1, milliseconds(300));
  store.set("here", {'1'});
  const auto start = Clock::now();
  std::string message;
  try {
    store.wait({"here", "tower[0,1]/1"});
  } catch (const StoreTimeout& e) {
    message = e.what();
  }
  const auto took = Clock::now() - start;
  EXPECT_EQ(message, "no answer within 0.3 s (--timeout): the rendezvous store in " + temp.file("job") +
                         " still lacks tower[0,1]/1");
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(800));  // Gloo's own wait would run to the next whole second
}

TEST(FileStore, TheLaunchTakesTheFolderInsteadOfAnAddress) {
  // torchrun's variables with the folder: MASTER_ADDR / MASTER_PORT are not needed.
  const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "RANK") return "1";
    if (name == "WORLD_SIZE") return "2";
    if (name == "LOCAL_RANK") return "1";
    return std::nullopt;
  };
  LaunchFlags flags;
  flags.store_dir = "/tmp/job";
  const LaunchInfo info = resolve_launch(flags, env);
  EXPECT_EQ(info.store_dir, "/tmp/job");
  EXPECT_EQ(info.store_host, "");
  EXPECT_EQ(info.describe(), "rank 1 of 2 (local rank 1) from torchrun, store folder /tmp/job");

  // Under torchrun's static rendezvous its own store holds MASTER_PORT and ours would take the next
  // one; the folder needs no port, so even MASTER_PORT=65535 (no next port) is fine.
  const EnvLookup agent = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "MASTER_ADDR") return "127.0.0.1";
    if (name == "MASTER_PORT") return "65535";
    if (name == "TORCHELASTIC_USE_AGENT_STORE") return "True";
    return env(name);
  };
  EXPECT_EQ(resolve_launch(flags, agent).store_dir, "/tmp/job");
  EXPECT_EQ(resolve_launch(flags, agent).store_port, 0);

  flags.store_host = "10.0.0.1";
  EXPECT_EQ(
      testing::error_of([&] { resolve_launch(flags, env); }),
      "launch from torchrun: --store-dir and --store-host/--store-port name two rendezvous stores: give one");
}

}  // namespace
}  // namespace alexnet
