// Whole files written all at once or not at all: checkpoints, datasets, run configs, manifests,
// timing reports, predictions and logits. The bytes go to a temporary name beside the final one
// (same folder, so the rename stays within one file system), the file is flushed and fsync'd, then
// renamed over the final name, and the folder is fsync'd so that the rename itself survives a
// crash. A reader therefore sees the old file or the new one, never a half-written mix, and a
// failed write leaves nothing behind. Append-only streams (metrics CSV, TensorBoard events) are
// not written this way: a crash there loses the tail only.
#pragma once

#include <string>
#include <string_view>

namespace alexnet {

// The temporary name a file is written under before it is committed.
std::string temporary_path(const std::string& path);

// Writes `contents` to `path` atomically (as above). The folder must exist. Throws naming the path
// and the system's reason: UserError for a path that cannot be written (no such folder, no
// permission), std::runtime_error for a full disk or an I/O error. On failure no temporary file is
// left.
void write_file_atomically(const std::string& path, std::string_view contents);

// For large outputs written piece by piece. Commit() publishes the file; destroying an
// uncommitted AtomicFile removes its temporary.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // creates the temporary; UserError if it cannot
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t bytes);
  void write(std::string_view text) { write(text.data(), text.size()); }
  void commit();

 private:
  std::string path_, temporary_;
  int fd_ = -1;
  bool committed_ = false;
};

// For files that a library writes by name (HDF5): the caller fills temporary_path(path), then
// commit_file() makes it durable and renames it with the same steps as AtomicFile::commit. On
// failure it removes the temporary and throws UserError.
void commit_file(const std::string& temporary, const std::string& path);

// Removes a temporary that will not be committed (after a failed write); never throws.
void discard_file(const std::string& temporary) noexcept;

}  // namespace alexnet
