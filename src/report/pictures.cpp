#include "report/pictures.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/image_codec.h"
#include "net/plan.h"
#include "train/evaluate.h"

namespace alexnet {

namespace {

const cv::Scalar kWhite(255, 255, 255), kBlack(0, 0, 0), kGrey(128, 128, 128);
// Pale bars, so that black text reads on them. RGB order: the Mats are RGB until written.
const cv::Scalar kRed(250, 160, 160), kBlue(170, 195, 240);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kTextScale = 0.4;
constexpr int kLine = 14;  // pixels per text line at kTextScale

void text(cv::Mat& canvas, const std::string& s, int x, int baseline, const cv::Scalar& colour = kBlack) {
  cv::putText(canvas, s, cv::Point(x, baseline), kFont, kTextScale, colour, 1, cv::LINE_AA);
}

// At most `width` pixels of `s`, cut with ".." where it is longer.
std::string fit(const std::string& s, int width) {
  std::string t = s;
  int base = 0;
  while (t.size() > 2 && cv::getTextSize(t, kFont, kTextScale, 1, &base).width > width) {
    t.resize(t.size() - 3);
    t.append("..");
  }
  return t;
}

// `image` magnified by a whole factor to about `size` pixels (nearest neighbour keeps the pixels).
cv::Mat magnified(const cv::Mat& image, int size) {
  const int factor = std::max(1, size / std::max(image.rows, image.cols));
  cv::Mat out;
  cv::resize(image, out, cv::Size(image.cols * factor, image.rows * factor), 0, 0, cv::INTER_NEAREST);
  return out;
}

void paste(cv::Mat& canvas, const cv::Mat& image, int x, int y) {
  image.copyTo(canvas(cv::Rect(x, y, image.cols, image.rows)));
}

std::string percent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * p);
  return buf;
}

}  // namespace

cv::Mat draw_kernels(const std::vector<float>& weight, int out, int channels, int kh, int kw, int towers,
                     const std::optional<std::vector<TowerColour>>& colour) {
  CHECK_EQ(static_cast<int64_t>(weight.size()), int64_t(out) * channels * kh * kw);
  constexpr int kColumns = 8, kGap = 3, kTitle = 22;
  const int factor = std::max(2, 44 / std::max(kh, kw));
  const int cell_w = kw * factor, cell_h = kh * factor;
  int rows_total = 0;
  for (int t = 0; t < towers; ++t)
    rows_total += (tower_share(out, towers, t).count + kColumns - 1) / kColumns;
  const int width = std::max(kColumns * (cell_w + kGap) + kGap, 260);
  const int height = towers * (kTitle + kGap) + rows_total * (cell_h + kGap) + kGap;
  cv::Mat canvas(height, width, CV_8UC3, kWhite);
  int y = 0;
  for (int t = 0; t < towers; ++t) {
    const Share share = tower_share(out, towers, t);
    std::string title = "tower " + std::to_string(t) + ": kernels " + std::to_string(share.begin) + "-" +
                        std::to_string(share.begin + share.count - 1);
    if (colour) {
      char buf[64];
      std::snprintf(buf, sizeof buf, ", colour %.3f", (*colour)[t].mean);
      title += buf;
    }
    text(canvas, title, kGap, y + kTitle - 6);
    y += kTitle;
    for (int64_t i = 0; i < share.count; ++i) {
      const float* w = weight.data() + (share.begin + i) * channels * kh * kw;
      const auto [lo, hi] = std::minmax_element(w, w + channels * kh * kw);
      const float range = *hi - *lo > 0 ? *hi - *lo : 1.0f;  // a constant kernel draws black
      cv::Mat k(kh, kw, CV_8UC3);
      for (int r = 0; r < kh; ++r)
        for (int c = 0; c < kw; ++c)
          for (int ch = 0; ch < 3; ++ch) {
            const float v = w[(channels == 3 ? ch : 0) * kh * kw + r * kw + c];
            k.at<cv::Vec3b>(r, c)[ch] = static_cast<uint8_t>(std::lround(255 * (v - *lo) / range));
          }
      cv::Mat big;
      cv::resize(k, big, cv::Size(cell_w, cell_h), 0, 0, cv::INTER_NEAREST);
      paste(canvas, big, kGap + (i % kColumns) * (cell_w + kGap),
            y + kGap + (i / kColumns) * (cell_h + kGap));
    }
    y += kGap + ((share.count + kColumns - 1) / kColumns) * (cell_h + kGap);
  }
  return canvas;
}

