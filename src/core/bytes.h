// Plain values as bytes and back: what host collectives (Communicator::all_gather_host,
// broadcast_host) carry.
#pragma once

#include <cstring>
#include <string>
#include <vector>

namespace alexnet {

template <class T>
std::string as_bytes(const T* values, size_t n) {
  return std::string(reinterpret_cast<const char*>(values), n * sizeof(T));
}
template <class T>
std::string as_bytes(const std::vector<T>& values) {
  return as_bytes(values.data(), values.size());
}
template <class T>
std::vector<T> from_bytes(const std::string& bytes) {
  std::vector<T> values(bytes.size() / sizeof(T));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}

}  // namespace alexnet
