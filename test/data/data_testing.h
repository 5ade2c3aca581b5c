// Helpers for the data tests: temporary folders and small dataset files written directly.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/format.h"

namespace alexnet::testing {

// A fresh folder under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes a dataset whose image i of split s has pixel (y, x, c) = (i * 7 + y * 3 + x + c * 50 + salt) % 256
// and label i % classes, with a constant mean of 100 and identity PCA; in the format of `version`.
void write_test_dataset(const std::string& path, int size, int channels, int classes,
                        const std::vector<std::pair<std::string, int>>& splits,
                        int version = kDatasetVersion);
uint8_t test_pixel(int64_t i, int y, int x, int c, int salt);

}  // namespace alexnet::testing
