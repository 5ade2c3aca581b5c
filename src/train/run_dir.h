// A run directory and what `alexnet train` keeps in it:
//
//   config.toml                 the resolved configuration (--resume reads it back)
//   manifest.json               command line, host, net, devices, library versions
//   checkpoints/step-N.h5       the last --keep-checkpoints checkpoints (train/checkpoint.h)
//   checkpoints/step-N.h5.damaged  a checkpoint that failed its checks, set aside (never loaded)
//   logs/alexnet.*              glog's files (logs/rank-N/alexnet.* for each rank of many processes)
//   metrics/, tensorboard/      per-step and per-epoch scalars (train/metrics.h)
//   timing.{txt,csv,json}       per-layer timing, with --profile-every
//   .lock                       held (flock) by the job's rank 0 while it trains here: "pid host"
//
// Whole files here are written atomically (core/atomic_file.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "train/checkpoint.h"
#include "train/run_config.h"

namespace alexnet {

struct Session;

// What the manifest records beyond the configuration and the session.
struct ManifestFacts {
  std::string command_line;         // of the process that writes it
  std::vector<std::string> places;  // each rank's host and devices (rank_place), in rank order
  int64_t started_at_step = 0;      // 0 for a new run; the checkpoint's step after --resume
  // Every rank's Net::algorithm_choices(), in rank order; empty before the first step.
  std::vector<std::string> algorithms;
};

// What `train --out DIR` does with DIR (RunDir::decide): the same command continues its run.
struct Continuation {
  enum Kind { kNew, kContinue, kRestart } kind = kNew;  // kRestart: same configuration, no checkpoint yet
  // The keys a continuation may change ("max-steps: 100 -> 200"), recorded in the log and config.toml.
  std::vector<std::string> changes;
};

// The config.toml keys a continuation may change: how long, how often to checkpoint or log, what
// to print. Anything else changes the run, and a run directory of another configuration is refused.
bool continuation_may_change(const std::string& key);

class RunDir {
 public:
  explicit RunDir(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // For `train --out DIR` (not --resume): a missing or empty DIR is a new run; a run directory
  // whose config.toml matches `toml` (the resolved configuration) but for the keys
  // continuation_may_change() allows is continued (from its newest good checkpoint, or restarted in
  // place when it has none yet). UserError for a folder that is not a run directory (no
  // config.toml: never written into) and for a run of another configuration, naming its first
  // line that differs.
  Continuation decide(const std::string& toml) const;
  // Creates the folder and takes RUN/.lock (flock, held until this RunDir and its copies are gone;
  // the kernel releases it when the process dies, so a kill -9 leaves nothing to clean). UserError
  // naming the holder when another job has it.
  void lock();
  // Creates the folder and logs/ (logs/rank-N/ for rank N of a job of many processes) and
  // returns the prefix for glog's files.
  std::string create_log_folder(int rank = -1) const;

  void write_config(const RunConfig& config) const;
  // The same, unless config.toml already holds these bytes (written by rank 0 on a shared
  // filesystem: rewriting it there would race rank 0's temporary name).
  void copy_config(const RunConfig& config) const;
  // Atomically: written before the first step, and again once the first step has chosen the
  // layers' algorithms (on a new run and on every --resume).
  void write_manifest(const RunConfig& config, const Session& session, const ManifestFacts& facts) const;

  std::vector<std::string> checkpoints() const;  // oldest first
  std::string latest_checkpoint() const;         // "" when there is none
  std::string checkpoint_path(int64_t step) const;
  // Writes the checkpoint of `state`, reads it back to verify it, and only then deletes all but
  // the newest `keep`. A checkpoint that does not verify is set aside (NAME.damaged) and the
  // error thrown (std::runtime_error: a fault of the disk or the program, not of the user).
  void save_checkpoint(const Net& net, const Sgd& sgd, const TrainState& state, int keep) const;
  // The same for tensors collected from the towers' processes (collect_checkpoint); the file keeps
  // `config_toml`, the run's configuration, beside the network file's text.
  void save_checkpoint(const Net& net, const CheckpointTensors& tensors, const TrainState& state, int keep,
                       const std::string& config_toml = "") const;

  // Loads the newest intact checkpoint into `net` and `sgd` and returns its path and state. Each
  // damaged one met on the way (truncated, not HDF5, a tensor missing or misshapen, a checksum
  // that fails) is reported through `warn` as one line naming the file and why; once an older
  // one loads, the damaged newer ones are set aside as NAME.damaged, so that rotation never keeps
  // them in place of good ones. Leftover temporaries (NAME.partial) of a killed write are removed.
  // UserError naming every file tried when none is intact, or when there is none.
  struct Resumed {
    std::string path;
    TrainState state;
  };
  Resumed load_latest_intact(Net& net, Sgd& sgd, const std::function<void(const std::string&)>& warn) const;
  // The same with `load` reading one checkpoint (throwing UserError for a damaged one).
  Resumed load_latest_intact(const std::function<TrainState(const std::string&)>& load,
                             const std::function<void(const std::string&)>& warn) const;

 private:
  struct Lock;
  std::string path_;
  std::shared_ptr<Lock> lock_;
};

// The checkpoints of a run directory, oldest first (checkpoints/step-NNNNNNNNNN.h5).
std::vector<std::string> list_checkpoints(const std::string& run_dir);

// The manifest's JSON text.
std::string manifest_json(const RunConfig& config, const Session& session, const ManifestFacts& facts);

// This process's host name and devices, as the manifest lists each rank: "host cpu".
std::string rank_place(const Session& session);

}  // namespace alexnet
