// libFuzzer target: a run file's bytes -> the options of `alexnet train` (store_run_file, the
// path every subcommand's --config takes). Malformed input must end in UserError; any other
// exception, a crash, a hang or a sanitizer report is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "cli/options.h"
#include "core/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/alexnet-fuzz-run-" + std::to_string(getpid()) + ".toml";
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), size);
  alexnet::RunConfig config;
  alexnet::cli::TrainFlags flags;
  const auto desc = alexnet::cli::train_options(config, flags);
  alexnet::cli::po::variables_map vm;
  try {
    alexnet::cli::store_run_file(path, desc, vm);
  } catch (const alexnet::UserError&) {
  }
  return 0;
}
