// The one JSON helper the run files need: a string literal, escaped as RFC 8259 requires (quote,
// backslash and control characters), so that paths, titles and host names with odd characters
// still give files that json.load reads.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace alexnet {

inline std::string json_string(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (c == '\n') {
      o += "\\n";
    } else if (c == '\r') {
      o += "\\r";
    } else if (c == '\t') {
      o += "\\t";
    } else if (u < 0x20) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04x", u);
      o += code;
    } else {
      o += c;  // UTF-8 passes through as it is
    }
  }
  return o + "\"";
}

}  // namespace alexnet
