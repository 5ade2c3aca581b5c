// alexnet train --net NETWORK.toml --data FILE.h5 --out RUN_DIR [options]
// alexnet train --resume RUN_DIR
#include "cli/commands.h"
#include "cli/options.h"
#include "core/errors.h"
#include "train/trainer.h"

namespace alexnet::cli {

std::string command_line(int argc, char** argv) {
  std::string s = "alexnet";
  for (int i = 0; i < argc; ++i) s += std::string(" ") + argv[i];
  return s;
}

int train(int argc, char** argv) {
  RunConfig c;
  TrainFlags f;
  po::options_description desc = train_options(c, f);
  po::variables_map vm = parse_options("train", argc, argv, desc, nullptr, {"config", "resume"});
  if (vm.count("help")) {
    print_help(
        "alexnet train --net NETWORK.toml --data FILE.h5 --out RUN_DIR [options]\n"
        "alexnet train --resume RUN_DIR [options]\n",
        desc);
    return 0;
  }
  const std::string& resume = f.resume;
  if (!resume.empty()) {
    if (vm.count("out") && !vm["out"].defaulted() && c.out != resume &&
        vm["out"].as<std::string>() != resume) {
      throw UserError("train: --resume " + resume + " continues that run directory; --out " + c.out +
                      " differs");
    }
    c.out = resume;
  }
  return run_training(c, command_line(argc, argv), !resume.empty(), resolve_processes(f.processes));
}

}  // namespace alexnet::cli
