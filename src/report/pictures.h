// The paper's pictures, drawn with OpenCV: conv1's kernels per tower (Figure 3), val images with
// their top-5 predictions and their nearest training images in feature space (Figure 4).
// Images are 8-bit RGB cv::Mats; write_png encodes one and writes it atomically.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data/format.h"
#include "report/colour_statistic.h"

namespace alexnet {

// conv1.weight [out, channels, kh, kw] as one panel per tower (tower_share's split of the
// kernels), 8 kernels a row, each kernel magnified and scaled on its own: its smallest weight
// (over all its channels) black, its largest white, so a grey kernel stays grey. Each panel's
// title gives the tower's colour statistic when there is one.
cv::Mat draw_kernels(const std::vector<float>& weight, int out, int channels, int kh, int kw, int towers,
                     const std::optional<std::vector<TowerColour>>& colour);

// Image `index` of `split` as 8-bit RGB (a grey image repeated in each channel).
cv::Mat dataset_image(const DatasetReader& data, const std::string& split, int64_t index);

// One column per image: the image, its true class, and its five most probable classes with bars
// as long as their probabilities (the true class's bar red, the others blue). `probs` holds one
// row of class probabilities per image.
cv::Mat draw_predictions(const std::vector<cv::Mat>& images, const std::vector<int32_t>& labels,
                         const std::vector<float>& probs, const std::vector<std::string>& classes);

// One row per query: the query image, then its neighbours nearest first, each captioned with its
// class.
cv::Mat draw_neighbours(const std::vector<cv::Mat>& queries, const std::vector<std::string>& query_captions,
                        const std::vector<std::vector<cv::Mat>>& neighbours,
                        const std::vector<std::vector<std::string>>& captions);

// Encodes `rgb` as PNG and writes it atomically (core/atomic_file.h).
void write_png(const std::string& path, const cv::Mat& rgb);

}  // namespace alexnet
