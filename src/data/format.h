// The packed dataset: one HDF5 file, written once by `alexnet pack`, read by the loader.
//
//   /                      attrs: format = "alexnet-dataset", version = 2, source (provenance),
//                                 created (UTC time), height, width, channels
//   /classes               string [K]         class names, label k is classes[k]
//   /mean                  float32 [H, W, C]  mean image of the train split, pixel scale 0..255
//   /pca_eigenvalues       float32 [C]        of the train split's pixel covariance, pixel values
//                                             on the 0-1 scale, descending
//   /pca_eigenvectors      float32 [C, C]     column j is the eigenvector of eigenvalue j
//   /<split>/images        uint8 [N, H, W, C] chunked one image per chunk, Fletcher-32 per chunk
//   /<split>/labels        int32 [N]          chunked, Fletcher-32 per chunk
//
// Splits are "train", "val" and "test"; a file holds those its source has. The readers check the
// format name, refuse versions newer than theirs, and check that shapes agree. Version 2 added the
// Fletcher-32 checksums (HDF5's filter), so a damaged chunk fails its read instead of returning
// wrong pixels; version 1 files, without them, still read.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/hdf5.h"

namespace alexnet {

constexpr const char* kDatasetFormat = "alexnet-dataset";
constexpr int kDatasetVersion = 2;

// A read of one image that failed: a Fletcher-32 mismatch (a damaged chunk) or a truncated file.
// The message names the file, the split and the index; the loader may skip such an image.
class DamagedImage : public UserError {
 public:
  DamagedImage(const std::string& message, std::string split, int64_t index)
      : UserError(message), split_(std::move(split)), index_(index) {}
  const std::string& split() const { return split_; }
  int64_t index() const { return index_; }

 private:
  std::string split_;
  int64_t index_;
};

struct DatasetInfo {
  int height = 0, width = 0, channels = 0;
  std::vector<std::string> classes;
  std::vector<float> mean;              // [H, W, C]
  std::vector<float> pca_eigenvalues;   // [C]
  std::vector<float> pca_eigenvectors;  // [C, C], row-major: element (c, j) is component c of vector j
  std::string source;
  std::string created;
};

// Writes a dataset file under `path + ".partial"` and renames it to `path` in finish(). A writer
// destroyed before finish() removes the partial file, so an interrupted pack leaves nothing that
// looks complete. A failed write (a full disk) throws std::runtime_error naming `path` and the
// system's reason.
class DatasetWriter {
 public:
  // Throws UserError when `path` exists and `force` is false. `version` 1 writes the old format,
  // without checksums (for tests of the reader's compatibility).
  DatasetWriter(const std::string& path, int height, int width, int channels, bool force,
                int version = kDatasetVersion);
  ~DatasetWriter();
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  // Starts a split; images are appended in order until the next begin_split() or finish().
  void begin_split(const std::string& name);
  void append(const uint8_t* image_hwc, int32_t label);
  int64_t count() const { return count_; }
  void finish(const DatasetInfo& info);
  const std::string& partial_path() const { return partial_; }

 private:
  void close_split();
  [[noreturn]] void failed(const std::runtime_error& e) const;
  void add_checksum(hid_t dataset_properties) const;
  struct Handles;
  std::string path_, partial_;
  int height_, width_, channels_, version_;
  std::unique_ptr<Handles> h_;
  std::vector<int32_t> labels_;
  int64_t count_ = 0;
  bool finished_ = false;
};

class DatasetReader {
 public:
  // Throws UserError naming the file and what is wrong: not HDF5, not ours, a newer version,
  // missing datasets, or shapes that disagree.
  explicit DatasetReader(const std::string& path);
  ~DatasetReader();
  DatasetReader(const DatasetReader&) = delete;
  DatasetReader& operator=(const DatasetReader&) = delete;

  const std::string& path() const { return path_; }
  const DatasetInfo& info() const { return info_; }
  int version() const { return version_; }
  bool has_split(const std::string& split) const;
  int64_t size(const std::string& split) const;
  const std::vector<int32_t>& labels(const std::string& split) const;
  // Copies image `index` of `split` ([H, W, C] uint8) into `out`. Safe from several threads.
  // Throws DamagedImage when the image's chunk fails its checksum or cannot be read.
  void read_image(const std::string& split, int64_t index, uint8_t* out) const;

 private:
  struct Split;
  void open();
  const Split& split(const std::string& name) const;
  std::string path_;
  DatasetInfo info_;
  int version_ = 0;
  struct Handles;
  std::unique_ptr<Handles> h_;
  std::vector<std::unique_ptr<Split>> splits_;
};

}  // namespace alexnet
