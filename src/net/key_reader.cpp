#include "net/key_reader.h"

#include <sstream>

#include "core/errors.h"

namespace alexnet {

namespace {
std::string type_of(const toml::node& n) {
  std::ostringstream s;
  s << n.type();
  return s.str();
}
}  // namespace

void KeyReader::fail(const toml::node* node, const std::string& message) const {
  int line = static_cast<int>(node ? node->source().begin.line : table_.source().begin.line);
  throw UserError(origin_ + ":" + std::to_string(line) + ": " + where_ + ": " + message);
}

std::string KeyReader::string(const char* key, const std::string* fallback) const {
  const toml::node* n = get(key);
  if (!n) {
    if (fallback) return *fallback;
    fail(nullptr, std::string("missing key '") + key + "'");
  }
  if (!n->is_string()) fail(n, std::string("key '") + key + "' must be a string, got " + type_of(*n));
  return **n->as_string();
}

int KeyReader::integer(const char* key, int fallback, int min, bool required) const {
  const toml::node* n = get(key);
  if (!n) {
    if (required) fail(nullptr, std::string("missing key '") + key + "'");
    return fallback;
  }
  if (!n->is_integer()) fail(n, std::string("key '") + key + "' must be an integer, got " + type_of(*n));
  int64_t v = **n->as_integer();
  if (v < min || v > (1 << 30)) {
    fail(n, std::string("key '") + key + "' must be at least " + std::to_string(min) + ", got " +
                std::to_string(v));
  }
  return static_cast<int>(v);
}

float KeyReader::number(const char* key, float fallback, float min) const {
  const toml::node* n = get(key);
  if (!n) return fallback;
  if (!n->is_number()) fail(n, std::string("key '") + key + "' must be a number, got " + type_of(*n));
  double v = n->is_integer() ? static_cast<double>(**n->as_integer()) : **n->as_floating_point();
  if (!(v >= min)) fail(n, std::string("key '") + key + "' must be at least " + std::to_string(min));
  return static_cast<float>(v);
}

bool KeyReader::boolean(const char* key, bool fallback) const {
  const toml::node* n = get(key);
  if (!n) return fallback;
  if (!n->is_boolean()) fail(n, std::string("key '") + key + "' must be true or false, got " + type_of(*n));
  return **n->as_boolean();
}

void KeyReader::only(const std::set<std::string>& keys) const {
  for (auto&& [key, node] : table_) {
    if (!keys.count(std::string(key.str()))) fail(&node, "unknown key '" + std::string(key.str()) + "'");
  }
}

}  // namespace alexnet
