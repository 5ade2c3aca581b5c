#include "cli/options.h"

#include <toml++/toml.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "core/text_format.h"
#include "train/checkpoint.h"
#include "train/run_dir.h"

namespace alexnet::cli {

po::typed_value<bool>* bool_flag(bool& v) {
  return po::value(&v)->default_value(v, v ? "true" : "false")->implicit_value(true, "true");
}

namespace {
// The words Boost.Program_options reads as a bool (its validate() for bool), in lower case.
bool is_boolean_word(std::string word) {
  for (char& ch : word) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  static const std::set<std::string> words{"true", "false", "1", "0", "yes", "no", "on", "off"};
  return words.count(word) > 0;
}
}  // namespace

std::vector<std::string> join_boolean_values(std::vector<std::string> args,
                                             const po::options_description& desc) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {  // the rest is not ours to read
      out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    const po::option_description* option = nullptr;
    if (a.size() > 2 && a.compare(0, 2, "--") == 0 && a.find('=') == std::string::npos)
      option = desc.find_nothrow(a.substr(2), /*approx=*/true);
    const bool is_bool = option && dynamic_cast<const po::typed_value<bool>*>(option->semantic().get());
    if (is_bool && i + 1 < args.size() && is_boolean_word(args[i + 1])) {
      out.push_back(a + "=" + args[++i]);
    } else {
      out.push_back(a);
    }
  }
  return out;
}

