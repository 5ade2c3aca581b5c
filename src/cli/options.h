// Option parsing shared by the subcommands: Boost.Program_options over the command line,
// ALEXNET_* environment variables and TOML run files, in that order of precedence.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "train/run_config.h"

namespace alexnet::cli {

namespace po = boost::program_options;

// The flags of `train`, bound to `c` and defaulting to its current values.
po::options_description training_options(RunConfig& c);

// Parses `argc/argv` (after the subcommand), then ALEXNET_<FLAG> variables (ALEXNET_WEIGHT_DECAY
// for --weight-decay), then the run files named by `run_file_flags` (e.g. --config), each layer
// filling only what the earlier ones left unset. Throws UserError naming the flag, variable or
// file and line on any problem. `positional` names options that take bare arguments.
po::variables_map parse_options(const std::string& command, int argc, char** argv,
                                const po::options_description& desc,
                                const po::positional_options_description* positional = nullptr,
                                const std::vector<std::string>& run_file_flags = {"config"});

// Reads a TOML run file as "--key value" arguments.
std::vector<std::string> run_file_arguments(const std::string& path, const po::options_description& desc);

}  // namespace alexnet::cli
