// Training runs, evaluation of checkpoints, and per-layer timing, as the CLI's train, eval and
// time subcommands run them.
#pragma once

#include <memory>
#include <string>

#include "comm/communicator.h"
#include "data/format.h"
#include "net/net.h"
#include "train/run_config.h"

namespace alexnet {

// A placed, allocated network for a config: the dataset (when there is one) fixes the input
// channels, the classes and the largest crop.
struct Session {
  std::shared_ptr<const DatasetReader> data;
  std::vector<Device> devices;
  std::unique_ptr<Communicator> comm;
  std::unique_ptr<Net> net;
  BackendOptions backend;
  int crop = 0;
};
Session make_session(const RunConfig& config, std::shared_ptr<const DatasetReader> data);

// Trains as configured into config.out, or continues the run there when `resume`. Returns the
// exit status: 0 when finished or stopped cleanly (signal, --max-steps), 1 when the loss became
// NaN or infinite. Bad input throws UserError.
int run_training(const RunConfig& config, const std::string& command_line, bool resume);

}  // namespace alexnet
