// A training run, as `alexnet train` runs it: SGD over the training split for --epochs, at the end
// of each epoch a validation pass, a step of the learning-rate schedule and a checkpoint (and more
// checkpoints with --checkpoint-every); stopped early by SIGINT/SIGTERM/SIGUSR1, --max-steps or
// --time-limit (with a checkpoint to continue from) or by a loss that is no longer finite.
// --resume continues from the newest intact checkpoint, stepping back over damaged ones; so does
// the same command run again on its run directory (RunDir::decide), which is what a requeued
// Slurm job or a restarted torchrun worker does.
//
// Under many processes (train/session.h) every rank runs this same loop on its tower of its
// replica: --batch images per replica, the gradients summed over the replicas and divided by
// their number (the mean over the global batch). Twice per step a tiny all-reduce over every rank
// carries the loss and errors (after the forward: a NaN stops every rank before its backward)
// and the reasons to stop or checkpoint (at the step boundary), so that all ranks take the same
// decisions at the same step. Rank 0 alone prints, writes the run
// directory's files and checkpoints (gathering the towers' slices), and on --resume reads the
// checkpoint and sends it to the others, so the checkpoints need not be on the other machines (the
// run's config.toml, which --resume reads on every rank, is copied to each machine by its first
// rank).
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "core/progress_line.h"
#include "core/stop_signals.h"
#include "train/checkpoint.h"
#include "train/lr_schedule.h"
#include "train/metrics.h"
#include "train/run_config.h"
#include "train/run_dir.h"
#include "train/session.h"
#include "train/trace.h"

namespace alexnet {

class GradientAverager;
class Loader;
class Metrics;
class Sgd;
class TimingReport;
struct Batch;

// What the job around the run asks of it (flags of this job, never written to config.toml).
struct JobControl {
  // Seconds from the start this job may take (0: no limit) and where that came from
  // ("--time-limit 2h", "SLURM_JOB_END_TIME"). The run stops at the last step boundary that leaves
  // room for one more step and a checkpoint (its write timed on this job's first checkpoint,
  // which comes after the first step), checkpoints, and exits 0.
  double time_limit_seconds = 0;
  std::string time_limit_source;
  // After a stop by SIGUSR1 or the time limit, rank 0 runs `scontrol requeue $SLURM_JOB_ID`.
  bool requeue = false;
  // --trace: rank 0 writes the timeline of `trace` profiled steps to trace_path (train/trace.h).
  std::string trace_path;
  TraceSchedule trace;
  // --peak-gflops: the peak of this process's devices for MFU (0: measured or from the chip).
  double peak_gflops = 0;
};

class Trainer {
 public:
  // After a failure: writes this rank's flight record and says, from every rank's last completed
  // collective in the store, whose is lowest ("; flight records: rank 2's ... is the lowest, #41 ...").
  std::string flight_report();

  // Starts the run in config.out, continues it when config.out is a run directory of the same
  // configuration, or continues it from its last checkpoint when `resume` (--resume).
  // Bad input throws UserError.
  Trainer(const RunConfig& config, const std::string& command_line, bool resume,
          const Processes& processes = {}, const JobControl& job = {});
  ~Trainer();

  // Trains to the end or to a stop. Returns the exit status: 0 when finished or stopped cleanly
  // (signal, --max-steps), 1 when the loss became NaN or infinite.
  int run();

 private:
  using Clock = std::chrono::steady_clock;
  // Sums over the steps since the last metrics row (`window`) or since the epoch began.
  struct Totals {
    double loss = 0, top1_errors = 0, top5_errors = 0, wait_seconds = 0;
    double busy_seconds = 0;  // less the waits for data and in the step's collectives
    int64_t steps = 0, bad_images = 0;
    Clock::time_point start = Clock::now();
  };