namespace {

// A flag bound to `v`, defaulting to its current value as written: 0.9 and 5e-4 (never
// 0.90000000000000002), true/false, and no "(=)" for an empty string.
template <class T>
po::typed_value<T>* flag(T& v) {
  return po::value(&v)->default_value(v);
}
po::typed_value<double>* flag(double& v) {
  return po::value(&v)->default_value(v, shortest_double(v));
}
po::typed_value<bool>* flag(bool& v) {
  return bool_flag(v);
}
po::typed_value<std::string>* flag(std::string& v) {
  return v.empty() ? po::value(&v) : po::value(&v)->default_value(v);
}

// ---- the groups -------------------------------------------------------------------------------

po::options_description network_options(RunConfig& c) {
  po::options_description d("network and devices");
  // clang-format off
  d.add_options()
    ("net", flag(c.net), "network file (TOML)")
    ("placement", flag(c.placement), "split, single or dense")
    ("parallel", flag(c.parallel), "how the net spreads over processes: auto, split, data (replicas of single/dense), split+data, hybrid (conv data-parallel, fc sharded; single/dense)")
    ("towers", flag(c.towers), "K, the towers the net's kernels are split into (split: one device each; single: K groups)")
    ("devices", flag(c.devices), "auto, cpu, or cuda:0,cuda:1 / cuda:0,cuda:0")
    ("exchange", flag(c.exchange), "conv/fc layers that read all maps, e.g. conv3,fc6,fc7,fc8 (empty: the network file's)")
    ("batch", flag(c.batch), "images per step")
    ("crop", flag(c.crop), "crop size (0: the network file's input size)")
    ("threads", flag(c.threads), "CPU threads for the CPU backend (0: all cores)");
  // clang-format on
  return d;
}

po::options_description cuda_options(RunConfig& c) {
  po::options_description d("CUDA backend");
  // clang-format off
  d.add_options()
    ("comm", flag(c.comm), "how split towers exchange: auto (NCCL between distinct GPUs, local otherwise), local or nccl")
    ("nccl-multi-rank-gpu", flag(c.nccl_multi_rank_gpu), "NCCL with both towers on one GPU (needs NCCL >= 2.30)")
    ("math", flag(c.math), "CUDA math for convolution and FC: fp32 or tf32")
    ("deterministic", flag(c.deterministic), "only deterministic cuDNN algorithms (true/false)")
    ("workspace-mb", flag(c.workspace_mb), "scratch memory a cuDNN convolution algorithm may use, MiB")
    ("nvtx", flag(c.nvtx), "NVTX ranges for Nsight Systems, named as alexnet time's rows (true/false)");
  // clang-format on
  return d;
}

po::options_description data_options(RunConfig& c) {
  po::options_description d("data");
  // clang-format off
  d.add_options()
    ("data", flag(c.data), "dataset file (HDF5, from alexnet pack)")
    ("loader-threads", flag(c.loader_threads), "data loader worker threads");
  // clang-format on
  return d;
}

po::options_description recipe_options(RunConfig& c) {
  po::options_description d("training recipe");
  // clang-format off
  d.add_options()
    ("epochs", flag(c.epochs), "epochs to train")
    ("lr", flag(c.lr), "initial learning rate")
    ("momentum", flag(c.momentum), "SGD momentum")
    ("weight-decay", flag(c.weight_decay), "weight decay")
    ("schedule", flag(c.schedule), "plateau, step, fixed (the rate changes at epoch ends) or cosine (every step, to 0 at the end)")
    ("patience", flag(c.patience), "plateau: epochs without a better val error before the lr drops")
    ("step-epochs", flag(c.step_epochs), "step: epochs between lr drops")
    ("lr-factor", flag(c.lr_factor), "what each drop multiplies the lr by")
    ("warmup-epochs", flag(c.warmup_epochs), "ramp the lr linearly from 0 over this many epochs (fractions allowed)")
    ("lighting", flag(c.lighting), "PCA lighting std (0: off)")
    ("skip-bad-images", flag(c.skip_bad_images)->implicit_value(true, "true"),
     "train past images whose checksum fails, replacing and counting them (default: stop)")
    ("seed", flag(c.seed), "seed for weights, dropout, shuffling and augmentation");
  // clang-format on
  return d;
}

po::options_description run_dir_options(RunConfig& c) {
  po::options_description d("run directory");
  // clang-format off
  d.add_options()
    ("out", flag(c.out), "run directory to create")
    ("log-every", flag(c.log_every), "steps between metric rows")
    ("keep-checkpoints", flag(c.keep_checkpoints), "checkpoints kept")
    ("checkpoint-every", flag(c.checkpoint_every), "also checkpoint every N steps, or every 90s / 30m / 2h of wall clock (0: at epoch ends only)")
    ("profile-every", flag(c.profile_every), "profile every Nth step per layer, after 2 warm-up steps (0: never)")
    ("max-steps", flag(c.max_steps), "stop with a checkpoint after this many steps (0: never)")
    ("bucket-kb", flag(c.bucket_kb), "with replicas: KiB of gradients per all-reduce, sent while backward runs")
    ("progress", flag(c.progress), "show a progress line (true/false)");
  // clang-format on
  return d;
}

po::options_description process_options(ProcessFlags& p) {
  po::options_description d("many processes (else from torchrun's, OpenMPI's or Slurm's variables)");
  // clang-format off
  d.add_options()
    ("rank", po::value(&p.rank), "this process's rank")
    ("world-size", po::value(&p.world_size), "processes in the job: replicas x towers")
    ("local-rank", po::value(&p.local_rank), "rank among this machine's processes (default: the rank)")
    ("store-host", po::value(&p.store_host), "address of rank 0's machine, where the rendezvous store runs")
    ("store-port", po::value(&p.store_port), "the store's port")
    ("store-dir", po::value(&p.store_dir), "ranks of one host: meet through files in this fresh folder instead (no port)")
    ("iface", po::value(&p.iface), "network interface for Gloo (default: GLOO_SOCKET_IFNAME, else the route to the store)")
    ("timeout", flag(p.timeout), "how long to wait for another rank, in the store and in every collective: 300s, 5m, ...");
  // clang-format on
  return d;
}

// Every option some subcommand takes: the keys a run file may hold (help, config and resume are
// refused before this is asked).
const std::set<std::string>& run_file_keys() {
  static const std::set<std::string> keys = [] {
    RunConfig c;
    TrainFlags tr;
    EvalFlags ev;
    TimeFlags ti;
    std::set<std::string> names;
    for (const po::options_description& d : {train_options(c, tr), eval_options(c, ev), time_options(c, ti)})
      for (const auto& option : d.options()) names.insert(option->long_name());
    return names;
  }();
  return keys;
}

}  // namespace

