// Reads the keys of one TOML table of a network file and turns every problem into one message,
// "file:line: where: key 'k' ...", thrown as UserError. The network file and the layer table's
// per-type readers share it.
#pragma once

#include <toml++/toml.h>

#include <set>
#include <string>

namespace alexnet {

class KeyReader {
 public:
  KeyReader(const std::string& origin, const toml::table& table, std::string where)
      : origin_(origin), table_(table), where_(std::move(where)) {}

  [[noreturn]] void fail(const toml::node* node, const std::string& message) const;
  // Fails at the key's line (or the table's, when the key is absent).
  [[noreturn]] void fail_at(const char* key, const std::string& message) const { fail(get(key), message); }
  const toml::node* get(const char* key) const { return table_.get(key); }
  bool has(const char* key) const { return table_.contains(key); }

  // Each returns the fallback when the key is absent, and fails on a wrong type or range.
  std::string string(const char* key, const std::string* fallback = nullptr) const;
  int integer(const char* key, int fallback, int min, bool required = false) const;
  float number(const char* key, float fallback, float min) const;
  bool boolean(const char* key, bool fallback) const;
  // Fails on the first key not in `keys`, so that typos do not pass silently.
  void only(const std::set<std::string>& keys) const;

 private:
  const std::string& origin_;
  const toml::table& table_;
  std::string where_;
};

}  // namespace alexnet
