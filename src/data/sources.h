// Where `alexnet pack` reads images from: an ImageNet-style folder tree, CIFAR-10's binary
// batches, or Fashion-MNIST's idx files (as Debian's dataset-fashion-mnist installs them).
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace alexnet {

// One image to pack: its label and where it is (a file, or an index into a source in memory).
struct SourceItem {
  int32_t label = 0;
  std::string path;
  int64_t index = -1;
};

// An image that cannot be decoded: packing skips it (or stops, with --strict).
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual std::vector<std::string> classes() const = 0;
  virtual std::vector<std::string> splits() const = 0;  // train first, e.g. {"train", "test"}
  virtual std::vector<SourceItem> items(const std::string& split) const = 0;
  // The image as 8-bit RGB (3 channels) or grey (1 channel) at its native size. Throws
  // DecodeError naming the item when it cannot be decoded. Safe to call from several threads.
  virtual cv::Mat load(const SourceItem& item) const = 0;
  // Native size of every image (0 when images vary, as in a folder tree) and channels.
  virtual int native_size() const = 0;
  virtual int native_channels() const = 0;
  virtual std::string describe() const = 0;  // provenance for the file's 'source' attribute
};

// A JPEG or PNG file's bytes as 8-bit RGB, told apart by their first bytes and decoded by
// libjpeg-turbo or libpng (core/image_codec.h). Throws DecodeError saying why.
cv::Mat decode_image(const std::vector<uint8_t>& bytes);

// Debian's dataset-fashion-mnist installs its files here.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// The four gzip'd idx files (train-images-idx3-ubyte.gz, ...). Splits: train (60,000) and test
// (the official 10,000 test images); `pack` holds a val split out of train.
std::unique_ptr<ImageSource> open_fashion_mnist(const std::string& dir);
// data_batch_1..5.bin (train) and test_batch.bin (test); class names from batches.meta.txt.
std::unique_ptr<ImageSource> open_cifar10(const std::string& dir);
// root/train/<class>/<image>; val images either in root/val/<class>/<image> or listed in
// `val_list` as lines "<path relative to root/val> <class index or name>".
std::unique_ptr<ImageSource> open_image_folder(const std::string& root, const std::string& val_list);

}  // namespace alexnet