// ---- the subcommands' sets ------------------------------------------------------------------

po::options_description train_options(RunConfig& c, TrainFlags& f) {
  po::options_description general("general");
  // clang-format off
  general.add_options()
    ("help,h", "print this help")
    ("config", flag(f.config), "run file (TOML) giving any of these options, e.g. experiments/runs/*.toml")
    ("resume", flag(f.resume), "continue the run in this directory from its last checkpoint (the same command with --out does too)")
    ("time-limit", flag(f.time_limit), "stop with a checkpoint before this much wall clock has passed: 90m, 12h, ... (default: the Slurm job's end, where SLURM_JOB_END_TIME says)")
    ("requeue", flag(f.requeue), "after a stop by SIGUSR1 or --time-limit, rank 0 runs scontrol requeue $SLURM_JOB_ID")
    ("trace", flag(f.trace), "write a timeline of profiled steps (Chrome trace JSON, for Perfetto) as DIR/trace.json; profiles the steps it needs")
    ("trace-warmup", flag(f.trace_warmup), "profiled steps to skip before the trace's (after the 2 warm-up steps)")
    ("trace-steps", flag(f.trace_steps), "profiled steps the trace holds")
    ("peak-gflops", flag(f.peak_gflops), "this process's devices' peak GFLOP/s, for MFU (default: measured sgemm on a CPU, the chip's datasheet peak on a GPU)");
  // clang-format on
  po::options_description d;
  d.add(network_options(c)).add(data_options(c)).add(recipe_options(c)).add(run_dir_options(c));
  d.add(cuda_options(c)).add(process_options(f.processes)).add(general);
  return d;
}

po::options_description eval_options(RunConfig& c, EvalFlags& f) {
  po::options_description own("evaluation");
  // clang-format off
  own.add_options()
    ("checkpoint", flag(f.checkpoint), "checkpoint file, or a run directory (its last checkpoint and config.toml)")
    ("views", flag(f.views), "1 (centre crop) or 10 (corners, centre and their mirror images)")
    ("split", flag(f.split), "train, val or test (default: test when the file has one, else val)")
    ("predictions", flag(f.predictions), "write each image's top-5 classes and probabilities (CSV) here")
    ("logits", flag(f.logits), "write the centre crop's logits, float32 [images, classes], as .npy here")
    ("features", po::value(&f.features)->multitoken(), "NODE FILE.npy: write node NODE's output (e.g. relu7: fc7 after its ReLU) on the centre crop, float32 [images, its shape...], as .npy");
  // clang-format on
  po::options_description general("general");
  general.add_options()("help,h", "print this help")("config", flag(f.config),
                                                     "run file (TOML) giving any of these options");
  po::options_description d;
  d.add(own)
      .add(network_options(c))
      .add(data_options(c))
      .add(cuda_options(c))
      .add(process_options(f.processes))
      .add(general);
  return d;
}

po::options_description time_options(RunConfig& c, TimeFlags& f) {
  po::options_description own("timing");
  // clang-format off
  own.add_options()
    ("iterations", flag(f.iterations), "timed steps")
    ("warmup", flag(f.warmup), "untimed steps first")
    ("classes", flag(f.classes), "classes (0: the network file's)")
    ("channels", flag(f.channels), "input channels (0: the network file's)")
    ("seed", flag(c.seed), "seed for the weights and the random images")
    ("write", flag(f.write), "also write timing.txt, timing.csv and timing.json into this folder")
    ("trace", flag(f.trace), "also write the timed iterations' timeline here (Chrome trace JSON, for Perfetto; .json.gz compressed)");
  // clang-format on
  po::options_description general("general");
  general.add_options()("help,h", "print this help")(
      "config", flag(f.config), "run file (TOML) giving any of these options; a training run file will do");
  po::options_description d;
  d.add(own).add(network_options(c)).add(cuda_options(c)).add(process_options(f.processes)).add(general);
  return d;
}

