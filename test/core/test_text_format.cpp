// Numbers print as written and read back exactly; JSON strings are escaped.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/text_format.h"

namespace alexnet {
namespace {

TEST(TextFormat, ShortestDoubleIsAsWrittenAndRoundTrips) {
  EXPECT_EQ(shortest_double(0.9), "0.9");
  EXPECT_EQ(shortest_double(5e-4), "5e-4");
  EXPECT_EQ(shortest_double(0.01), "0.01");  // a tie with 1e-2 goes to the fixed form
  EXPECT_EQ(shortest_double(0.1), "0.1");
  EXPECT_EQ(shortest_double(1e-4), "1e-4");
  EXPECT_EQ(shortest_double(0.75), "0.75");
  EXPECT_EQ(shortest_double(2), "2");
  EXPECT_EQ(shortest_double(0), "0");
  EXPECT_EQ(shortest_double(-0.125), "-0.125");
  EXPECT_EQ(shortest_double(123456), "123456");
  EXPECT_EQ(shortest_double(1e20), "1e20");
  EXPECT_EQ(shortest_double(1.5e-7), "1.5e-7");
  for (double v : {0.9, 5e-4, 0.01, 1.0 / 3, 2.0 / 3e-9, 6.02214076e23, 4.9e-324}) {
    std::string s = shortest_double(v);
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), v) << s;
    EXPECT_EQ(s.find("00000"), std::string::npos) << s;
  }
}

TEST(TextFormat, ShortestFloatIsAsWritten) {
  EXPECT_EQ(shortest_float(1e-4f), "1e-4");  // as a double it would be 9.99999974737875e-5
  EXPECT_EQ(shortest_float(0.75f), "0.75");
  EXPECT_EQ(shortest_float(0.1f), "0.1");
  EXPECT_EQ(shortest_float(2.0f), "2");
  for (float v : {1e-4f, 0.1f, 1.0f / 3, 3.4e38f})
    EXPECT_EQ(std::strtof(shortest_float(v).c_str(), nullptr), v);
}

TEST(TextFormat, TomlFloatsLookLikeFloats) {
  EXPECT_EQ(toml_float(2), "2.0");
  EXPECT_EQ(toml_float(0), "0.0");
  EXPECT_EQ(toml_float(0.9), "0.9");
  EXPECT_EQ(toml_float(5e-4), "5e-4");
  EXPECT_EQ(toml_float(1e20), "1e20");
}

TEST(TextFormat, JsonQuoteEscapes) {
  EXPECT_EQ(json_quote("conv1"), "\"conv1\"");
  EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_quote("line\nnext\ttab"), "\"line\\nnext\\ttab\"");
  EXPECT_EQ(json_quote(std::string("\x01", 1)), "\"\\u0001\"");
  EXPECT_EQ(json_quote("say \"hi\"\\now"), "\"say \\\"hi\\\"\\\\now\"");
  EXPECT_EQ(json_quote("a\nb\tc\r"), "\"a\\nb\\tc\\r\"");
  EXPECT_EQ(json_quote(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // UTF-8 passes through
}

}  // namespace
}  // namespace alexnet
