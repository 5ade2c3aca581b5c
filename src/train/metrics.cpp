#include "train/metrics.h"

#include <filesystem>

#include "core/errors.h"

namespace fs = std::filesystem;

namespace alexnet {

namespace {
std::ofstream open_csv(const fs::path& path, const char* header) {
  bool fresh = !fs::exists(path);
  std::ofstream out(path, std::ios::app);
  if (!out) throw UserError(path.string() + ": cannot write metrics");
  if (fresh) out << header << "\n";
  out.precision(7);
  return out;
}
}  // namespace

Metrics::Metrics(const std::string& run_dir) : tensorboard_((fs::path(run_dir) / "tensorboard").string()) {
  fs::create_directories(fs::path(run_dir) / "metrics");
  steps_ = open_csv(fs::path(run_dir) / "metrics" / "steps.csv",
                    "step,epoch,loss,top1_error,top5_error,lr,images_per_s,data_wait_s");
  epochs_ = open_csv(
      fs::path(run_dir) / "metrics" / "epochs.csv",
      "epoch,step,train_loss,val_loss,val_top1_error,val_top5_error,lr,images_per_s,data_wait_s,seconds");
}

void Metrics::log(const StepMetrics& m) {
  steps_ << m.step << "," << m.epoch << "," << m.loss << "," << m.top1_error << "," << m.top5_error << ","
         << m.lr << "," << m.images_per_second << "," << m.data_wait_seconds << std::endl;
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
