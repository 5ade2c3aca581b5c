// A training run, as `alexnet train` runs it: SGD over the training split for --epochs, at the end
// of each epoch a validation pass, a step of the learning-rate schedule and a checkpoint (and more
// checkpoints with --checkpoint-every); stopped early by SIGINT/SIGTERM or --max-steps (with a
// checkpoint to resume from) or by a loss that is no longer finite. --resume continues from the
// newest intact checkpoint, stepping back over damaged ones.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/progress_line.h"
#include "core/stop_signals.h"
#include "train/checkpoint.h"
#include "train/lr_schedule.h"
#include "train/run_config.h"
#include "train/run_dir.h"
#include "train/session.h"

namespace alexnet {

class Loader;
class Metrics;
class Sgd;
class TimingReport;
struct Batch;

class Trainer {
 public:
  // Starts the run in config.out, or continues it from its last checkpoint when `resume`.
  // Bad input throws UserError.
  Trainer(const RunConfig& config, const std::string& command_line, bool resume);
  ~Trainer();

  // Trains to the end or to a stop. Returns the exit status: 0 when finished or stopped cleanly
  // (signal, --max-steps), 1 when the loss became NaN or infinite.
  int run();

 private:
  using Clock = std::chrono::steady_clock;
  // Sums over the steps since the last metrics row (`window`) or since the epoch began.
  struct Totals {
    double loss = 0, top1_errors = 0, top5_errors = 0, wait_seconds = 0;
    int64_t steps = 0, bad_images = 0;
    Clock::time_point start = Clock::now();
  };

  double step(const Batch& batch);  // forward, then (if the loss is finite) backward and SGD
  void record(const Batch& batch, double loss, Clock::time_point step_start);
  void end_epoch();
  void checkpoint();  // writes one at the current step and restarts the --checkpoint-every count
  int stop_on_bad_loss(double loss);
  void stop_early(const std::string& why);
  void finish();

  // First, so that a signal while the run directory is being set up (config.toml, the manifest)
  // waits for that write and stops the run at its start, as one during training waits for the step.
  StopSignals signals_;
  const RunConfig c_;
  RunDir dir_;
  LrSchedule schedule_;
  Session s_;
  std::unique_ptr<Sgd> sgd_;
  TrainState state_;
  std::unique_ptr<Loader> loader_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<TimingReport> timing_;  // with --profile-every
  ProgressLine progress_;
  int64_t steps_per_epoch_ = 0;
  CheckpointEvery every_;
  int64_t checkpoint_step_ = 0;  // the step of the last checkpoint written or resumed from
  Clock::time_point checkpoint_time_ = Clock::now();
  bool profiling_ = false;  // this step runs with per-layer timers

  Totals window_, epoch_;
  double step_seconds_ = 0;  // smoothed, for the ETA
  double unprofiled_step_ms_ = 0;
  int unprofiled_steps_ = 0;
};

// Runs a Trainer: the `alexnet train` subcommand's body.
int run_training(const RunConfig& config, const std::string& command_line, bool resume);

}  // namespace alexnet