po::options_description show_options(RunConfig& c, ShowFlags& f) {
  po::options_description own("pictures");
  // clang-format off
  own.add_options()
    ("checkpoint", flag(f.checkpoint), "checkpoint file, or a run directory (its last checkpoint and config.toml); also the first bare argument")
    ("output", flag(f.output), "folder for the PNGs (default: RUN_DIR/show, or show/ beside the checkpoint file)")
    ("pictures", flag(f.pictures), "which to draw: conv1, predictions, neighbours (comma-separated)")
    ("split", flag(f.split), "the images shown: val, else test (default: val when the file has one)")
    ("images", flag(f.images), "N: images shown with their predictions and neighbours")
    ("neighbours", flag(f.neighbours), "K: nearest training images per image")
    ("train-images", flag(f.train_images), "training images searched for neighbours (a random subset)")
    ("subset-seed", flag(f.subset_seed), "seed of the choice of the shown and the searched images")
    ("feature-node", flag(f.feature_node), "the node whose outputs are compared (relu7: fc7 after its ReLU, the paper's features)");
  // clang-format on
  po::options_description general("general");
  general.add_options()("help,h", "print this help")("config", flag(f.config),
                                                     "run file (TOML) giving any of these options");
  po::options_description d;
  d.add(own).add(network_options(c)).add(data_options(c)).add(cuda_options(c)).add(general);
  return d;
}

std::chrono::milliseconds parse_duration(const std::string& flag, const std::string& text,
                                         double max_seconds) {
  size_t used = 0;
  double value = -1;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = text.substr(used);
  const double scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : -1;
  if (used == 0 || scale < 0 || !(value > 0)) {
    throw UserError(flag + ": '" + text + "' is not a duration (seconds, or a number with s, m or h)");
  }
  if (value * scale > max_seconds) {
    throw UserError(flag + ": '" + text + "' is longer than the " + shortest_double(max_seconds / 3600) +
                    " hours it may be");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(value * scale * 1000));
}

std::chrono::milliseconds parse_timeout(const std::string& text) {
  return parse_duration("--timeout", text, 7 * 24 * 3600);
}

Processes resolve_processes(const ProcessFlags& f) {
  LaunchFlags flags;
  if (f.rank != -1) flags.rank = f.rank;
  if (f.world_size != -1) flags.world_size = f.world_size;
  if (f.local_rank != -1) flags.local_rank = f.local_rank;
  if (!f.store_host.empty()) flags.store_host = f.store_host;
  if (f.store_port != -1) flags.store_port = f.store_port;
  if (!f.store_dir.empty()) flags.store_dir = f.store_dir;
  Processes p;
  const EnvLookup env = process_environment();
  p.launch = resolve_launch(flags, env);
  p.options.iface = f.iface.empty() ? env("GLOO_SOCKET_IFNAME").value_or("") : f.iface;
  p.options.timeout = parse_timeout(f.timeout);
  return p;
}

void print_help(const std::string& usage, const po::options_description& desc) {
  std::cout << usage
            << "\nEach option may also be set by an ALEXNET_<NAME> variable (ALEXNET_WORKSPACE_MB for "
               "--workspace-mb)\nor by a key of a --config run file; the command line wins, then the "
               "variable, then the file.\n"
            << desc;
}

// ---- option errors ----------------------------------------------------------------------------

namespace {

// A derived class may name a protected member of its base; the pointer then reaches it in any
// error_with_option_name, which is how the substitutions get fixed before what() runs.
struct OptionErrorSubstitutions : po::error_with_option_name {
  static auto member() { return &OptionErrorSubstitutions::m_substitutions; }
};

}  // namespace

