// Everything one training run is configured by. The CLI fills it from, in order of precedence,
// the command line, ALEXNET_* environment variables, a run file (--config) and the defaults; the
// resolved values are written to the run directory as config.toml, which --resume reads back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/backend_options.h"
#include "core/device.h"
#include "net/plan.h"

namespace alexnet {

struct RunConfig {
  // what to train
  std::string net = "experiments/alexnet.toml";
  std::string data;
  std::string placement = "split";
  std::string parallel = "auto";  // how the placed net spreads over processes (train/parallel.h)
  int towers = 2;  // K: the logical net's towers (the paper's 2); split puts one on each device
  std::string devices = "auto";
  std::string exchange;  // comma-separated layers that read all maps; empty: the network file's
  // the CUDA backend
  std::string comm = "auto";         // auto | local | nccl: how split towers exchange maps
  bool nccl_multi_rank_gpu = false;  // NCCL with two ranks on one GPU (NCCL >= 2.30)
  std::string math = "fp32";         // fp32 | tf32
  bool deterministic = false;        // deterministic cuDNN algorithms only
  int workspace_mb = 512;            // scratch memory one cuDNN algorithm may use
  std::string out;
  // the paper's recipe (section 5)
  int batch = 128;
  int epochs = 90;
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  std::string schedule = "plateau";  // plateau | step | fixed | cosine
  int patience = 2;                  // plateau: epochs without a better val error before lr /= 10
  int step_epochs = 30;              // step: lr /= 10 every this many epochs
  double lr_factor = 0.1;
  double warmup_epochs = 0;  // linear warm-up of the rate over this many epochs
  // data
  int crop = 0;  // 0: the network file's input size
  double lighting = 0.1;
  int loader_threads = 2;
  int bucket_kb = 4096;          // replicas: the gradient all-reduce's bucket, overlapped with backward
  bool skip_bad_images = false;  // replace and count damaged training images instead of stopping
  // run control
  uint64_t seed = 1;
  int threads = 0;  // CPU threads for the CPU backend; 0: all cores
  int log_every = 50;
  int keep_checkpoints = 3;
  std::string checkpoint_every = "0";  // N steps, or a duration: 90s, 30m, 2h; 0: epoch ends only
  int profile_every = 0;               // 0: no per-layer profile
  bool nvtx = false;                   // NVTX ranges per node, exchange and all-reduce (core/nvtx.h)
  int64_t max_steps = 0;               // stop (with a checkpoint) after this many steps in total; 0: never
  bool progress = true;
  // Not written to config.toml: a network file's text taken from a checkpoint (eval, show) when
  // nothing named a network, and what to call it in messages; the session reads it instead of `net`.
  std::string embedded_net, embedded_net_origin;
};

// --checkpoint-every: a checkpoint at every step that is a multiple of `steps`, or at the first
// step that ends `seconds` of wall clock after the last checkpoint, besides those at epoch ends,
// stops and --max-steps. Both 0: none.
struct CheckpointEvery {
  int64_t steps = 0;
  double seconds = 0;
  // "N" (steps) or "N" with a suffix s, m or h; UserError naming the flag for anything else.
  static CheckpointEvery parse(const std::string& text);
  // After optimizer step `step`, `seconds_since_last` after the last checkpoint.
  bool due(int64_t step, double seconds_since_last) const {
    return (steps > 0 && step % steps == 0) || (seconds > 0 && seconds_since_last >= seconds);
  }
};

// The devices for `towers` towers: "auto" (two GPUs if present, then one, then the CPU), "cpu",
// or a comma-separated list ("cuda:0,cuda:1"; one device is used for every tower). Throws
// UserError for malformed names and for CUDA devices that are not there.
std::vector<Device> resolve_devices(const std::string& text, int towers);

// The CUDA backend's options from --math, --deterministic and --workspace-mb (UserError if bad).
BackendOptions backend_options(const RunConfig& config);

// The config as TOML key = value lines (flag names, dashes as written on the command line;
// floats as written, 0.9 and 5e-4, yet reading back as the same doubles).
std::string to_toml(const RunConfig& config);

}  // namespace alexnet
