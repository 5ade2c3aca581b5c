// Whole-file writes land complete or not at all, and leave no temporary behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "data_testing.h"

namespace fs = std::filesystem;

namespace alexnet {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AtomicFile, ContentLandsAndNoTemporaryIsLeft) {
  testing::TempDir dir;
  const std::string path = dir.file("config.toml");
  write_file_atomically(path, "batch = 128\n");
  EXPECT_EQ(read(path), "batch = 128\n");
  // A second write replaces the first whole.
  write_file_atomically(path, std::string("a\0b", 3));
  EXPECT_EQ(read(path), std::string("a\0b", 3));
  EXPECT_FALSE(fs::exists(temporary_path(path)));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AtomicFile, PiecewiseWriteIsInvisibleUntilCommitted) {
  testing::TempDir dir;
  const std::string path = dir.file("logits.npy");
  write_file_atomically(path, "old");
  {
    AtomicFile f(path);
    f.write("new ");
    const float x = 1.5f;
    f.write(&x, sizeof x);
    EXPECT_EQ(read(path), "old");  // readers still see the previous file
    f.commit();
  }
  std::string bytes = read(path);
  ASSERT_EQ(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(0, 4), "new ");
  // Abandoned without commit (an error on the way): the old file stays, the temporary goes.
  {
    AtomicFile f(path);
    f.write("half");
  }
  EXPECT_EQ(read(path), bytes);
  EXPECT_FALSE(fs::exists(temporary_path(path)));
}

TEST(AtomicFile, MissingFolderIsAUserErrorNamingThePathAndLeavesNothing) {
  testing::TempDir dir;
  const std::string path = dir.file("no-such-folder/manifest.json");
  try {
    write_file_atomically(path, "{}");
    ADD_FAILURE() << "writing into a missing folder succeeded";
  } catch (const UserError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("No such file or directory"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(dir.file("no-such-folder")));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(AtomicFile, CommitFileMovesALibrarysOutputIntoPlace) {
  testing::TempDir dir;
  const std::string path = dir.file("step-1.h5");
  std::ofstream(temporary_path(path)) << "hdf5 bytes";
  commit_file(temporary_path(path), path);
  EXPECT_EQ(read(path), "hdf5 bytes");
  EXPECT_FALSE(fs::exists(temporary_path(path)));
  // A temporary that was never written: UserError, and nothing under either name.
  EXPECT_THROW(commit_file(dir.file("gone.partial"), dir.file("gone")), UserError);
  EXPECT_FALSE(fs::exists(dir.file("gone")));
}

// A full disk, as /dev/full plays one: the write fails with ENOSPC. That is the machine's fault,
// not the input's (std::runtime_error, exit status 1, not UserError), the message names the file
// and says why, and the temporary goes.
TEST(AtomicFile, AFullDiskIsNotAUserErrorAndLeavesNothing) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  testing::TempDir dir;
  const std::string path = dir.file("timing.json");
  fs::create_symlink("/dev/full", temporary_path(path));  // the temporary's writes land on /dev/full
  try {
    write_file_atomically(path, std::string(1 << 16, 'x'));
    ADD_FAILURE() << "a write to /dev/full succeeded";
  } catch (const UserError& e) {
    ADD_FAILURE() << "a full disk reported as bad input: " << e.what();
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("No space left on device"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::is_symlink(temporary_path(path)));
}

}  // namespace
}  // namespace alexnet