std::string option_error_text(po::error& e) {
  if (auto* named = dynamic_cast<po::error_with_option_name*>(&e)) {
    for (auto& [key, text] : named->*OptionErrorSubstitutions::member()) {
      for (size_t at = text.find('%'); at != std::string::npos; at = text.find('%', at + 1))
        text.insert(at + 1, "\u200b");
    }
  }
  return e.what();
}

// ---- run files and precedence ---------------------------------------------------------------

std::vector<std::string> run_file_arguments(const std::string& path, const po::options_description& desc,
                                            const std::string* text) {
  toml::table table;
  try {
    table = text ? toml::parse(*text, path) : toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (!text && !std::filesystem::exists(path)) throw UserError(path + ": cannot open run file");
    throw UserError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  std::vector<std::string> args;
  for (auto&& [key, node] : table) {
    std::string name(key.str());
    int line = static_cast<int>(node.source().begin.line);
    if (name == "help" || name == "config" || name == "resume") {
      throw UserError(path + ":" + std::to_string(line) + ": '" + name +
                      "' is a command-line flag, not a run-file key");
    }
    // An empty key is a prefix of every flag: program_options calls it ambiguous and throws.
    if (name.empty()) throw UserError(path + ":" + std::to_string(line) + ": an empty key");
    if (!desc.find_nothrow(name, false)) {
      if (run_file_keys().count(name)) continue;  // another subcommand's (e.g. epochs for eval)
      throw UserError(path + ":" + std::to_string(line) + ": unknown key '" + name + "'");
    }
    std::string value;
    if (node.is_string()) {
      value = **node.as_string();
    } else if (node.is_integer()) {
      value = std::to_string(**node.as_integer());
    } else if (node.is_floating_point()) {
      value = shortest_double(**node.as_floating_point());
    } else if (node.is_boolean()) {
      value = **node.as_boolean() ? "true" : "false";
    } else {
      throw UserError(path + ":" + std::to_string(line) + ": key '" + name +
                      "' must be a string, number or boolean");
    }
    args.push_back("--" + name);
    args.push_back(value);  // a separate token, so that an empty string is a value too
  }
  return args;
}

void store_run_file(const std::string& path, const po::options_description& desc, po::variables_map& vm,
                    const std::string& skip, const std::string* text) {
  std::vector<std::string> all = run_file_arguments(path, desc, text), args;
  for (size_t i = 0; i + 1 < all.size(); i += 2) {
    if (all[i] == "--" + skip) continue;
    args.push_back(all[i]);
    args.push_back(all[i + 1]);
  }
  try {
    po::store(po::command_line_parser(join_boolean_values(args, desc)).options(desc).run(), vm);
    po::notify(vm);
  } catch (po::error& e) {
    throw UserError(path + ": " + option_error_text(e));
  }
}

namespace {
// A network file's lines that matter: comments, blank lines and surrounding spaces dropped.
std::vector<std::string> network_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    const size_t a = line.find_first_not_of(" \t\r"), b = line.find_last_not_of(" \t\r");
    if (a != std::string::npos) out.push_back(line.substr(a, b - a + 1));
  }
  return out;
}
}  // namespace

