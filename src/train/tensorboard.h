// TensorBoard event files, written directly: TFRecord framing (length, masked CRC-32C, payload,
// masked CRC-32C) around hand-encoded Event protocol buffers holding scalar summaries.
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
// and the HParams plugin's records (TensorBoard's plugins/hparams/plugin_data.proto), so that the
// HParams tab lists runs side by side: a Value with metadata = 9 { plugin_data = 1 { plugin_name
// = 1 "hparams", content = 2 HParamsPluginData } } and tensor = 8 (an empty float tensor),
//   HParamsPluginData { session_start_info = 3 { map<string, Value> hparams = 1; group_name = 4;
//                       start_time_secs = 5 }  |  session_end_info = 4 { status = 1; end_time_secs = 2 } }
//   google.protobuf.Value { number_value = 2 | string_value = 3 | bool_value = 4 }
// With no experiment record, TensorBoard builds the table from the sessions' hparams and every
// scalar tag of their runs.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace alexnet {

uint32_t crc32c(const void* data, size_t size);

class TensorBoardWriter {
 public:
  // Creates dir (if needed) and a new events.out.tfevents.<seconds>.<host> file in it.
  explicit TensorBoardWriter(const std::string& dir);
  void scalar(const std::string& tag, int64_t step, double value);
  // An HParams session: started with the run's key settings (each a number or a string), ended
  // with its status (1: success; 3: failure... as tensorboard.hparams.Status).
  struct HParam {
    std::string name;
    bool is_number = false;
    double number = 0;
    std::string text;
  };
  void hparams_start(const std::vector<HParam>& hparams, const std::string& group);
  void hparams_end(int status);
  // Throws std::runtime_error naming the file and the system's reason when a write failed.
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& payload);
  std::string path_;
  std::ofstream out_;
};

}  // namespace alexnet