cv::Mat dataset_image(const DatasetReader& data, const std::string& split, int64_t index) {
  const DatasetInfo& info = data.info();
  cv::Mat image(info.height, info.width, info.channels == 3 ? CV_8UC3 : CV_8UC1);
  data.read_image(split, index, image.data);
  if (info.channels == 3) return image;
  cv::Mat rgb;
  cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
  return rgb;
}

cv::Mat draw_predictions(const std::vector<cv::Mat>& images, const std::vector<int32_t>& labels,
                         const std::vector<float>& probs, const std::vector<std::string>& classes) {
  constexpr int kCell = 170, kImage = 112, kGap = 10, kPerRow = 6;
  const int n = static_cast<int>(images.size());
  const int classes_n = static_cast<int>(classes.size());
  const int rows = (n + kPerRow - 1) / kPerRow, cols = std::min(n, kPerRow);
  const int cell_h = kImage + 6 + kLine * 7;
  cv::Mat canvas(std::max(1, rows * (cell_h + kGap) + kGap), std::max(1, cols * (kCell + kGap) + kGap),
                 CV_8UC3, kWhite);
  for (int i = 0; i < n; ++i) {
    const int x = kGap + (i % kPerRow) * (kCell + kGap), y = kGap + (i / kPerRow) * (cell_h + kGap);
    const cv::Mat big = magnified(images[i], kImage);
    paste(canvas, big, x + (kCell - big.cols) / 2, y);
    int line = y + big.rows + 6 + kLine - 3;
    text(canvas, fit(classes[labels[i]], kCell), x, line);
    const std::vector<int32_t> best = top_k(probs.data() + int64_t(i) * classes_n, classes_n, 5);
    for (int32_t k : best) {
      line += kLine;
      const float p = probs[int64_t(i) * classes_n + k];
      const int bar = static_cast<int>(std::lround(p * kCell));
      cv::rectangle(canvas, cv::Rect(x, line - kLine + 3, std::max(bar, 1), kLine - 2),
                    k == labels[i] ? kRed : kBlue, cv::FILLED);
      text(canvas, fit(percent(p) + " " + classes[k], kCell - 2), x + 2, line - 1);
    }
  }
  return canvas;
}

cv::Mat draw_neighbours(const std::vector<cv::Mat>& queries, const std::vector<std::string>& query_captions,
                        const std::vector<std::vector<cv::Mat>>& neighbours,
                        const std::vector<std::vector<std::string>>& captions) {
  constexpr int kImage = 84, kGap = 8, kSeparator = 16, kCaption = kLine + 2;
  const int n = static_cast<int>(queries.size());
  size_t k = 0;
  for (const auto& row : neighbours) k = std::max(k, row.size());
  const std::string title = "image | its nearest training images by feature distance";
  int base = 0;
  const int title_w = cv::getTextSize(title, kFont, kTextScale, 1, &base).width + 2 * kGap;
  const int width = kGap + kImage + kSeparator + static_cast<int>(k) * (kImage + kGap);
  const int row_h = kImage + kCaption + kGap;
  cv::Mat canvas(std::max(1, kLine + 6 + n * row_h + kGap), std::max(width, title_w), CV_8UC3, kWhite);
  text(canvas, title, kGap, kLine);
  for (int i = 0; i < n; ++i) {
    const int y = kLine + 6 + kGap / 2 + i * row_h;
    const cv::Mat q = magnified(queries[i], kImage);
    paste(canvas, q, kGap, y);
    text(canvas, fit(query_captions[i], kImage + kSeparator - 4), kGap, y + q.rows + kLine - 2);
    const int line_x = kGap + kImage + kSeparator / 2;
    cv::line(canvas, cv::Point(line_x, y), cv::Point(line_x, y + kImage), kGrey, 1);
    for (size_t j = 0; j < neighbours[i].size(); ++j) {
      const int x = kGap + kImage + kSeparator + static_cast<int>(j) * (kImage + kGap);
      const cv::Mat m = magnified(neighbours[i][j], kImage);
      paste(canvas, m, x, y);
      text(canvas, fit(captions[i][j], kImage + kGap - 2), x, y + m.rows + kLine - 2);
    }
  }
  return canvas;
}

void write_png(const std::string& path, const cv::Mat& rgb) {
  CHECK(rgb.type() == CV_8UC3 || rgb.type() == CV_8UC1) << "write_png: 8-bit RGB or grey";
  const cv::Mat whole = rgb.isContinuous() ? rgb : rgb.clone();
  Pixels p{whole.rows, whole.cols, whole.channels(),
           std::vector<uint8_t>(whole.data, whole.data + whole.total() * whole.elemSize())};
  std::vector<uint8_t> bytes;
  try {
    bytes = encode_png(p);
  } catch (const CodecError& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace alexnet
