// JPEG and PNG through libjpeg-turbo and libpng (core/image_codec.h): the kinds ImageNet holds
// (colour, greyscale, CMYK JPEGs; PNGs of every colour type and depth) decode to 8-bit RGB as
// OpenCV's IMREAD_COLOR did, and damaged files are CodecErrors with a reason, never a crash.
#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/image_codec.h"

namespace alexnet {
namespace {

Pixels gradient(int h, int w, int channels) {
  Pixels p{h, w, channels, {}};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        p.data.push_back(static_cast<uint8_t>((y * 7 + x * 3 + c * 80) % 256));
  return p;
}

// Smooth, as photographs mostly are (a JPEG's error is largest at sharp edges).
Pixels smooth(int h, int w, int channels) {
  Pixels p{h, w, channels, {}};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c) p.data.push_back(static_cast<uint8_t>(y * 2 + x * 2 + c * 40));
  return p;
}

double mean_abs_difference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(int(a[i]) - int(b[i]));
  return sum / static_cast<double>(a.size());
}

std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    decode_image_bytes(bytes.data(), bytes.size());
  } catch (const CodecError& e) {
    return e.what();
  }
  return "decoded";
}

TEST(ImageCodec, PngRoundTripsExactlyAndGreyBecomesRgb) {
  const Pixels rgb = gradient(17, 23, 3);
  const std::vector<uint8_t> png = encode_png(rgb);
  EXPECT_EQ(sniff_image_format(png.data(), png.size()), ImageFormat::kPng);
  const Pixels back = decode_image_bytes(png.data(), png.size());
  EXPECT_EQ(back.height, 17);
  EXPECT_EQ(back.width, 23);
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.data, rgb.data);

  const Pixels grey = gradient(9, 11, 1);
  const std::vector<uint8_t> g = encode_png(grey);
  const Pixels expanded = decode_png(g.data(), g.size());
  ASSERT_EQ(expanded.channels, 3);
  for (size_t i = 0; i < grey.data.size(); ++i)
    for (int c = 0; c < 3; ++c) ASSERT_EQ(expanded.data[3 * i + c], grey.data[i]) << i;
}

TEST(ImageCodec, PngWithAlphaOrSixteenBitsKeepsColourAndTheHighByte) {
  // RGBA: alpha dropped, colour kept as stored.
  Pixels rgba = gradient(5, 6, 4);
  png_image p{};
  p.version = PNG_IMAGE_VERSION;
  p.width = 6;
  p.height = 5;
  p.format = PNG_FORMAT_RGBA;
  png_alloc_size_t size = 0;
  ASSERT_TRUE(png_image_write_to_memory(&p, nullptr, &size, 0, rgba.data.data(), 0, nullptr));
  std::vector<uint8_t> bytes(size);
  ASSERT_TRUE(png_image_write_to_memory(&p, bytes.data(), &size, 0, rgba.data.data(), 0, nullptr));
  const Pixels rgb = decode_png(bytes.data(), size);
  for (int i = 0; i < 30; ++i)
    for (int c = 0; c < 3; ++c) ASSERT_EQ(rgb.data[3 * i + c], rgba.data[4 * i + c]) << i;

  // 16-bit samples: their high byte.
  std::vector<uint16_t> wide(5 * 6 * 3);
  for (size_t i = 0; i < wide.size(); ++i) wide[i] = static_cast<uint16_t>(i * 2111 + 7);
  png_image q{};
  q.version = PNG_IMAGE_VERSION;
  q.width = 6;
  q.height = 5;
  q.format = PNG_FORMAT_LINEAR_RGB;
  ASSERT_TRUE(png_image_write_to_memory(&q, nullptr, &size, 0, wide.data(), 0, nullptr));
  bytes.assign(size, 0);
  ASSERT_TRUE(png_image_write_to_memory(&q, bytes.data(), &size, 0, wide.data(), 0, nullptr));
  const Pixels high = decode_png(bytes.data(), size);
  for (size_t i = 0; i < wide.size(); ++i) ASSERT_EQ(high.data[i], wide[i] >> 8) << i;
}

