#include "core/image_codec.h"

#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <memory>

namespace alexnet {

namespace {

// The most pixels an image may have: 8192 x 8192 (ImageNet's largest are a few thousand a side,
// and pack resizes to 256). A header is a few bytes; without a cap, one claiming 60000 x 60000
// would make us allocate 10 GB before its data turned out to be missing (the fuzzer's finding).
constexpr int64_t kMaxPixels = int64_t{1} << 26;

void check_size(const char* format, int64_t width, int64_t height) {
  if (width > 0 && height > 0 && width * height <= kMaxPixels) return;
  throw CodecError(std::string("not a decodable ") + format + " (its header gives " + std::to_string(width) +
                   "x" + std::to_string(height) + " pixels; at most " + std::to_string(kMaxPixels) +
                   " are read)");
}

// One TurboJPEG handle, destroyed on every path.
struct TjHandle {
  tjhandle h;
  explicit TjHandle(tjhandle handle) : h(handle) {
    if (!h) throw CodecError(std::string("libjpeg-turbo could not start: ") + tjGetErrorStr2(nullptr));
  }
  ~TjHandle() { tjDestroy(h); }
  TjHandle(const TjHandle&) = delete;
  TjHandle& operator=(const TjHandle&) = delete;
};

std::string tj_error(tjhandle h) {
  return tjGetErrorStr2(h);
}

}  // namespace

ImageFormat sniff_image_format(const uint8_t* b, size_t n) {
  static const uint8_t kJpeg[] = {0xFF, 0xD8, 0xFF};
  static const uint8_t kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (n >= sizeof kJpeg && std::equal(kJpeg, kJpeg + sizeof kJpeg, b)) return ImageFormat::kJpeg;
  if (n >= sizeof kPng && std::equal(kPng, kPng + sizeof kPng, b)) return ImageFormat::kPng;
  return ImageFormat::kUnknown;
}

// --- JPEG ------------------------------------------------------------------------------------

Pixels decode_jpeg(const uint8_t* bytes, size_t size) {
  if (sniff_image_format(bytes, size) != ImageFormat::kJpeg)
    throw CodecError("not a JPEG file (by its first bytes)");
  const size_t tail = std::min<size_t>(size, 64);
  bool eoi = false;
  for (size_t i = size - tail; i + 1 < size; ++i) eoi |= bytes[i] == 0xFF && bytes[i + 1] == 0xD9;
  if (!eoi) throw CodecError("truncated JPEG (no end-of-image marker)");
  TjHandle tj(tjInitDecompress());
  int width = 0, height = 0, subsampling = 0, colourspace = 0;
  if (tjDecompressHeader3(tj.h, bytes, static_cast<unsigned long>(size), &width, &height, &subsampling,
                          &colourspace) != 0) {
    throw CodecError("not a decodable JPEG (" + tj_error(tj.h) + ")");
  }
  check_size("JPEG", width, height);
  Pixels out{height, width, 3, {}};
  // Warnings (a corrupt but decodable stream) are tolerated, as OpenCV's decoder did; errors not.
  const int flags = TJFLAG_ACCURATEDCT;
  if (colourspace == TJCS_CMYK || colourspace == TJCS_YCCK) {
    std::vector<uint8_t> cmyk(static_cast<size_t>(width) * height * 4);
    if (tjDecompress2(tj.h, bytes, static_cast<unsigned long>(size), cmyk.data(), width, 0, height, TJPF_CMYK,
                      flags) != 0 &&
        tjGetErrorCode(tj.h) == TJERR_FATAL) {
      throw CodecError("not a decodable JPEG (" + tj_error(tj.h) + ")");
    }
    // Adobe writes CMYK inverted (255 = no ink): each colour is its value scaled by K's.
    out.data.resize(static_cast<size_t>(width) * height * 3);
    for (size_t i = 0, n = static_cast<size_t>(width) * height; i < n; ++i) {
      const unsigned k = cmyk[4 * i + 3];
      for (int c = 0; c < 3; ++c)
        out.data[3 * i + c] = static_cast<uint8_t>((cmyk[4 * i + c] * k + 127) / 255);
    }
    return out;
  }
  out.data.resize(static_cast<size_t>(width) * height * 3);
  if (tjDecompress2(tj.h, bytes, static_cast<unsigned long>(size), out.data.data(), width, 0, height,
                    TJPF_RGB, flags) != 0 &&
      tjGetErrorCode(tj.h) == TJERR_FATAL) {
    throw CodecError("not a decodable JPEG (" + tj_error(tj.h) + ")");
  }
  return out;
}

std::vector<uint8_t> encode_jpeg(const Pixels& image, int quality) {
  if (image.channels != 1 && image.channels != 3)
    throw CodecError("a JPEG holds 1 or 3 channels, not " + std::to_string(image.channels));
  if (quality < 1 || quality > 100)
    throw CodecError("JPEG quality " + std::to_string(quality) + " is not in 1-100");
  TjHandle tj(tjInitCompress());
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const int format = image.channels == 1 ? TJPF_GRAY : TJPF_RGB;
  const int subsampling = image.channels == 1 ? TJSAMP_GRAY : TJSAMP_420;
  if (tjCompress2(tj.h, image.data.data(), image.width, 0, image.height, format, &buffer, &size, subsampling,
                  quality, TJFLAG_ACCURATEDCT) != 0) {
    tjFree(buffer);
    throw CodecError("the JPEG encoder failed (" + tj_error(tj.h) + ")");
  }
  std::vector<uint8_t> out(buffer, buffer + size);
  tjFree(buffer);
  return out;
}

// --- PNG -------------------------------------------------------------------------------------

namespace {

struct PngReader {
  const uint8_t* bytes;
  size_t size, at = 0;
  std::string error;
};

void png_read_bytes(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (n > r->size - r->at) {
    r->error = "truncated PNG";
    png_error(png, "truncated");
  }
  std::memcpy(out, r->bytes + r->at, n);
  r->at += n;
}

void png_on_error(png_structp png, png_const_charp message) {
  auto* r = static_cast<PngReader*>(png_get_error_ptr(png));
  if (r && r->error.empty()) r->error = message;
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}  // as OpenCV: a warning does not fail a file

}  // namespace

Pixels decode_png(const uint8_t* bytes, size_t size) {
  if (sniff_image_format(bytes, size) != ImageFormat::kPng)
    throw CodecError("not a PNG file (by its first bytes)");
  PngReader reader{bytes, size, 0, {}};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, png_on_error, png_on_warning);
  if (!png) throw CodecError("libpng could not start");
  png_infop info = png_create_info_struct(png);
  Pixels out;
  std::vector<png_bytep> rows;
  // libpng reports errors by longjmp: nothing with a destructor may be made between here and the
  // calls below (out and rows are made above and only resized).
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw CodecError("not a decodable PNG (" +
                     (reader.error.empty() ? std::string("libpng failed") : reader.error) + ")");
  }
  if (!info) png_error(png, "out of memory");
  png_set_read_fn(png, &reader, png_read_bytes);
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
  if (width == 0 || height == 0 || int64_t{width} * height > kMaxPixels) {
    reader.error = "its header gives " + std::to_string(width) + "x" + std::to_string(height) +
                   " pixels; at most " + std::to_string(kMaxPixels) + " are read";
    png_error(png, "too large");
  }
  // To 8-bit RGB, as OpenCV's IMREAD_COLOR: high byte of 16-bit samples, palettes and low-bit grey
  // expanded, grey to RGB, alpha (and transparency) dropped.
  png_set_strip_16(png);
  png_set_packing(png);
  const int colour = png_get_color_type(png, info);
  if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (colour == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (colour == PNG_COLOR_TYPE_GRAY || colour == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != static_cast<size_t>(width) * 3) png_error(png, "unexpected row layout");
  out.height = static_cast<int>(height);
  out.width = static_cast<int>(width);
  out.channels = 3;
  out.data.resize(static_cast<size_t>(width) * height * 3);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = out.data.data() + static_cast<size_t>(y) * width * 3;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return out;
}

