// Numbers and strings as people and parsers read them back: the shortest decimal that round-trips
// (0.9, not 0.90000000000000002), TOML floats, JSON strings. Used wherever a float is shown (help
// defaults, config.toml, info --json), so a value prints as it was written.
#pragma once

#include <string>
#include <string_view>

namespace alexnet {

// The shortest text that parses back to exactly `v`: fixed or scientific, whichever is shorter,
// fixed on a tie, the exponent without padding ("0.9", "0.01", "5e-4", "1e-4", "2", "1e20").
// Infinities and NaN print as "inf", "-inf", "nan".
std::string shortest_double(double v);
// The same for a float: the shortest text that reads back as the same float (1e-4f is "1e-4",
// where the double it widens to would print as 9.99999974737875e-5).
std::string shortest_float(float v);

// shortest_double, made a TOML float: "2" becomes "2.0" so that it reads back as a float.
std::string toml_float(double v);

// `s` as a JSON string literal, quotes included: ", \ and control characters escaped; other bytes
// (UTF-8) pass through.
std::string json_quote(std::string_view s);

}  // namespace alexnet
