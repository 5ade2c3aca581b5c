#include "core/text_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace alexnet {

namespace {

template <class T>
std::string shortest(T v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  // to_chars without a precision gives the shortest digits that round-trip, in either format.
  char fixed[400], sci[64];
  auto f = std::to_chars(fixed, fixed + sizeof fixed, v, std::chars_format::fixed);
  auto s = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  std::string fixed_text(fixed, f.ptr);
  // "5e-04" -> "5e-4", "1.5e+20" -> "1.5e20": the exponent as written by hand.
  std::string sci_text(sci, s.ptr);
  size_t e = sci_text.find('e');
  int exponent = std::atoi(sci_text.c_str() + e + 1);
  sci_text = sci_text.substr(0, e + 1) + std::to_string(exponent);
  return sci_text.size() < fixed_text.size() ? sci_text : fixed_text;
}

}  // namespace

std::string shortest_double(double v) {
  return shortest(v);
}

std::string shortest_float(float v) {
  return shortest(v);
}

std::string toml_float(double v) {
  std::string s = shortest_double(v);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";
  return s;
}

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(ch));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

}  // namespace alexnet
