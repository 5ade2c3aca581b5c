// libFuzzer target: an image file's bytes -> decode_image, what `alexnet pack` does with every
// file of a folder tree. Malformed input must end in DecodeError (pack skips the image and names
// it, or stops with --strict); any other exception, a crash or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/sources.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    alexnet::decode_image(std::vector<uint8_t>(data, data + size));
  } catch (const alexnet::DecodeError&) {
  }
  return 0;
}
