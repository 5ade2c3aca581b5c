// `alexnet pack`: reads a source, resizes and crops each image, and writes the dataset file with
// its mean image and PCA colour statistics (computed over the train split as written).
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/format.h"

namespace alexnet {

struct PackOptions {
  std::string source;    // "fashion-mnist", "cifar10" or "folder"
  std::string input;     // the source's folder (fashion-mnist: kFashionMnistDir by default)
  std::string val_list;  // folder source: optional list of val images and labels
  std::string output;
  int size = 0;           // output height = width; 0: native (28, 32), or 256 for a folder tree
  int channels = 0;       // 1 or 3; 0: the source's own
  int64_t per_class = 0;  // keep the first N images of each class in each split; 0: all
  // Train images held out as the val split, drawn at random keyed by `seed` (after per_class);
  // -1: a twelfth of the train images (Fashion-MNIST: 5,000 of 60,000) when the source has no
  // val split of its own, 0: none.
  int64_t val = -1;
  bool shuffle = false;  // store each split in a random order (seeded)
  uint64_t seed = 0;     // for the val draw and --shuffle
  bool strict = false;   // fail on the first undecodable image instead of skipping it
  // Tint each image (made grey first) with a class-centred hue keyed by this seed: three channels
  // (data/colourise.h). A synthetic stand-in for a colour dataset.
  std::optional<uint64_t> colourise;
  bool force = false;    // replace an existing output
  int threads = 0;       // decoding threads; 0: all cores
  bool progress = true;  // a progress line on stderr
};

struct PackReport {
  std::vector<std::pair<std::string, int64_t>> written;  // per split
  int64_t skipped = 0;
  double seconds = 0;
};

PackReport pack_dataset(const PackOptions& options);

// The paper's preprocessing for a folder tree: rescale so the short side is `size`, then crop
// the central size x size. Images of a fixed native size are resized to size x size directly.
cv::Mat resize_and_crop(const cv::Mat& image, int size, bool keep_aspect);
// Converts between grey and RGB as `channels` asks.
cv::Mat to_channels(const cv::Mat& image, int channels);

// Eigen-decomposition of a symmetric n x n matrix (Jacobi rotations): eigenvalues in descending
// order, eigenvectors as columns of a row-major n x n matrix.
void symmetric_eigen(const std::vector<double>& matrix, int n, std::vector<float>& values,
                     std::vector<float>& vectors);

}  // namespace alexnet
