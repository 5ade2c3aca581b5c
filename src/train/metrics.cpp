#include "train/metrics.h"

#include <cerrno>
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

constexpr const char* kStepsHeader = "step,epoch,loss,top1_error,top5_error,lr,images_per_s,data_wait_s";
constexpr const char* kEpochsHeader =
    "epoch,step,train_loss,val_loss,val_top1_error,val_top5_error,lr,images_per_s,data_wait_s,seconds,"
    "bad_images";
// The epochs.csv header before bad_images was added.
constexpr const char* kEpochsHeaderV1 =
    "epoch,step,train_loss,val_loss,val_top1_error,val_top5_error,lr,images_per_s,data_wait_s,seconds";

// A run begun before bad_images existed and resumed now: its rows gain the column (0, as that
// alexnet could not skip an image), so that every row of the file has the header's columns.
void add_bad_images_column(const fs::path& path) {
  std::ifstream in(path);
  std::string line, text;
  if (!std::getline(in, line) || line != kEpochsHeaderV1) return;
  text = std::string(kEpochsHeader) + "\n";
  while (std::getline(in, line))
    if (!line.empty()) text += line + ",0\n";
  write_file_atomically(path.string(), text);
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
    if (!field.empty() && *rest == '\0' && step <= last_step) kept += line;
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
  add_bad_images_column(epochs_path_);
  drop_rows_after(steps_path_, kStepsHeader, 0, resumed_step);
  drop_rows_after(epochs_path_, kEpochsHeader, 1, resumed_step);
  steps_ = open_csv(steps_path_, kStepsHeader);
  check_written(steps_, steps_path_);
  epochs_ = open_csv(epochs_path_, kEpochsHeader);
  check_written(epochs_, epochs_path_);
}

void Metrics::log(const StepMetrics& m) {
  steps_ << m.step << "," << m.epoch << "," << m.loss << "," << m.top1_error << "," << m.top5_error << ","
         << m.lr << "," << m.images_per_second << "," << m.data_wait_seconds << std::endl;
  check_written(steps_, steps_path_);
  crash_point("metrics-row");
  tensorboard_.scalar("train/loss", m.step, m.loss);
  tensorboard_.scalar("train/top1_error", m.step, m.top1_error);
  tensorboard_.scalar("train/top5_error", m.step, m.top5_error);
  tensorboard_.scalar("train/lr", m.step, m.lr);
  tensorboard_.scalar("train/images_per_s", m.step, m.images_per_second);
  tensorboard_.scalar("train/data_wait_s", m.step, m.data_wait_seconds);
  tensorboard_.flush();
}

void Metrics::log(const EpochMetrics& m) {
  epochs_ << m.epoch << "," << m.step << "," << m.train_loss << ",";
  if (m.has_val)
    epochs_ << m.val.loss << "," << m.val.top1_error << "," << m.val.top5_error;
  else
    epochs_ << ",,";
  epochs_ << "," << m.lr << "," << m.images_per_second << "," << m.data_wait_seconds << "," << m.seconds
          << "," << m.bad_images << std::endl;
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
  tensorboard_.flush();
}

}  // namespace alexnet
