// The paper's data augmentation (section 4.1), one image at a time.
//
// Training: a random crop (227 of 256) and a horizontal flip with probability 1/2, then PCA
// lighting: every pixel gets sum_j eigenvector_j * alpha_j * eigenvalue_j added, with
// alpha_j ~ N(0, 0.1^2) drawn once per image and epoch; then the mean image (at the same
// positions) is subtracted. The eigenvalues are those of the covariance of pixel values on the
// 0-1 scale (as re-implementations of the paper use them: on the 0-255 scale the offsets would
// swamp the image), so the offset is scaled by 255 to the stored pixels' scale. Testing: the centre crop, or
// ten views (the four corner crops and the centre, and their mirror images).
//
// Each image's draws come from Philox keyed by (seed, epoch, dataset index), so a batch is the
// same whichever thread builds it.
#pragma once

#include <cstdint>

#include "data/format.h"

namespace alexnet {

struct CropDraw {
  int top = 0, left = 0;
  bool flip = false;
  float alpha[3] = {0, 0, 0};  // lighting coefficients, one per eigenvector
};

// The random crop, flip and lighting coefficients of image `index` in `epoch`.
CropDraw draw_augmentation(uint64_t seed, uint64_t epoch, int64_t index, int height, int width, int crop,
                           int channels, float lighting_std);

// View v (0-9) of the ten-view test: 0 centre, 1-4 the corners (top-left, top-right,
// bottom-left, bottom-right), 5-9 the same flipped.
CropDraw ten_view(int view, int height, int width, int crop);
CropDraw centre_view(int height, int width, int crop);

// Per-channel lighting offsets on the 0-255 scale:
//   offset[c] = 255 * sum_j eigenvectors[c][j] * alpha[j] * eigenvalues[j].
void lighting_offset(const DatasetInfo& info, const float* alpha, float* offset);

// Writes the crop of `image` ([H, W, C] uint8) as float [C, crop, crop]:
//   out[c][y][x] = (image[top + y][left + x'][c] + offset[c] - mean[top + y][left + x'][c]) * scale
// with x' = crop - 1 - x when flipped. `offset` may be null (no lighting).
void crop_image(const uint8_t* image, const float* mean, int height, int width, int channels,
                const CropDraw& draw, int crop, const float* offset, float* out, float scale = 1.0f);

}  // namespace alexnet
