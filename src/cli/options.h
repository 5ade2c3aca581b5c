// Option parsing shared by the subcommands: Boost.Program_options over the command line,
// ALEXNET_* environment variables and TOML run files, in that order of precedence.
//
// Options come in groups, and each subcommand shows and accepts only the groups it uses:
//
//   group                 train  eval  time
//   network and devices     x     x     x     net, placement, devices, exchange, batch, crop, threads
//   CUDA backend            x     x     x     comm, math, deterministic, workspace-mb, ...
//   data                    x     x           data, loader-threads
//   training recipe         x                 epochs, lr, momentum, weight-decay, schedule, ...
//   run directory           x                 out, log-every, keep-checkpoints, max-steps, ...
//   evaluation                    x           checkpoint, views, split, predictions, logits, features
//   timing                              x     iterations, warmup, classes, channels, seed, write
//
// `show` takes network and devices, CUDA backend and data, and its own "pictures" group
// (checkpoint, output, pictures, images, neighbours, ...); it runs in one process.
//
// Run files are shared: a training run's config.toml feeds `eval --checkpoint RUN`, and `time
// --config` reads a training run file. A key another subcommand owns is skipped; a key no
// subcommand knows is an error naming the file, line and key.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "train/run_config.h"
#include "train/session.h"

namespace alexnet::cli {

namespace po = boost::program_options;

// Where this process stands among many (train, eval, time): per process, so never written to a
// run's config.toml. Unset numbers are -1; comm/launch_env.h says what fills them.
struct ProcessFlags {
  int rank = -1, world_size = -1, local_rank = -1, store_port = -1;
  std::string store_host, store_dir, iface, timeout = "5m";
};
// The launch (flags, then torchrun's, OpenMPI's or Slurm's variables) and the engines' options
// (--iface, else GLOO_SOCKET_IFNAME; --timeout). UserError naming what is malformed.
Processes resolve_processes(const ProcessFlags& flags);
// --timeout: seconds, or a number with s, m or h.
std::chrono::milliseconds parse_timeout(const std::string& text);
// The same for any flag, at most `max_seconds`; UserError naming `flag` otherwise.
std::chrono::milliseconds parse_duration(const std::string& flag, const std::string& text,
                                         double max_seconds);

// An option error's text. Boost.Program_options 1.74 fills its message by replacing each
// placeholder (%value%, %option%, ...) until none is left, so a value or flag that contains its
// own placeholder, e.g. `--log-every %value%`, never ends (fuzz_run_file found the hang). This
// puts a zero-width space after each '%' of what the user typed, then asks for the text: it
// reads as typed, and ends. Every `catch (po::error&)` reports through it.
std::string option_error_text(po::error& e);

// What each subcommand takes beyond the RunConfig.
struct TrainFlags {
  std::string config, resume, time_limit, trace;
  bool requeue = false;
  int trace_warmup = 0, trace_steps = 3;
  double peak_gflops = 0;
  ProcessFlags processes;
};
struct EvalFlags {
  std::string checkpoint, split, predictions, logits, config;
  std::vector<std::string> features;  // NODE FILE.npy
  int views = 1;
  ProcessFlags processes;
};
struct ShowFlags {
  std::string checkpoint, output, split, config, pictures = "conv1,predictions,neighbours";
  std::string feature_node = "relu7";
  int images = 8, neighbours = 6, train_images = 2000;
  uint64_t subset_seed = 0;
};
struct TimeFlags {
  int iterations = 10, warmup = 2, classes = 0, channels = 0;
  std::string write, config, trace;
  ProcessFlags processes;
};

// A boolean flag bound to `v`: `--flag` alone means true; `--flag true|false` (or 1/0, yes/no,
// on/off) and `--flag=VALUE` set it, as does a run file's `flag = true`.
po::typed_value<bool>* bool_flag(bool& v);
// Command-line tokens for `desc` with each boolean flag's "--flag WORD" joined into "--flag=WORD"
// where WORD is a boolean word: Boost reads an option with an implicit value (the bare form) only
// from an adjacent "=VALUE", so both forms parse this way. Tokens after "--" are left alone.
std::vector<std::string> join_boolean_values(std::vector<std::string> args,
                                             const po::options_description& desc);

// Each subcommand's options, bound to `c` and the flags and defaulting to their current values.
po::options_description train_options(RunConfig& c, TrainFlags& f);
po::options_description eval_options(RunConfig& c, EvalFlags& f);
po::options_description time_options(RunConfig& c, TimeFlags& f);
po::options_description show_options(RunConfig& c, ShowFlags& f);

// Prints `usage`, a line on ALEXNET_* variables and run files, and the option groups.
void print_help(const std::string& usage, const po::options_description& desc);

// Parses `argc/argv` (after the subcommand), then ALEXNET_<FLAG> variables (ALEXNET_WEIGHT_DECAY
// for --weight-decay), then the run files named by `run_file_flags` (e.g. --config), each layer
// filling only what the earlier ones left unset. Throws UserError naming the flag, variable or
// file and line on any problem. `positional` names options that take bare arguments.
po::variables_map parse_options(const std::string& command, int argc, char** argv,
                                const po::options_description& desc,
                                const po::positional_options_description* positional = nullptr,
                                const std::vector<std::string>& run_file_flags = {"config"});

// Reads a TOML run file as "--key value" arguments for `desc`, skipping keys that only another
// subcommand knows. Throws UserError for a key no subcommand knows.
// With `text`, reads that instead of the file, `path` naming it in messages.
std::vector<std::string> run_file_arguments(const std::string& path, const po::options_description& desc,
                                            const std::string* text = nullptr);

// Stores a run file's values into `vm` where nothing earlier set them, then notifies.
// `skip`: a key of the file not to take (e.g. a resumed run directory's own `out`).
void store_run_file(const std::string& path, const po::options_description& desc, po::variables_map& vm,
                    const std::string& skip = "", const std::string* text = nullptr);

// `eval` and `show`: the checkpoint file `checkpoint` names. A run directory means its last
// checkpoint; its config.toml (or, for RUN/checkpoints/step-N.h5, that run's) fills what the
// command line leaves out (its training-only keys are skipped), and a checkpoint on its own fills
// it from the configuration it keeps; `config`, when not empty, is a run file that fills what
// those leave out (copied: notify() re-assigns the bound flags). The network is the one the
// checkpoint keeps (version 4 on: c.embedded_net) unless --net names one, which must then be the
// same network (comments and spacing aside), else a UserError naming both. UserError when a
// directory holds no checkpoint or the file does not exist.
std::string checkpoint_with_run_files(std::string checkpoint, std::string config,
                                      const po::options_description& desc, po::variables_map& vm,
                                      RunConfig& c);

}  // namespace alexnet::cli
