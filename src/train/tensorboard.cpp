#include "train/tensorboard.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/errors.h"

namespace alexnet {

namespace {

std::array<uint32_t, 256> crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // Castagnoli, reflected
    t[i] = c;
  }
  return t;
}

uint32_t masked_crc(const void* data, size_t size) {
  uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

template <typename T>
void little_endian(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // x86-64 and arm64 are little-endian
  out.append(bytes, sizeof(T));
}

void length_delimited(std::string& out, int field, const std::string& bytes) {
  varint(out, (static_cast<uint64_t>(field) << 3) | 2);
  varint(out, bytes.size());
  out += bytes;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string event(int64_t step, const std::string* file_version, const std::string* summary) {
  std::string e;
  e.push_back(0x09);  // field 1, 64-bit
  little_endian(e, now_seconds());
  e.push_back(0x10);  // field 2, varint
  varint(e, static_cast<uint64_t>(step));
  if (file_version) length_delimited(e, 3, *file_version);
  if (summary) length_delimited(e, 5, *summary);
  return e;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  static const std::array<uint32_t, 256> table = crc_table();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  std::filesystem::create_directories(dir);
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  path_ = dir + "/events.out.tfevents." + std::to_string(static_cast<int64_t>(now_seconds())) + "." + host;
  out_.open(path_, std::ios::binary | std::ios::app);
  if (!out_) throw UserError(path_ + ": cannot write TensorBoard events");
  const std::string version = "brain.Event:2";
  write_record(event(0, &version, nullptr));
  flush();
}

void TensorBoardWriter::flush() {
  out_.flush();
  if (out_) return;
  const int error = errno;  // still the failed write's
  throw std::runtime_error(path_ + ": cannot write TensorBoard events (" +
                           (error ? std::strerror(error) : "the write failed") + ")");
}

void TensorBoardWriter::scalar(const std::string& tag, int64_t step, double value) {
  std::string v;
  length_delimited(v, 1, tag);
  v.push_back(0x15);  // field 2, 32-bit
  little_endian(v, static_cast<float>(value));
  std::string summary;
  length_delimited(summary, 1, v);
  write_record(event(step, nullptr, &summary));
}

namespace {
// A Summary holding one HParams plugin record under `tag`.
std::string hparams_summary(const std::string& tag, const std::string& plugin_data) {
  std::string plugin;
  length_delimited(plugin, 1, "hparams");
  length_delimited(plugin, 2, plugin_data);
  std::string metadata;
  length_delimited(metadata, 1, plugin);
  const std::string null_tensor("\x08\x01\x12\x02\x12\x00", 6);  // DT_FLOAT, shape [0]
  std::string v;
  length_delimited(v, 1, tag);
  length_delimited(v, 8, null_tensor);
  length_delimited(v, 9, metadata);
  std::string summary;
  length_delimited(summary, 1, v);
  return summary;
}
}  // namespace

void TensorBoardWriter::hparams_start(const std::vector<HParam>& hparams, const std::string& group) {
  std::string info;
  for (const HParam& h : hparams) {
    std::string value;
    if (h.is_number) {
      value.push_back(0x11);  // number_value = 2, 64-bit
      little_endian(value, h.number);
    } else {
      length_delimited(value, 3, h.text);
    }
    std::string entry;
    length_delimited(entry, 1, h.name);
    length_delimited(entry, 2, value);
    length_delimited(info, 1, entry);
  }
  length_delimited(info, 4, group);
  info.push_back(0x29);  // start_time_secs = 5, 64-bit
  little_endian(info, now_seconds());
  std::string data;
  length_delimited(data, 3, info);
  const std::string summary = hparams_summary("_hparams_/session_start_info", data);
  write_record(event(0, nullptr, &summary));
}

void TensorBoardWriter::hparams_end(int status) {
  std::string info;
  info.push_back(0x08);  // status = 1, varint
  varint(info, static_cast<uint64_t>(status));
  info.push_back(0x11);  // end_time_secs = 2, 64-bit
  little_endian(info, now_seconds());
  std::string data;
  length_delimited(data, 4, info);
  const std::string summary = hparams_summary("_hparams_/session_end_info", data);
  write_record(event(0, nullptr, &summary));
}

void TensorBoardWriter::write_record(const std::string& payload) {
  std::string header;
  little_endian(header, static_cast<uint64_t>(payload.size()));
  uint32_t header_crc = masked_crc(header.data(), header.size());
  uint32_t payload_crc = masked_crc(payload.data(), payload.size());
  out_.write(header.data(), header.size());
  out_.write(reinterpret_cast<const char*>(&header_crc), 4);
  out_.write(payload.data(), payload.size());
  out_.write(reinterpret_cast<const char*>(&payload_crc), 4);
}

}  // namespace alexnet
