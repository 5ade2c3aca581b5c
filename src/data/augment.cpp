#include "data/augment.h"

#include <glog/logging.h>

#include <vector>

#include "core/philox.h"

namespace alexnet {

CropDraw draw_augmentation(uint64_t seed, uint64_t epoch, int64_t index, int height, int width, int crop,
                           int channels, float lighting_std) {
  const uint64_t subsequence =
      rng_subsequence(RngPurpose::kAugment, static_cast<uint32_t>(epoch & 0xFFFFFF), 0);
  const uint64_t base = static_cast<uint64_t>(index) * 16;
  auto draw = [&](int k) { return philox_draw(seed, subsequence, base + k); };
  CropDraw d;
  d.top = static_cast<int>(draw(0) % static_cast<uint32_t>(height - crop + 1));
  d.left = static_cast<int>(draw(1) % static_cast<uint32_t>(width - crop + 1));
  d.flip = draw(2) & 1u;
  for (int j = 0; j < channels && j < 3; ++j)
    d.alpha[j] = lighting_std * philox_normal(draw(3 + 2 * j), draw(4 + 2 * j));
  return d;
}

CropDraw centre_view(int height, int width, int crop) {
  CropDraw d;
  d.top = (height - crop) / 2;
  d.left = (width - crop) / 2;
  return d;
}

CropDraw ten_view(int view, int height, int width, int crop) {
  CHECK(view >= 0 && view < 10) << "view " << view;
  CropDraw d = centre_view(height, width, crop);
  switch (view % 5) {
    case 1:
      d.top = 0, d.left = 0;
      break;
    case 2:
      d.top = 0, d.left = width - crop;
      break;
    case 3:
      d.top = height - crop, d.left = 0;
      break;
    case 4:
      d.top = height - crop, d.left = width - crop;
      break;
    default:
      break;
  }
  d.flip = view >= 5;
  return d;
}

void lighting_offset(const DatasetInfo& info, const float* alpha, float* offset) {
  const int c = info.channels;
  for (int i = 0; i < c; ++i) {
    offset[i] = 0;
    for (int j = 0; j < c && j < 3; ++j)
      offset[i] += info.pca_eigenvectors[i * c + j] * alpha[j] * info.pca_eigenvalues[j];
    offset[i] *= 255.0f;
  }
}

void crop_image(const uint8_t* image, const float* mean, int height, int width, int channels,
                const CropDraw& d, int crop, const float* offset, float* out, float scale) {
  // Two passes per row: the crop's run of crop * channels bytes minus the mean, which is
  // contiguous and vectorises; then the split into channel planes, mirrored when flipped.
  const int64_t plane = static_cast<int64_t>(crop) * crop;
  const int run = crop * channels;
  thread_local std::vector<float> row;
  row.resize(run);
  float shift[4] = {0, 0, 0, 0};
  for (int c = 0; c < channels && c < 4; ++c) shift[c] = (offset ? offset[c] : 0.0f) * scale;
  for (int y = 0; y < crop; ++y) {
    const int64_t at = (static_cast<int64_t>(d.top + y) * width + d.left) * channels;
    const uint8_t* src = image + at;
    const float* m = mean + at;
    float* r = row.data();
    for (int k = 0; k < run; ++k) r[k] = (static_cast<float>(src[k]) - m[k]) * scale;
    float* dst = out + static_cast<int64_t>(y) * crop;
    if (channels == 3) {
      float *o0 = dst, *o1 = dst + plane, *o2 = dst + 2 * plane;
      for (int x = 0; x < crop; ++x) {
        const int i = 3 * (d.flip ? crop - 1 - x : x);
        o0[x] = r[i] + shift[0];
        o1[x] = r[i + 1] + shift[1];
        o2[x] = r[i + 2] + shift[2];
      }
    } else {
      for (int c = 0; c < channels; ++c) {
        float* o = dst + c * plane;
        const float s = c < 4 ? shift[c] : (offset ? offset[c] * scale : 0.0f);
        for (int x = 0; x < crop; ++x) o[x] = r[(d.flip ? crop - 1 - x : x) * channels + c] + s;
      }
    }
  }
}

}  // namespace alexnet
