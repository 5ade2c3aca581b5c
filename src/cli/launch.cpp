// alexnet launch --nproc N [--master-addr A] [--master-port P] [--grace S] [--max-restarts N]
//                [--restart-delay S] -- COMMAND [ARGS...]
//
// Starts N ranks of this same binary running `alexnet COMMAND ARGS...` on this machine, with
// torchrun's variables set (comm/launcher.h says what it does with their output, signals and
// exit statuses).
#include <boost/program_options.hpp>
#include <cerrno>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "comm/launcher.h"
#include "core/errors.h"

namespace po = boost::program_options;

namespace alexnet::cli {

int launch(int argc, char** argv) {
  // Everything after the first "--" belongs to the ranks, flags included.
  int split = 1;
  while (split < argc && std::string_view(argv[split]) != "--") ++split;
  const std::vector<std::string> own(argv + 1, argv + split);
  std::vector<std::string> command(argv + std::min(split + 1, argc), argv + argc);

  LaunchOptions o;
  po::options_description options(
      "alexnet launch --nproc N [options] -- COMMAND [ARGS...]\n"
      "Runs N ranks of `alexnet COMMAND ARGS...` on this machine with torchrun's variables set\n"
      "(RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), each rank's\n"
      "output prefixed \"[rank N] \"; passes SIGINT, SIGTERM and SIGHUP on (a second SIGINT within\n"
      "2 s kills the ranks); exits with the status of the first rank that failed");
  // clang-format off
  options.add_options()
    ("help,h", "print this help")
    ("nproc", po::value(&o.nproc), "number of ranks (required)")
    ("master-addr", po::value(&o.master_addr)->default_value(o.master_addr), "address rank 0's store listens on")
    ("master-port", po::value(&o.master_port), "its port (default: a free one, found by binding port 0)")
    ("grace", po::value(&o.grace_s)->default_value(o.grace_s),
     "seconds the other ranks get to end on their own after one fails, before SIGTERM (SIGKILL 10 s later)")
    ("max-restarts", po::value(&o.max_restarts)->default_value(o.max_restarts),
     "after a rank fails, start every rank again, up to this many times (the same train command continues its run)")
    ("restart-delay", po::value(&o.restart_delay_s)->default_value(o.restart_delay_s),
     "seconds between the last rank's end and the restart");
  // clang-format on
  // A bare word before "--" is most likely the command, misplaced: named below, not ignored.
  std::vector<std::string> stray;
  po::options_description all;
  all.add(options).add_options()("stray", po::value(&stray));
  po::positional_options_description positional;
  positional.add("stray", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(own).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (po::error& e) {
    throw UserError("launch: " + option_error_text(e) +
                    (split == argc
                         ? " (the command to run goes after '--': alexnet launch --nproc N -- train ...)"
                         : " (see alexnet launch --help)"));
  }
  if (!stray.empty())
    throw UserError("launch: '" + stray.front() +
                    "': the command to run goes after '--': alexnet launch --nproc N -- train ...");
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  if (!vm.count("nproc")) throw UserError("launch: --nproc is required (the number of ranks to start)");
  if (o.nproc < 1) throw UserError("launch: --nproc " + std::to_string(o.nproc) + ": give at least 1 rank");
  if (o.max_restarts < 0)
    throw UserError("launch: --max-restarts " + std::to_string(o.max_restarts) + ": give 0 or more");
  if (!(o.restart_delay_s >= 0) || o.restart_delay_s > 3600)
    throw UserError("launch: --restart-delay must be between 0 and 3600 seconds");
  if (vm.count("master-port") && (o.master_port < 1 || o.master_port > 65535))
    throw UserError("launch: --master-port " + std::to_string(o.master_port) +
                    " is not a port number (1-65535)");
  if (!(o.grace_s >= 0)) throw UserError("launch: --grace must be a number of seconds >= 0");
  if (command.empty())
    throw UserError(
        "launch: nothing to run: give the command after '--': alexnet launch --nproc N -- train ...");

  // The ranks run this very binary, named as the launcher was (glibc keeps the original argv[0]).
  command.insert(command.begin(), program_invocation_name);
  return launch_ranks("/proc/self/exe", command, o);
}

}  // namespace alexnet::cli
