// JPEG and PNG to and from 8-bit pixels: libjpeg-turbo's TurboJPEG and libpng, nothing else.
//
// `pack --source folder` decodes ImageNet's JPEGs (greyscale and CMYK among them, and a PNG named
// .JPEG) and `show` writes its pictures as PNG. These two small libraries do all of it; OpenCV's
// imgcodecs did before, and pulled in GDAL and its hundred libraries (the GPU bundle's bulk).
// Decoding follows what OpenCV's IMREAD_COLOR gave: greyscale expanded to three channels, CMYK
// (as Adobe writes it, inverted) multiplied out, 16-bit PNG samples cut to their high byte,
// palettes expanded and alpha dropped. Every failure is a CodecError naming what is wrong, never
// a library's own text alone, and never a longjmp or abort out of the library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace alexnet {

class CodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Pixels in row-major order, channels interleaved (RGB for three).
struct Pixels {
  int height = 0, width = 0, channels = 0;
  std::vector<uint8_t> data;  // height * width * channels
};

enum class ImageFormat { kUnknown, kJpeg, kPng };
// By the first bytes (JPEG: FF D8 FF; PNG: its 8-byte signature).
ImageFormat sniff_image_format(const uint8_t* bytes, size_t size);

// Three-channel RGB. CodecError for a damaged or truncated file (a JPEG must end with its
// end-of-image marker: libjpeg would fill the rest with grey and call it a warning).
Pixels decode_jpeg(const uint8_t* bytes, size_t size);
Pixels decode_png(const uint8_t* bytes, size_t size);
// Either, by its first bytes; CodecError for anything else.
Pixels decode_image_bytes(const uint8_t* bytes, size_t size);

// One or three channels. JPEG at `quality` (1-100) with 4:2:0 chroma for colour.
std::vector<uint8_t> encode_png(const Pixels& image);
std::vector<uint8_t> encode_jpeg(const Pixels& image, int quality);

}  // namespace alexnet
