// The rendezvous store's wire format, shared by its server and its clients (comm/tcp_store.h).
// Internal to src/comm.
//
// Every message is a frame: a 4-byte length, then that many bytes. A request starts with its Op,
// a reply with its Reply; the fields follow in the order the comments give. Integers travel in
// network byte order, so ranks on machines of either byte order agree; strings and byte strings
// are a 4-byte length and the bytes.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace alexnet::store_protocol {

enum class Op : uint8_t {
  kHello = 1,  // rank, world size, towers             -> kOk | kError (two processes claim the rank)
  kSet,        // key, value                           -> kOk
  kGet,        // key                                  -> kValue | kError (no such key)
  kWait,       // n, keys..., timeout ms               -> kOk | kTimeout (when the server's deadline passes)
  kRoster,     // after version, timeout ms            -> kRoster once the version exceeds `after` or at the
               // deadline
  kBye,        //                                      -> kOk; the connection's close is then not a loss
  kStuck,      // group, operation, n, member ranks... -> kOk; this rank's operation ran out of time
  kClock,      //                                      -> kValue: the server's steady clock, i64 ns
};

enum class Reply : uint8_t {
  kOk = 1,
  kValue,    // bytes
  kTimeout,  // the keys still missing: n, keys...
  kError,    // message
  kRoster,   // version, n, (rank, world size, towers, peer address)..., n, lost ranks...,
             // n, departed ranks..., n, conflicts..., n, (rank, group, operation, n, members...)...
             // (the ranks stuck in an operation)
};

// A frame larger than this is a protocol error, not a value anyone stores.
constexpr uint32_t kMaxFrame = 1u << 30;

class Writer {
 public:
  Writer& u8(uint8_t v) {
    bytes_.push_back(static_cast<char>(v));
    return *this;
  }
  Writer& u32(uint32_t v) {
    const uint32_t n = htonl(v);
    const char* p = reinterpret_cast<const char*>(&n);
    bytes_.insert(bytes_.end(), p, p + 4);
    return *this;
  }
  Writer& i32(int32_t v) { return u32(static_cast<uint32_t>(v)); }
  Writer& i64(int64_t v) {
    u32(static_cast<uint32_t>(static_cast<uint64_t>(v) >> 32));
    return u32(static_cast<uint32_t>(static_cast<uint64_t>(v)));
  }
  Writer& bytes(const char* data, size_t n) {
    u32(static_cast<uint32_t>(n));
    bytes_.insert(bytes_.end(), data, data + n);
    return *this;
  }
  Writer& str(const std::string& s) { return bytes(s.data(), s.size()); }
  Writer& blob(const std::vector<char>& v) { return bytes(v.data(), v.size()); }

  // The frame: length, then the message.
  std::vector<char> frame() const {
    Writer w;
    w.u32(static_cast<uint32_t>(bytes_.size()));
    w.bytes_.insert(w.bytes_.end(), bytes_.begin(), bytes_.end());
    return w.bytes_;
  }

 private:
  std::vector<char> bytes_;
};

// Reads one message; a message shorter than its fields say throws std::runtime_error.
class Reader {
 public:
  explicit Reader(const std::vector<char>& message) : data_(message) {}
  uint8_t u8() { return static_cast<uint8_t>(*take(1)); }
  uint32_t u32() {
    uint32_t n;
    std::memcpy(&n, take(4), 4);
    return ntohl(n);
  }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  int64_t i64() {
    const uint64_t hi = u32();
    return static_cast<int64_t>((hi << 32) | u32());
  }
  std::vector<char> blob() {
    const uint32_t n = u32();
    const char* p = take(n);
    return std::vector<char>(p, p + n);
  }
  std::string str() {
    const uint32_t n = u32();
    const char* p = take(n);
    return std::string(p, n);
  }

 private:
  const char* take(size_t n) {
    if (data_.size() - pos_ < n) throw std::runtime_error("rendezvous store: truncated message");
    const char* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }
  const std::vector<char>& data_;
  size_t pos_ = 0;
};

}  // namespace alexnet::store_protocol
