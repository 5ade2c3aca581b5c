// A run directory and what `alexnet train` keeps in it:
//
//   config.toml                 the resolved configuration (--resume reads it back)
//   manifest.json               command line, host, net, devices, library versions
//   checkpoints/step-N.h5       the last --keep-checkpoints checkpoints (train/checkpoint.h)
//   logs/alexnet.*              glog's files
//   metrics/, tensorboard/      per-step and per-epoch scalars (train/metrics.h)
//   timing.{txt,csv,json}       per-layer timing, with --profile-every
//
// Whole files here are written atomically (core/atomic_file.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/checkpoint.h"
#include "train/run_config.h"

namespace alexnet {

struct Session;

class RunDir {
 public:
  explicit RunDir(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // For a new run: refuses a folder that exists and is not empty (UserError).
  void check_new() const;
  // Creates the folder and logs/ and returns the prefix for glog's files.
  std::string create_log_folder() const;

  void write_config(const RunConfig& config) const;
  void write_manifest(const RunConfig& config, const std::string& command_line, const Session& session) const;

  std::vector<std::string> checkpoints() const;  // oldest first
  std::string latest_checkpoint() const;         // "" when there is none
  std::string checkpoint_path(int64_t step) const;
  // Writes the checkpoint of `state`, then deletes all but the newest `keep`.
  void save_checkpoint(const Net& net, const Sgd& sgd, const TrainState& state, int keep) const;

 private:
  std::string path_;
};

// The checkpoints of a run directory, oldest first (checkpoints/step-NNNNNNNNNN.h5).
std::vector<std::string> list_checkpoints(const std::string& run_dir);

// The manifest's JSON text.
std::string manifest_json(const RunConfig& config, const std::string& command_line, const Session& session);

}  // namespace alexnet
