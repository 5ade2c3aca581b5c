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
};

struct EpochMetrics {
  int64_t step = 0, epoch = 0;
  double train_loss = 0, lr = 0, images_per_second = 0, data_wait_seconds = 0, seconds = 0;
  int64_t bad_images = 0;  // damaged training images skipped (--skip-bad-images) this epoch
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

 private:
  std::string steps_path_, epochs_path_;
  std::ofstream steps_, epochs_;
  TensorBoardWriter tensorboard_;
};

}  // namespace alexnet