std::vector<uint8_t> encode_png(const Pixels& image) {
  if (image.channels != 1 && image.channels != 3)
    throw CodecError("a PNG is written from 1 or 3 channels, not " + std::to_string(image.channels));
  png_image p{};
  p.version = PNG_IMAGE_VERSION;
  p.width = static_cast<png_uint_32>(image.width);
  p.height = static_cast<png_uint_32>(image.height);
  p.format = image.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&p, nullptr, &size, 0, image.data.data(), 0, nullptr))
    throw CodecError(std::string("the PNG encoder failed (") + p.message + ")");
  std::vector<uint8_t> out(size);
  if (!png_image_write_to_memory(&p, out.data(), &size, 0, image.data.data(), 0, nullptr))
    throw CodecError(std::string("the PNG encoder failed (") + p.message + ")");
  out.resize(size);
  png_image_free(&p);
  return out;
}

Pixels decode_image_bytes(const uint8_t* bytes, size_t size) {
  switch (sniff_image_format(bytes, size)) {
    case ImageFormat::kJpeg:
      return decode_jpeg(bytes, size);
    case ImageFormat::kPng:
      return decode_png(bytes, size);
    case ImageFormat::kUnknown:
      break;
  }
  throw CodecError("not a JPEG or PNG file (by its first bytes)");
}

}  // namespace alexnet
