#include "train/metrics.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/crash_point.h"
#include "core/errors.h"

namespace fs = std::filesystem;

namespace alexnet {

namespace {
// Keeps the header and the complete rows whose step (column `step_column`) is at most `last_step`.
void drop_rows_after(const fs::path& path, int step_column, int64_t last_step) {
  if (!fs::exists(path)) return;
  std::ifstream in(path, std::ios::binary);
  std::stringstream whole;
  whole << in.rdbuf();
  const std::string text = whole.str();
  std::string kept;
  bool header = true, dropped = false;
  for (size_t begin = 0; begin < text.size();) {
    const size_t end = text.find('\n', begin);
    if (end == std::string::npos) {  // a row cut short by a kill
      dropped = true;
      break;
    }
    const std::string line = text.substr(begin, end - begin + 1);
    begin = end + 1;
    if (header) {
      kept += line;
      header = false;
      continue;
    }
    std::stringstream fields(line);
    std::string field;
    for (int i = 0; i <= step_column; ++i) std::getline(fields, field, ',');
    char* rest = nullptr;
    const long long step = std::strtoll(field.c_str(), &rest, 10);
    if (field.empty() || *rest != '\0' || step > last_step) {
      dropped = true;
      continue;
    }
    kept += line;
  }
  if (dropped) write_file_atomically(path.string(), kept);
}

std::ofstream open_csv(const fs::path& path, const char* header) {
  bool fresh = !fs::exists(path);
  std::ofstream out(path, std::ios::app);
  if (!out) throw UserError(path.string() + ": cannot write metrics");
  if (fresh) out << header << "\n";
  out.precision(7);
  return out;
}
}  // namespace

Metrics::Metrics(const std::string& run_dir, int64_t resumed_step)
    : tensorboard_((fs::path(run_dir) / "tensorboard").string()) {
  fs::create_directories(fs::path(run_dir) / "metrics");
  drop_rows_after(fs::path(run_dir) / "metrics" / "steps.csv", 0, resumed_step);
  drop_rows_after(fs::path(run_dir) / "metrics" / "epochs.csv", 1, resumed_step);
  steps_ = open_csv(fs::path(run_dir) / "metrics" / "steps.csv",
                    "step,epoch,loss,top1_error,top5_error,lr,images_per_s,data_wait_s");
  epochs_ = open_csv(
      fs::path(run_dir) / "metrics" / "epochs.csv",
      "epoch,step,train_loss,val_loss,val_top1_error,val_top5_error,lr,images_per_s,data_wait_s,seconds");
}

void Metrics::log(const StepMetrics& m) {
  steps_ << m.step << "," << m.epoch << "," << m.loss << "," << m.top1_error << "," << m.top5_error << ","
         << m.lr << "," << m.images_per_second << "," << m.data_wait_seconds << std::endl;
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
          << std::endl;
  tensorboard_.scalar("epoch/train_loss", m.step, m.train_loss);
  if (m.has_val) {
    tensorboard_.scalar("val/loss", m.step, m.val.loss);
    tensorboard_.scalar("val/top1_error", m.step, m.val.top1_error);
    tensorboard_.scalar("val/top5_error", m.step, m.val.top5_error);
  }
  tensorboard_.scalar("epoch/images_per_s", m.step, m.images_per_second);
  tensorboard_.scalar("epoch/data_wait_s", m.step, m.data_wait_seconds);
  tensorboard_.flush();
}

}  // namespace alexnet