  // What every rank learns after each step's forward.
  struct Agreed {
    double loss = 0;              // the mean over the global batch
    double top1 = 0, top5 = 0;    // errors, summed over the global batch
    bool checkpoint_due = false;  // --checkpoint-every's wall clock, as rank 0 reads it
  };
  // Forward, the agreement, then (if the loss is finite) backward, the replicas' gradient
  // all-reduce and SGD.
  Agreed step(const Batch& batch);
  void record(const Batch& batch, const Agreed& agreed, Clock::time_point step_start);
  bool epoch_done() const;  // fewer images left in the epoch than a global batch
  // Whether any rank received SIGINT/SIGTERM/SIGUSR1, or rank 0 finds the time limit near (the
  // reason, or null): a tiny all-reduce at each step boundary, so that every rank stops at the same
  // one.
  const char* agree_on_signal();
  bool time_is_up() const;  // rank 0: not room for another step and a checkpoint
  void publish_flight_progress();
  int requeue();  // rank 0, after a stop from outside with --requeue: the exit status
  void resume_from_checkpoint();
  void end_epoch();
  void record_algorithms();
  // Snapshots the tensors at the current step (the stall: a copy to host memory) and has rank 0
  // write and verify them on a thread of its own while training goes on; restarts the
  // --checkpoint-every count. One write at a time: it first waits for the one before.
  void checkpoint();
  // Waits for the write in flight, if any (collective: every rank learns whether it worked, and a
  // failed write throws on every rank). Called where every rank is at the same point: before the
  // next checkpoint, on stopping, at the end, and at the first step boundary after rank 0 saw it
  // finish (agree_on_signal), so that a full disk is said at once.
  void wait_for_checkpoint();
  int stop_on_bad_loss(double loss);
  void stop_early(const std::string& why);
  void decide_start(bool resume);  // fresh, continued, or refused: rank 0 decides, every rank follows
  void finish();

  // First, so that a signal while the run directory is being set up (config.toml, the manifest)
  // waits for that write and stops the run at its start, as one during training waits for the step.
  StopSignals signals_;
  const RunConfig c_;
  const JobControl job_;
  const std::chrono::steady_clock::time_point job_start_ = std::chrono::steady_clock::now();
  RunDir dir_;
  LrSchedule schedule_;
  Session s_;
  std::unique_ptr<Sgd> sgd_;
  std::unique_ptr<GradientAverager> averager_;  // with replicas
  TrainState state_;
  std::unique_ptr<Loader> loader_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<TimingReport> timing_;             // with --profile-every
  std::unique_ptr<StepTrace> trace_;                 // with --trace, until it is written
  double sgd_start_ms_ = 0, sgd_ms_ = 0;             // the last profiled step's update, for the trace
  double blocked_seconds_ = 0;                       // this step's time in its collectives (run_metrics.h)
  double flops_per_image_ = 0, job_peak_flops_ = 0;  // for MFU; the peak 0 when unknown
  void log_figures(StepMetrics& m, double busy_ms);  // MFU, memory, the ranks' step times
  EpochMetrics last_epoch_;                          // for the HParams table at the end
  void start_hparams();                              // rank 0
  void write_trace();                                // collective
  ProgressLine progress_;
  int64_t steps_per_epoch_ = 0;  // global batches in a whole epoch
  int64_t global_batch_ = 0;     // replicas x --batch
  CheckpointEvery every_;
  int64_t checkpoint_step_ = 0;  // the step of the last checkpoint written or resumed from
  bool have_checkpoint_ = false;
  Clock::time_point checkpoint_time_ = Clock::now();
  double checkpoint_seconds_ = 0;      // the longest checkpoint (copy, write, verify), for the time limit
  bool checkpoint_in_flight_ = false;  // on every rank: a write was started and not yet waited for
  struct FlightPublisher;
  std::unique_ptr<FlightPublisher> flight_publisher_;
  double flight_publish_seconds_ = 0;  // the flight recorder's cost on the step: a hand-off once a step
  int64_t flight_publishes_ = 0;
  bool continuing_ = false;  // from a checkpoint (--resume or the same command)
  Continuation continuation_;
  bool profiling_ = false;  // this step runs with per-layer timers
  // The first steps this process runs pay once for what later steps do not (cuDNN's algorithm
  // search for each new shape, lazy loading of CUDA modules, first-touch of buffers): neither the
  // per-layer profile nor the full step's mean counts them (--profile-every).
  static constexpr int64_t kWarmupSteps = 2;
  int64_t first_step_ = 0;  // the step this process started (or resumed) at
  ManifestFacts manifest_;
  bool warm() const { return state_.step >= first_step_ + kWarmupSteps; }

  Totals window_, epoch_;
  double step_seconds_ = 0;  // smoothed, for the ETA
  double unprofiled_step_ms_ = 0;
  int unprofiled_steps_ = 0;
  // Rank 0's checkpoint write in flight (its seconds, copy included). Last, so that it is the first
  // to go: its destructor waits for the write, which reads the plan and the run directory.
  std::future<double> writing_;
};

// Runs a Trainer: the `alexnet train` subcommand's body.
int run_training(const RunConfig& config, const std::string& command_line, bool resume,
                 const Processes& processes = {}, const JobControl& job = {});

}  // namespace alexnet
