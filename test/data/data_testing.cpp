#include "data_testing.h"

#include <random>

namespace alexnet::testing {

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("alexnet_test_" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

uint8_t test_pixel(int64_t i, int y, int x, int c, int salt) {
  return static_cast<uint8_t>((i * 7 + y * 3 + x + c * 50 + salt) % 256);
}

void write_test_dataset(const std::string& path, int size, int channels, int classes,
                        const std::vector<std::pair<std::string, int>>& splits, int version) {
  DatasetWriter writer(path, size, size, channels, true, version);
  int salt = 0;
  for (auto& [name, count] : splits) {
    writer.begin_split(name);
    std::vector<uint8_t> image(size_t(size) * size * channels);
    for (int i = 0; i < count; ++i) {
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x)
          for (int c = 0; c < channels; ++c)
            image[(y * size + x) * channels + c] = test_pixel(i, y, x, c, salt);
      writer.append(image.data(), i % classes);
    }
    salt += 11;
  }
  DatasetInfo info;
  for (int k = 0; k < classes; ++k) info.classes.push_back("class" + std::to_string(k));
  info.mean.assign(size_t(size) * size * channels, 100.0f);
  info.pca_eigenvalues.assign(channels, 1.0f);
  info.pca_eigenvectors.assign(channels * channels, 0.0f);
  for (int c = 0; c < channels; ++c) info.pca_eigenvectors[c * channels + c] = 1.0f;
  info.source = "test";
  writer.finish(info);
}

}  // namespace alexnet::testing