std::string checkpoint_with_run_files(std::string checkpoint, std::string config,
                                      const po::options_description& desc, po::variables_map& vm,
                                      RunConfig& c) {
  // Named on the command line (or ALEXNET_NET), before any run file fills it in.
  const bool net_named = vm.count("net") && !vm["net"].defaulted();
  if (!config.empty()) run_file_arguments(config, desc);  // a bad run file is named first, whatever else
  namespace fs = std::filesystem;
  std::string file = checkpoint, run_dir;
  if (fs::is_directory(checkpoint)) {
    std::vector<std::string> all = list_checkpoints(checkpoint);
    if (all.empty()) throw UserError(checkpoint + ": holds no checkpoint");
    file = all.back();
    run_dir = checkpoint;
  } else if (const fs::path parent = fs::path(checkpoint).parent_path(); parent.filename() == "checkpoints") {
    run_dir = parent.parent_path().string();  // RUN/checkpoints/step-N.h5: the run's own files
  }
  if (!fs::exists(file)) throw UserError(file + ": no such checkpoint");
  const CheckpointTexts texts = read_checkpoint_texts(file);
  if (!run_dir.empty() && fs::exists(fs::path(run_dir) / "config.toml")) {
    store_run_file((fs::path(run_dir) / "config.toml").string(), desc, vm);
  } else if (!texts.config.empty()) {  // a checkpoint on its own: the configuration it keeps
    store_run_file(file + " (its run's configuration)", desc, vm, "", &texts.config);
  }
  if (!config.empty()) store_run_file(config, desc, vm);
  if (texts.network.empty()) return file;  // a checkpoint older than version 4 keeps no network
  if (!net_named) {
    c.embedded_net = texts.network;
    c.embedded_net_origin = file + " (its copy of " + texts.network_path + ")";
    return file;
  }
  std::ifstream in(c.net);
  if (!in) throw UserError(c.net + ": cannot open network file");
  const std::string named((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<std::string> a = network_lines(named), b = network_lines(texts.network);
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string x = i < a.size() ? a[i] : "(nothing)", y = i < b.size() ? b[i] : "(nothing)";
    if (x == y) continue;
    throw UserError("--net " + c.net + " is not the network " + file + " was trained with (its copy of " +
                    texts.network_path + "): the first difference is '" + x + "' against the checkpoint's '" +
                    y + "'; leave --net out to use the checkpoint's own");
  }
  return file;
}

po::variables_map parse_options(const std::string& command, int argc, char** argv,
                                const po::options_description& desc,
                                const po::positional_options_description* positional,
                                const std::vector<std::string>& run_file_flags) {
  po::variables_map vm;
  try {
    std::vector<std::string> args;
    if (argc > 1) args.assign(argv + 1, argv + argc);  // argv[0]: the subcommand
    po::command_line_parser parser(join_boolean_values(std::move(args), desc));
    parser.options(desc);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    po::store(po::parse_environment(desc,
                                    [&](const std::string& var) -> std::string {
                                      if (var.rfind("ALEXNET_", 0) != 0) return "";
                                      std::string name = var.substr(8);
                                      for (char& ch : name)
                                        ch = ch == '_' ? '-' : static_cast<char>(std::tolower(ch));
                                      return desc.find_nothrow(name, false) ? name : "";
                                    }),
              vm);
  } catch (po::error& e) {
    throw UserError(command + ": " + option_error_text(e) + " (see alexnet " + command + " --help)");
  }
  for (const std::string& flag : run_file_flags) {
    if (!vm.count(flag) || vm[flag].defaulted()) continue;
    std::string path = vm[flag].as<std::string>();
    if (flag == "resume") {
      if (!std::filesystem::is_directory(path))
        throw UserError("--resume " + path + ": no such run directory");
      path += "/config.toml";
      // Each machine's first rank keeps a copy (train/trainer.cpp); a machine new to the run has none.
      if (!std::filesystem::exists(path)) {
        throw UserError("--resume: " + path +
                        " does not exist (not a run directory, or this machine ran none of its ranks: "
                        "copy config.toml there from rank 0's machine)");
      }
    }
    // A run directory's own config.toml names where it was written; resumed, the run continues
    // where it is now (a folder moved or copied resumes), so its `out` is not taken.
    store_run_file(path, desc, vm, flag == "resume" ? "out" : "");
  }
  try {
    po::notify(vm);
  } catch (po::error& e) {
    throw UserError(command + ": " + option_error_text(e));
  }
  return vm;
}

}  // namespace alexnet::cli
