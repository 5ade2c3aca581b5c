#include "cli/options.h"

#include <toml++/toml.h>

#include <filesystem>
#include <sstream>

#include "core/errors.h"

namespace alexnet::cli {

po::options_description training_options(RunConfig& c) {
  po::options_description d("training options (each also as ALEXNET_<NAME> or a key in a --config run file)");
  // clang-format off
  d.add_options()
    ("net", po::value(&c.net)->default_value(c.net), "network file (TOML)")
    ("data", po::value(&c.data), "dataset file (HDF5, from alexnet pack)")
    ("placement", po::value(&c.placement)->default_value(c.placement), "split, single or dense")
    ("devices", po::value(&c.devices)->default_value(c.devices), "auto, cpu, or cuda:0,cuda:1 / cuda:0,cuda:0")
    ("exchange", po::value(&c.exchange)->default_value(c.exchange), "conv/fc layers that read all maps, e.g. conv3,fc6,fc7,fc8 (empty: the network file's)")
    ("comm", po::value(&c.comm)->default_value(c.comm), "how split towers exchange: auto (NCCL between distinct GPUs, local otherwise), local or nccl")
    ("nccl-multi-rank-gpu", po::value(&c.nccl_multi_rank_gpu)->default_value(c.nccl_multi_rank_gpu), "NCCL with both towers on one GPU (needs NCCL >= 2.30)")
    ("math", po::value(&c.math)->default_value(c.math), "CUDA math for convolution and FC: fp32 or tf32")
    ("deterministic", po::value(&c.deterministic)->default_value(c.deterministic), "only deterministic cuDNN algorithms (true/false)")
    ("workspace-mb", po::value(&c.workspace_mb)->default_value(c.workspace_mb), "scratch memory a cuDNN convolution algorithm may use, MiB")
    ("out", po::value(&c.out), "run directory to create")
    ("batch", po::value(&c.batch)->default_value(c.batch), "images per step")
    ("epochs", po::value(&c.epochs)->default_value(c.epochs), "epochs to train")
    ("lr", po::value(&c.lr)->default_value(c.lr), "initial learning rate")
    ("momentum", po::value(&c.momentum)->default_value(c.momentum), "SGD momentum")
    ("weight-decay", po::value(&c.weight_decay)->default_value(c.weight_decay), "weight decay")
    ("schedule", po::value(&c.schedule)->default_value(c.schedule), "plateau, step or fixed")
    ("patience", po::value(&c.patience)->default_value(c.patience), "plateau: epochs without a better val error before the lr drops")
    ("step-epochs", po::value(&c.step_epochs)->default_value(c.step_epochs), "step: epochs between lr drops")
    ("lr-factor", po::value(&c.lr_factor)->default_value(c.lr_factor), "what each drop multiplies the lr by")
    ("crop", po::value(&c.crop)->default_value(c.crop), "crop size (0: the network file's input size)")
    ("lighting", po::value(&c.lighting)->default_value(c.lighting), "PCA lighting std (0: off)")
    ("loader-threads", po::value(&c.loader_threads)->default_value(c.loader_threads), "data loader worker threads")
    ("seed", po::value(&c.seed)->default_value(c.seed), "seed for weights, dropout, shuffling and augmentation")
    ("threads", po::value(&c.threads)->default_value(c.threads), "CPU threads for the CPU backend (0: all cores)")
    ("log-every", po::value(&c.log_every)->default_value(c.log_every), "steps between metric rows")
    ("keep-checkpoints", po::value(&c.keep_checkpoints)->default_value(c.keep_checkpoints), "checkpoints kept")
    ("profile-every", po::value(&c.profile_every)->default_value(c.profile_every), "profile every Nth step per layer (0: never)")
    ("max-steps", po::value(&c.max_steps)->default_value(c.max_steps), "stop with a checkpoint after this many steps (0: never)")
    ("progress", po::value(&c.progress)->default_value(c.progress), "show a progress line (true/false)");
  // clang-format on
  return d;
}

std::vector<std::string> run_file_arguments(const std::string& path, const po::options_description& desc) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (!std::filesystem::exists(path)) throw UserError(path + ": cannot open run file");
    throw UserError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  std::vector<std::string> args;
  for (auto&& [key, node] : table) {
    std::string name(key.str());
    int line = static_cast<int>(node.source().begin.line);
    if (!desc.find_nothrow(name, false)) {
      throw UserError(path + ":" + std::to_string(line) + ": unknown key '" + name + "'");
    }
    std::ostringstream value;
    if (node.is_string()) {
      value << **node.as_string();
    } else if (node.is_integer()) {
      value << **node.as_integer();
    } else if (node.is_floating_point()) {
      value.precision(17);
      value << **node.as_floating_point();
    } else if (node.is_boolean()) {
      value << (**node.as_boolean() ? "true" : "false");
    } else {
      throw UserError(path + ":" + std::to_string(line) + ": key '" + name +
                      "' must be a string, number or boolean");
    }
    args.push_back("--" + name);
    args.push_back(value.str());  // a separate token, so that an empty string is a value too
  }
  return args;
}

po::variables_map parse_options(const std::string& command, int argc, char** argv,
                                const po::options_description& desc,
                                const po::positional_options_description* positional,
                                const std::vector<std::string>& run_file_flags) {
  po::variables_map vm;
  try {
    po::command_line_parser parser(argc, argv);
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
  } catch (const po::error& e) {
    throw UserError(command + ": " + e.what() + " (see alexnet " + command + " --help)");
  }
  for (const std::string& flag : run_file_flags) {
    if (!vm.count(flag) || vm[flag].defaulted()) continue;
    std::string path = vm[flag].as<std::string>();
    if (flag == "resume") path += "/config.toml";
    std::vector<std::string> args = run_file_arguments(path, desc);
    try {
      po::store(po::command_line_parser(args).options(desc).run(), vm);
    } catch (const po::error& e) {
      throw UserError(path + ": " + e.what());
    }
  }
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    throw UserError(command + ": " + e.what());
  }
  return vm;
}

}  // namespace alexnet::cli
