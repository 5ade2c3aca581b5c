#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "core/crash_point.h"
#include "core/errors.h"

namespace alexnet {

namespace {

// A full disk or a failing device is the machine's fault, not the input's: std::runtime_error
// (exit status 1). A path that cannot be written (no such folder, no permission) is the user's.
bool machine_fault(int error) {
  return error == ENOSPC || error == EDQUOT || error == EFBIG || error == EIO;
}

[[noreturn]] void fail(const std::string& path, const char* what, int error) {
  const std::string message = path + ": " + what + " (" + std::generic_category().message(error) + ")";
  if (machine_fault(error)) throw std::runtime_error(message);
  throw UserError(message);
}

void sync_fd(int fd, const std::string& path) {
  if (::fsync(fd) != 0) fail(path, "cannot flush to disk", errno);
}

// The rename is an entry in the folder: fsync the folder too, or a crash can forget it.
void sync_folder(const std::string& path) {
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(folder, "cannot open folder to flush it", errno);
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  // Some file systems cannot sync a folder (EINVAL); the file is in place, so that is not fatal.
  if (rc != 0 && error != EINVAL && error != ENOTSUP) fail(folder, "cannot flush folder to disk", error);
}

void rename_into_place(const std::string& temporary, const std::string& path) {
  crash_point("before-rename");  // test-only (core/crash_point.h)
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int error = errno;
    discard_file(temporary);
    fail(path, "cannot rename the finished file into place", error);
  }
  crash_point("after-rename");
  sync_folder(path);
}

}  // namespace

std::string temporary_path(const std::string& path) {
  return path + ".partial";
}

void discard_file(const std::string& temporary) noexcept {
  ::unlink(temporary.c_str());
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), temporary_(temporary_path(path_)) {
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) fail(path_, "cannot write", errno);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) discard_file(temporary_);
}

void AtomicFile::write(const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = ::write(fd_, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path_, "cannot write", errno);
    if (n == 0) fail(path_, "cannot write", ENOSPC);  // a write that makes no progress
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  sync_fd(fd_, path_);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(path_, "cannot write", errno);
  committed_ = true;  // from here rename_into_place owns the temporary
  rename_into_place(temporary_, path_);
}

void write_file_atomically(const std::string& path, std::string_view contents) {
  AtomicFile file(path);
  file.write(contents);
  file.commit();
}

void commit_file(const std::string& temporary, const std::string& path) {
  int fd = ::open(temporary.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    discard_file(temporary);
    fail(path, "cannot reopen the written file", error);
  }
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (rc != 0) {
    discard_file(temporary);
    fail(path, "cannot flush to disk", error);
  }
  rename_into_place(temporary, path);
}

}  // namespace alexnet
