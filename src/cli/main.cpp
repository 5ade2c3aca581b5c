// The alexnet binary: one tool, several subcommands (as caffe train|test|time).
//
// Exit status: 0 on success, 2 for bad user input (unknown subcommand, bad flags), 1 for a
// failure of the program or the machine.
#include <glog/logging.h>

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "core/blas.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/versions.h"

namespace {

constexpr const char* kUsage =
    "usage: alexnet <command> [options]\n"
    "\n"
    "commands:\n"
    "  train     train a network on a packed dataset (alexnet train --help)\n"
    "  eval      evaluate a checkpoint: top-1/top-5 error, centre crop or ten views\n"
    "  show      draw conv1's kernels per tower, predictions and fc7 neighbours as PNGs (Figures 3, 4)\n"
    "  time      per-layer forward/backward time on each tower, and each exchange's\n"
    "  info      print a placed network's layers, shapes, parameters, MACs and exchanges (--json too)\n"
    "  pack      pack images (Fashion-MNIST, CIFAR-10, an image folder tree) into an HDF5 dataset\n"
    "  launch    run N ranks of a command on this machine: launch --nproc N -- train ...\n"
    "  version   print the version, the backends this build has and the devices visible now\n"
    "  help      print this message; help COMMAND prints the options of COMMAND\n";

int version() {
  std::printf("alexnet %s\n", ALEXNET_VERSION);
  std::printf("backends: %s\n", alexnet::backends().c_str());
  std::printf("cpu threads: %d\n", alexnet::blas::cpu_threads());
  std::printf("cpu kernels (OpenBLAS): %s\n", alexnet::blas::kernels());
  // The libraries as loaded now, beside the versions the build was made with, and each device's
  // identity: what a GPU session reads first.
  for (const auto& [name, version] : alexnet::library_versions()) {
    if (name != "alexnet" && name != "openblas") std::printf("%s: %s\n", name.c_str(), version.c_str());
  }
  std::printf("cuda devices visible: %d\n", alexnet::cuda_device_count());
  for (const std::string& d : alexnet::describe_cuda_devices()) std::printf("  %s\n", d.c_str());
  return 0;
}

// "alexnet COMMAND: MESSAGE" on stderr. Messages raised below the command may already name it
// ("pack: --output is required"): it is said once.
void report(std::string_view command, std::string_view message) {
  const std::string prefix = std::string(command) + ": ";
  if (message.substr(0, prefix.size()) == prefix) message.remove_prefix(prefix.size());
  std::fprintf(stderr, "alexnet %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace

int main(int argc, char** argv) {
  alexnet::blas::use_the_cpus_kernels(argv);  // may re-execute the program (core/blas.h)
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // `alexnet help train` is `alexnet train --help`: each command's help lists its own options.
  if (std::string_view(argv[1]) == "help" && argc > 2) {
    static char help_flag[] = "--help";
    argv[1] = argv[2];
    argv[2] = help_flag;
    argc = 3;
  }
  std::string_view command = argv[1];
  try {
    if (command == "version" || command == "--version") return version();
    if (command == "help" || command == "--help" || command == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (command == "info") return alexnet::cli::info(argc - 1, argv + 1);
    if (command == "pack") return alexnet::cli::pack(argc - 1, argv + 1);
    if (command == "train") return alexnet::cli::train(argc - 1, argv + 1);
    if (command == "eval") return alexnet::cli::eval(argc - 1, argv + 1);
    if (command == "show") return alexnet::cli::show(argc - 1, argv + 1);
    if (command == "time") return alexnet::cli::time(argc - 1, argv + 1);
    if (command == "launch") return alexnet::cli::launch(argc - 1, argv + 1);
    std::fprintf(stderr, "alexnet: unknown command '%s'\n\n%s", argv[1], kUsage);
    return 2;
  } catch (const alexnet::UserError& e) {
    report(command, e.what());
    return 2;
  } catch (const alexnet::Interrupted& e) {
    report(command, e.what());
    return 128 + e.signal();
  } catch (const std::exception& e) {
    report(command, e.what());
    return 1;
  }
}
