// A run's metrics: CSV files (metrics/steps.csv every --log-every steps, metrics/epochs.csv once
// an epoch) and the same scalars as TensorBoard events (tensorboard/). A row that cannot be written
// (a full disk) throws std::runtime_error naming the file and the system's reason: the run stops
// rather than go on without its record.
#pragma once

#include <fstream>
#include <memory>
#include <string>

#include "train/evaluate.h"
#include "train/tensorboard.h"

namespace alexnet {

struct StepMetrics {
  int64_t step = 0, epoch = 0;
  double loss = 0, top1_error = 0, top5_error = 0;  // on the training batches since the last row
  double lr = 0, images_per_second = 0, data_wait_seconds = 0;
  // train/run_metrics.h. NaN where not measured (an unknown peak; one process has no spread).
  double mfu = 0, host_rss_mib = 0, device_mib = 0, device_peak_mib = 0;
  double step_ms_min = 0, step_ms_median = 0, step_ms_max = 0;
  int slowest_rank = -1;  // -1: one process
};

struct EpochMetrics {
  int64_t step = 0, epoch = 0;
  double train_loss = 0, lr = 0, images_per_second = 0, data_wait_seconds = 0, seconds = 0;
  int64_t bad_images = 0;  // damaged training images skipped (--skip-bad-images) this epoch
  double mfu = 0, host_peak_mib = 0, device_peak_mib = 0;  // over the epoch (train/run_metrics.h)
  bool has_val = false;
  EvalResult val;
};

class Metrics {
 public:
  // Appends to existing CSV files (a resumed run), writing headers only to new ones. Rows past
  // `resumed_step` (written after the checkpoint a resumed run starts from, by a run that then
  // died) are dropped first, since the resumed run writes them again; so is a torn last line.
  Metrics(const std::string& run_dir, int64_t resumed_step);
  void log(const StepMetrics& m);
  void log(const EpochMetrics& m);
  // TensorBoard's HParams records (train/tensorboard.h): the run's key settings at its start, and at
  // its end the figures the HParams table compares (hparams/val_top1_error, hparams/val_top5_error,
  // hparams/images_per_s, as scalars of `step`) with the session's status (1 success, 2 failure).
  void hparams_start(const std::vector<TensorBoardWriter::HParam>& hparams, const std::string& group);
  void hparams_end(int64_t step, const EpochMetrics& last, int status);

 private:
  std::string steps_path_, epochs_path_;
  std::ofstream steps_, epochs_;
  TensorBoardWriter tensorboard_;
};

}  // namespace alexnet
