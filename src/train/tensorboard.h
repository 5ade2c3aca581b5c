// TensorBoard event files, written directly: TFRecord framing (length, masked CRC-32C, payload,
// masked CRC-32C) around hand-encoded Event protocol buffers holding scalar summaries.
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

namespace alexnet {

uint32_t crc32c(const void* data, size_t size);

class TensorBoardWriter {
 public:
  // Creates dir (if needed) and a new events.out.tfevents.<seconds>.<host> file in it.
  explicit TensorBoardWriter(const std::string& dir);
  void scalar(const std::string& tag, int64_t step, double value);
  // Throws std::runtime_error naming the file and the system's reason when a write failed.
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& payload);
  std::string path_;
  std::ofstream out_;
};

}  // namespace alexnet
