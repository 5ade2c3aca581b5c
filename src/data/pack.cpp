#include "data/pack.h"

#include <glog/logging.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <opencv2/imgproc.hpp>

#include "core/errors.h"
#include "core/philox.h"
#include "core/progress_line.h"
#include "core/stop_signals.h"
#include "data/colourise.h"
#include "data/shuffle.h"
#include "data/sources.h"

namespace alexnet {

cv::Mat resize_and_crop(const cv::Mat& image, int size, bool keep_aspect) {
  if (!keep_aspect) {
    if (image.rows == size && image.cols == size) return image;
    cv::Mat out;
    int interpolation = size < image.rows ? cv::INTER_AREA : cv::INTER_LINEAR;
    cv::resize(image, out, cv::Size(size, size), 0, 0, interpolation);
    return out;
  }
  double scale = static_cast<double>(size) / std::min(image.rows, image.cols);
  int rows = std::max(size, static_cast<int>(std::lround(image.rows * scale)));
  int cols = std::max(size, static_cast<int>(std::lround(image.cols * scale)));
  cv::Mat scaled;
  cv::resize(image, scaled, cv::Size(cols, rows), 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  int top = (rows - size) / 2, left = (cols - size) / 2;
  return scaled(cv::Rect(left, top, size, size)).clone();
}

cv::Mat to_channels(const cv::Mat& image, int channels) {
  if (image.channels() == channels) return image;
  cv::Mat out;
  cv::cvtColor(image, out, channels == 3 ? cv::COLOR_GRAY2RGB : cv::COLOR_RGB2GRAY);
  return out;
}

void symmetric_eigen(const std::vector<double>& matrix, int n, std::vector<float>& values,
                     std::vector<float>& vectors) {
  std::vector<double> a = matrix, v(n * n, 0.0);
  for (int i = 0; i < n; ++i) v[i * n + i] = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q) off += a[p * n + q] * a[p * n + q];
    if (off < 1e-22) break;
    for (int p = 0; p < n; ++p) {
      for (int q = p + 1; q < n; ++q) {
        if (std::abs(a[p * n + q]) < 1e-300) continue;
        // The rotation that zeroes a[p][q].
        double theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
        double t = (theta >= 0 ? 1 : -1) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {
          double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {
          double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) {
          double vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int i, int j) { return a[i * n + i] > a[j * n + j]; });
  values.assign(n, 0);
  vectors.assign(n * n, 0);
  for (int j = 0; j < n; ++j) {
    values[j] = static_cast<float>(a[order[j] * n + order[j]]);
    for (int k = 0; k < n; ++k) vectors[k * n + j] = static_cast<float>(v[k * n + order[j]]);
  }
}

namespace {

// Running sums for the mean image and the channel covariance over all pixels.
class Statistics {
 public:
  Statistics(int height, int width, int channels)
      : channels_(channels),
        pixel_sum_(size_t(height) * width * channels, 0.0),
        channel_sum_(channels, 0.0),
        cross_sum_(channels * channels, 0.0) {}

  void add(const uint8_t* image) {
    const size_t n = pixel_sum_.size();
    for (size_t i = 0; i < n; ++i) pixel_sum_[i] += image[i];
    for (size_t p = 0; p < n; p += channels_) {
      for (int c = 0; c < channels_; ++c) {
        channel_sum_[c] += image[p + c];
        for (int d = 0; d < channels_; ++d)
          cross_sum_[c * channels_ + d] += double(image[p + c]) * image[p + d];
      }
    }
    ++images_;
  }

  void fill(DatasetInfo& info) const {
    info.mean.resize(pixel_sum_.size());
    for (size_t i = 0; i < pixel_sum_.size(); ++i)
      info.mean[i] = float(pixel_sum_[i] / std::max<int64_t>(images_, 1));
    double pixels = double(std::max<int64_t>(images_, 1)) * (pixel_sum_.size() / channels_);
    std::vector<double> cov(channels_ * channels_);
    for (int c = 0; c < channels_; ++c)
      for (int d = 0; d < channels_; ++d)
        cov[c * channels_ + d] =
            (cross_sum_[c * channels_ + d] / pixels - channel_sum_[c] / pixels * (channel_sum_[d] / pixels)) /
            (255.0 * 255.0);  // pixel values on the 0-1 scale
    symmetric_eigen(cov, channels_, info.pca_eigenvalues, info.pca_eigenvectors);
    for (float& v : info.pca_eigenvalues) v = std::max(v, 0.0f);  // rounding can leave -1e-13
  }

 private:
  int channels_;
  std::vector<double> pixel_sum_, channel_sum_, cross_sum_;
  int64_t images_ = 0;
};

std::unique_ptr<ImageSource> open_source(const PackOptions& o) {
  if (o.source == "fashion-mnist") return open_fashion_mnist(o.input.empty() ? kFashionMnistDir : o.input);
  if (o.input.empty()) throw UserError("pack: --input is required for source '" + o.source + "'");
  if (o.source == "cifar10") return open_cifar10(o.input);
  if (o.source == "folder") return open_image_folder(o.input, o.val_list);
  throw UserError("pack: unknown --source '" + o.source + "' (expected fashion-mnist, cifar10 or folder)");
}

// First N per class, in source order.
std::vector<SourceItem> limit_per_class(const std::vector<SourceItem>& items, int64_t per_class) {
  if (per_class <= 0) return items;
  std::map<int32_t, int64_t> taken;
  std::vector<SourceItem> out;
  for (const SourceItem& item : items)
    if (taken[item.label]++ < per_class) out.push_back(item);
  return out;
}

// Each split's order is keyed by the seed and the split's place in the source.
void shuffle_items(std::vector<SourceItem>& items, uint64_t seed, uint32_t split_id) {
  philox_shuffle(items, seed, rng_subsequence(RngPurpose::kShuffle, 0xFFFF00u + split_id, 0));
}

// The splits to write, in order, with their items: the source's train split less `val` images
// drawn at random (keyed by the seed; both keep the source's order), the held-out val split, then
// the source's other splits.
struct SplitPlan {
  std::vector<std::pair<std::string, std::vector<SourceItem>>> splits;
  int64_t held_out = 0;  // val images taken from train
};

SplitPlan plan_splits(const ImageSource& source, const PackOptions& o) {
  SplitPlan plan;
  auto& out = plan.splits;
  const std::vector<std::string> names = source.splits();
  const bool has_val = std::find(names.begin(), names.end(), "val") != names.end();
  for (const std::string& name : names)
    out.emplace_back(name, limit_per_class(source.items(name), o.per_class));
  if (o.val == 0 || names.front() != "train") return plan;
  if (has_val && o.val < 0) return plan;  // the default: the source's own val
  if (has_val) {
    throw UserError("pack: --val " + std::to_string(o.val) + ": " + source.describe() +
                    " has its own val split (give --val 0)");
  }
  std::vector<SourceItem>& train = out.front().second;
  const int64_t n = o.val > 0 ? o.val : static_cast<int64_t>(train.size()) / 12;
  if (n >= static_cast<int64_t>(train.size())) {
    throw UserError("pack: --val " + std::to_string(n) +
                    " would leave no train images (the train split has " + std::to_string(train.size()) +
                    (o.per_class ? " after --per-class" : "") + ")");
  }
  if (n == 0) return plan;
  std::vector<size_t> order(train.size());
  std::iota(order.begin(), order.end(), size_t{0});
  philox_shuffle(order, o.seed, rng_subsequence(RngPurpose::kShuffle, 0xFFFE00u, 0));
  std::vector<bool> held(train.size(), false);
  for (int64_t i = 0; i < n; ++i) held[order[i]] = true;
  std::vector<SourceItem> kept, val;
  for (size_t i = 0; i < train.size(); ++i) (held[i] ? val : kept).push_back(train[i]);
  train = std::move(kept);
  out.insert(out.begin() + 1, {"val", std::move(val)});
  plan.held_out = n;
  return plan;
}

}  // namespace

PackReport pack_dataset(const PackOptions& o) {
  auto started = std::chrono::steady_clock::now();
  if (o.output.empty()) throw UserError("pack: --output is required");
  if (o.channels != 0 && o.channels != 1 && o.channels != 3) {
    throw UserError("pack: --channels must be 1 or 3, got " + std::to_string(o.channels));
  }
  if (o.size < 0 || o.size > 4096) throw UserError("pack: --size must be between 1 and 4096");
  std::unique_ptr<ImageSource> source = open_source(o);
  const bool folder = source->native_size() == 0;
  const int size = o.size ? o.size : folder ? 256 : source->native_size();
  if (o.colourise && o.channels == 1)
    throw UserError("pack: --colourise makes three channels, not --channels 1");
  const int channels = o.colourise ? 3 : o.channels ? o.channels : source->native_channels();
  const int classes = static_cast<int>(source->classes().size());
  const size_t image_bytes = size_t(size) * size * channels;
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();

  // SIGINT/SIGTERM stop the pack between chunks; the writer's destructor removes the partial file.
  StopSignals signals;
  DatasetWriter writer(o.output, size, size, channels, o.force);
  Statistics stats(size, size, channels);
  bool have_stats = false;
  PackReport report;
  SplitPlan plan = plan_splits(*source, o);
  uint32_t split_id = 0;
  for (auto& entry : plan.splits) {
    // Named references, not a structured binding: clang 14 cannot capture those in OpenMP loops.
    const std::string& split = entry.first;
    std::vector<SourceItem>& items = entry.second;
    if (o.shuffle) shuffle_items(items, o.seed, split_id);
    ++split_id;
    if (items.empty())
      throw UserError("pack: split '" + split + "' of " + source->describe() + " has no images");
    writer.begin_split(split);
    const bool collect = split == "train" || (!have_stats && split_id == 1);
    ProgressLine progress(o.progress);
    const auto split_start = std::chrono::steady_clock::now();
    // Decode a chunk in parallel, then write it in order: HDF5 takes one writer.
    const size_t chunk = 256;
    std::vector<uint8_t> pixels(chunk * image_bytes);
    std::vector<std::string> errors(chunk);
    for (size_t begin = 0; begin < items.size(); begin += chunk) {
      const size_t end = std::min(items.size(), begin + chunk);
#pragma omp parallel for schedule(dynamic) num_threads(threads)
      for (size_t i = begin; i < end; ++i) {
        errors[i - begin].clear();
        try {
          cv::Mat image =
              to_channels(resize_and_crop(source->load(items[i]), size, folder), o.colourise ? 1 : channels);
          if (o.colourise) image = colourise(image, items[i], classes, *o.colourise);
          CHECK(image.isContinuous() && image.total() * image.elemSize() == image_bytes);
          std::copy(image.data, image.data + image_bytes, pixels.data() + (i - begin) * image_bytes);
        } catch (const DecodeError& e) {
          errors[i - begin] = e.what();
        } catch (const cv::Exception& e) {
          errors[i - begin] = e.what();
        }
      }
      for (size_t i = begin; i < end; ++i) {
        if (!errors[i - begin].empty()) {
          std::string where =
              items[i].index >= 0 ? items[i].path + " #" + std::to_string(items[i].index) : items[i].path;
          if (o.strict) throw UserError("pack: " + where + ": " + errors[i - begin] + " (--strict)");
          LOG(WARNING) << "pack: skipping " << where << ": " << errors[i - begin];
          ++report.skipped;
          continue;
        }
        const uint8_t* image = pixels.data() + (i - begin) * image_bytes;
        writer.append(image, items[i].label);
        if (collect) stats.add(image);
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - split_start).count();
      const double rate = end / std::max(seconds, 1e-9);
      char line[160];
      std::snprintf(line, sizeof line, "pack %s: %zu/%zu images, %.0f images/s, ETA %s", split.c_str(), end,
                    items.size(), rate, format_duration((items.size() - end) / rate).c_str());
      progress.show(line, end == items.size());
      if (const char* signal = signals.received()) {
        progress.end();
        throw Interrupted("pack: stopped by " + std::string(signal) + " after " + std::to_string(end) +
                              " of " + std::to_string(items.size()) + " " + split + " images; removed " +
                              writer.partial_path() + ", nothing written to " + o.output,
                          signals.number());
      }
    }
    if (writer.count() == 0) throw UserError("pack: no image of split '" + split + "' could be decoded");
    have_stats |= collect;
    report.written.emplace_back(split, writer.count());
  }
  DatasetInfo info;
  info.height = info.width = size;
  info.channels = channels;
  info.classes = source->classes();
  info.source = source->describe() + "; size " + std::to_string(size) + ", channels " +
                std::to_string(channels) +
                (o.per_class ? ", first " + std::to_string(o.per_class) + " per class" : "") +
                (plan.held_out ? ", val = " + std::to_string(plan.held_out) +
                                     " train images held out with seed " + std::to_string(o.seed)
                               : "") +
                (o.shuffle ? ", shuffled with seed " + std::to_string(o.seed) : "") +
                (o.colourise ? ", colourised with seed " + std::to_string(*o.colourise) +
                                   " (synthetic: a class-centred hue per image)"
                             : "") +
                (report.skipped ? ", " + std::to_string(report.skipped) + " undecodable images skipped" : "");
  stats.fill(info);
  writer.finish(info);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace alexnet