TEST(ImageCodec, JpegRoundTripsWithinItsQualityAndGreyBecomesRgb) {
  const Pixels rgb = smooth(32, 40, 3);
  const std::vector<uint8_t> jpeg = encode_jpeg(rgb, 95);
  EXPECT_EQ(sniff_image_format(jpeg.data(), jpeg.size()), ImageFormat::kJpeg);
  const Pixels back = decode_image_bytes(jpeg.data(), jpeg.size());
  ASSERT_EQ(back.data.size(), rgb.data.size());
  EXPECT_LT(mean_abs_difference(back.data, rgb.data), 3.0);
  // Lower quality, larger error, smaller file: the quality is applied.
  const std::vector<uint8_t> rough = encode_jpeg(rgb, 20);
  EXPECT_LT(rough.size(), jpeg.size());
  EXPECT_GT(mean_abs_difference(decode_jpeg(rough.data(), rough.size()).data, rgb.data),
            mean_abs_difference(back.data, rgb.data));

  const Pixels grey = smooth(16, 16, 1);
  const std::vector<uint8_t> g = encode_jpeg(grey, 95);
  const Pixels three = decode_jpeg(g.data(), g.size());
  ASSERT_EQ(three.channels, 3);
  for (size_t i = 0; i < grey.data.size(); ++i) {
    ASSERT_EQ(three.data[3 * i], three.data[3 * i + 1]) << i;
    ASSERT_EQ(three.data[3 * i], three.data[3 * i + 2]) << i;
  }
}

TEST(ImageCodec, CmykJpegIsMultipliedOutAsAdobeWritesIt) {
  // Flat CMYK (inverted, as Adobe stores it): 200, 100, 50 scaled by K = 128.
  const int h = 16, w = 16;
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < h * w; ++i) cmyk.insert(cmyk.end(), {200, 100, 50, 128});
  tjhandle tj = tjInitCompress();
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  ASSERT_EQ(tjCompress2(tj, cmyk.data(), w, 0, h, TJPF_CMYK, &buffer, &size, TJSAMP_444, 100, 0), 0)
      << tjGetErrorStr2(tj);
  std::vector<uint8_t> jpeg(buffer, buffer + size);
  tjFree(buffer);
  tjDestroy(tj);
  const Pixels rgb = decode_jpeg(jpeg.data(), jpeg.size());
  ASSERT_EQ(rgb.channels, 3);
  const int want[3] = {200 * 128 / 255, 100 * 128 / 255, 50 * 128 / 255};  // 100, 50, 25
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(rgb.data[3 * 100 + c], want[c], 2) << c;
}

TEST(ImageCodec, DamagedFilesAreCodecErrorsWithAReason) {
  EXPECT_EQ(error_of({}), "not a JPEG or PNG file (by its first bytes)");
  EXPECT_EQ(error_of({'B', 'M', 1, 2}), "not a JPEG or PNG file (by its first bytes)");
  std::vector<uint8_t> jpeg = encode_jpeg(gradient(32, 32, 3), 90);
  std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + static_cast<long>(jpeg.size() / 2));
  EXPECT_EQ(error_of(cut), "truncated JPEG (no end-of-image marker)");
  std::vector<uint8_t> header_only(jpeg.begin(), jpeg.begin() + 20);
  header_only.insert(header_only.end(), {0xFF, 0xD9});
  EXPECT_NE(error_of(header_only).find("not a decodable JPEG"), std::string::npos) << error_of(header_only);
  std::vector<uint8_t> png = encode_png(gradient(32, 32, 3));
  std::vector<uint8_t> short_png(png.begin(), png.begin() + static_cast<long>(png.size() / 2));
  EXPECT_NE(error_of(short_png).find("not a decodable PNG"), std::string::npos) << error_of(short_png);
  std::vector<uint8_t> garbled = png;
  for (size_t i = 40; i < garbled.size(); i += 7) garbled[i] ^= 0x5A;
  EXPECT_NE(error_of(garbled).find("not a decodable PNG"), std::string::npos) << error_of(garbled);
  // A header claiming more pixels than are read (8192 x 8192) is refused before any allocation:
  // a JPEG whose SOF0 says 60000 x 60000 (the fuzzer's finding: 10 GB asked for).
  std::vector<uint8_t> huge = encode_jpeg(gradient(8, 8, 3), 90);
  for (size_t i = 0; i + 8 < huge.size(); ++i) {
    if (huge[i] == 0xFF && huge[i + 1] == 0xC0) {  // SOF0: length, precision, height, width
      huge[i + 5] = 0xEA, huge[i + 6] = 0x60, huge[i + 7] = 0xEA, huge[i + 8] = 0x60;
      break;
    }
  }
  EXPECT_NE(error_of(huge).find("60000x60000 pixels; at most 67108864 are read"), std::string::npos)
      << error_of(huge);
  EXPECT_THROW(encode_jpeg(gradient(4, 4, 2), 90), CodecError);
  EXPECT_THROW(encode_jpeg(gradient(4, 4, 3), 0), CodecError);
}

}  // namespace
}  // namespace alexnet
