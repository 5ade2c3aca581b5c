#include "train/metrics.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/crash_point.h"
#include "core/errors.h"

namespace fs = std::filesystem;

namespace alexnet {

namespace {

// The headers of today, and of files that older runs wrote (a run resumed now widens them).
constexpr const char* kStepsHeaderV1 = "step,epoch,loss,top1_error,top5_error,lr,images_per_s,data_wait_s";
constexpr const char* kStepsHeader =
    "step,epoch,loss,top1_error,top5_error,lr,images_per_s,data_wait_s,mfu,host_rss_mib,device_mib,"
    "device_peak_mib,step_ms_min,step_ms_median,step_ms_max,slowest_rank";
constexpr const char* kEpochsHeaderV1 =
    "epoch,step,train_loss,val_loss,val_top1_error,val_top5_error,lr,images_per_s,data_wait_s,seconds";
constexpr const char* kEpochsHeaderV2 =
    "epoch,step,train_loss,val_loss,val_top1_error,val_top5_error,lr,images_per_s,data_wait_s,seconds,"
    "bad_images";
constexpr const char* kEpochsHeader =
    "epoch,step,train_loss,val_loss,val_top1_error,val_top5_error,lr,images_per_s,data_wait_s,seconds,"
    "bad_images,mfu,host_peak_mib,device_peak_mib";

// A run begun by an older alexnet and resumed now: when the file's header is `older`, its rows
// gain `fill` (the columns since, as that alexnet would have had them: bad_images 0, the rest
// empty: not measured), so that every row of the file has the header's columns.
void widen(const fs::path& path, const char* older, const char* header, const std::string& fill) {
  if (!fs::is_regular_file(path)) return;  // a device (a test's /dev/full) has no header to read
  std::ifstream in(path);
  std::string line, text;
  if (!std::getline(in, line) || line != older) return;
  text = std::string(header) + "\n";
  while (std::getline(in, line))
    if (!line.empty()) text += line + fill + "\n";
  write_file_atomically(path.string(), text);
}

// A figure that may be unknown: empty in the CSV.
std::string maybe(double v) {
  if (!std::isfinite(v)) return "";
  std::ostringstream o;
  o.precision(7);
  o << v;
  return o.str();
}

// Rewrites a CSV file of a resumed run as `header` and its complete rows whose step (column
// `step_column`) is at most `last_step`, in their order. Does nothing to a missing or empty file.
void drop_rows_after(const fs::path& path, const std::string& header, int step_column, int64_t last_step) {
  // Only regular files: a device (a test's /dev/full) has no rows and no size to ask.
  if (!fs::is_regular_file(path) || fs::file_size(path) == 0) return;
  std::ifstream in(path, std::ios::binary);
  std::stringstream whole;
  whole << in.rdbuf();
  const std::string text = whole.str();
  std::string kept = header + "\n";
  // A line without its newline is a row cut short by a kill: dropped with the rest.
  for (size_t begin = 0, end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
    const std::string line = text.substr(begin, end - begin + 1);
    if (line == header + "\n") continue;
    std::stringstream fields(line);
    std::string field;
    for (int i = 0; i <= step_column; ++i) std::getline(fields, field, ',');
    char* rest = nullptr;
    const long long step = std::strtoll(field.c_str(), &rest, 10);
    if (field.empty() || *rest != '\0' || step > last_step) continue;
    // A row of an older alexnet's (a file without its header) gains the columns since, empty.
    const auto commas = [](const std::string& s) { return std::count(s.begin(), s.end(), ','); };
    const std::ptrdiff_t missing = commas(header) - commas(line);
    kept += missing > 0 ? line.substr(0, line.size() - 1) + std::string(missing, ',') + "\n" : line;
  }
  if (kept != text) write_file_atomically(path.string(), kept);
}

std::ofstream open_csv(const fs::path& path, const char* header) {
  // Empty counts as new: a run killed before its first row left the file without its header.
  bool fresh = !fs::exists(path) || (fs::is_regular_file(path) && fs::file_size(path) == 0);
  std::ofstream out(path, std::ios::app);
  if (!out) throw UserError(path.string() + ": cannot write metrics (" + std::strerror(errno) + ")");
  if (fresh) out << header << std::endl;  // flushed now, not with the first row
  out.precision(7);
  return out;
}

// Streams keep no reason of their own: errno still holds the failed write's right after it.
void check_written(const std::ostream& out, const std::string& path) {
  if (out) return;
  const int error = errno;
  throw std::runtime_error(path + ": cannot write metrics (" +
                           (error ? std::strerror(error) : "the write failed") + ")");
}

}  // namespace

Metrics::Metrics(const std::string& run_dir, int64_t resumed_step)
    : steps_path_((fs::path(run_dir) / "metrics" / "steps.csv").string()),
      epochs_path_((fs::path(run_dir) / "metrics" / "epochs.csv").string()),
      tensorboard_((fs::path(run_dir) / "tensorboard").string()) {
  fs::create_directories(fs::path(run_dir) / "metrics");
  widen(epochs_path_, kEpochsHeaderV1, kEpochsHeader, ",0,,,");
  widen(epochs_path_, kEpochsHeaderV2, kEpochsHeader, ",,,");
  widen(steps_path_, kStepsHeaderV1, kStepsHeader, ",,,,,,,,");
  drop_rows_after(steps_path_, kStepsHeader, 0, resumed_step);
  drop_rows_after(epochs_path_, kEpochsHeader, 1, resumed_step);
  steps_ = open_csv(steps_path_, kStepsHeader);
  check_written(steps_, steps_path_);
  epochs_ = open_csv(epochs_path_, kEpochsHeader);
  check_written(epochs_, epochs_path_);
}

void Metrics::log(const StepMetrics& m) {
  steps_ << m.step << "," << m.epoch << "," << m.loss << "," << m.top1_error << "," << m.top5_error << ","
         << m.lr << "," << m.images_per_second << "," << m.data_wait_seconds << "," << maybe(m.mfu) << ","
         << maybe(m.host_rss_mib) << "," << maybe(m.device_mib) << "," << maybe(m.device_peak_mib) << ","
         << maybe(m.step_ms_min) << "," << maybe(m.step_ms_median) << "," << maybe(m.step_ms_max) << ","
         << (m.slowest_rank >= 0 ? std::to_string(m.slowest_rank) : "") << std::endl;
  check_written(steps_, steps_path_);
  crash_point("metrics-row");
  tensorboard_.scalar("train/loss", m.step, m.loss);
  tensorboard_.scalar("train/top1_error", m.step, m.top1_error);
  tensorboard_.scalar("train/top5_error", m.step, m.top5_error);
  tensorboard_.scalar("train/lr", m.step, m.lr);
  tensorboard_.scalar("train/images_per_s", m.step, m.images_per_second);
  tensorboard_.scalar("train/data_wait_s", m.step, m.data_wait_seconds);
  auto scalar = [&](const char* tag, double v) {
    if (std::isfinite(v)) tensorboard_.scalar(tag, m.step, v);
  };
  scalar("train/mfu", m.mfu);
  scalar("train/host_rss_mib", m.host_rss_mib);
  scalar("train/device_mib", m.device_mib);
  scalar("train/device_peak_mib", m.device_peak_mib);
  scalar("train/step_ms_min", m.step_ms_min);
  scalar("train/step_ms_median", m.step_ms_median);
  scalar("train/step_ms_max", m.step_ms_max);
  if (m.slowest_rank >= 0) scalar("train/slowest_rank", m.slowest_rank);
  tensorboard_.flush();
}

void Metrics::log(const EpochMetrics& m) {
  epochs_ << m.epoch << "," << m.step << "," << m.train_loss << ",";
  if (m.has_val)
    epochs_ << m.val.loss << "," << m.val.top1_error << "," << m.val.top5_error;
  else
    epochs_ << ",,";
  epochs_ << "," << m.lr << "," << m.images_per_second << "," << m.data_wait_seconds << "," << m.seconds
          << "," << m.bad_images << "," << maybe(m.mfu) << "," << maybe(m.host_peak_mib) << ","
          << maybe(m.device_peak_mib) << std::endl;
  check_written(epochs_, epochs_path_);
  tensorboard_.scalar("epoch/train_loss", m.step, m.train_loss);
  if (m.has_val) {
    tensorboard_.scalar("val/loss", m.step, m.val.loss);
    tensorboard_.scalar("val/top1_error", m.step, m.val.top1_error);
    tensorboard_.scalar("val/top5_error", m.step, m.val.top5_error);
  }
  tensorboard_.scalar("epoch/images_per_s", m.step, m.images_per_second);
  tensorboard_.scalar("epoch/data_wait_s", m.step, m.data_wait_seconds);
  tensorboard_.scalar("epoch/bad_images", m.step, static_cast<double>(m.bad_images));
  if (std::isfinite(m.mfu)) tensorboard_.scalar("epoch/mfu", m.step, m.mfu);
  if (std::isfinite(m.host_peak_mib)) tensorboard_.scalar("epoch/host_peak_mib", m.step, m.host_peak_mib);
  if (std::isfinite(m.device_peak_mib))
    tensorboard_.scalar("epoch/device_peak_mib", m.step, m.device_peak_mib);
  tensorboard_.flush();
}

void Metrics::hparams_start(const std::vector<TensorBoardWriter::HParam>& hparams, const std::string& group) {
  tensorboard_.hparams_start(hparams, group);
  tensorboard_.flush();
}

void Metrics::hparams_end(int64_t step, const EpochMetrics& last, int status) {
  if (last.has_val) {
    tensorboard_.scalar("hparams/val_top1_error", step, last.val.top1_error);
    tensorboard_.scalar("hparams/val_top5_error", step, last.val.top5_error);
  }
  if (last.images_per_second > 0) tensorboard_.scalar("hparams/images_per_s", step, last.images_per_second);
  tensorboard_.hparams_end(status);
  tensorboard_.flush();
}

}  // namespace alexnet
