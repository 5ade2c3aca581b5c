// alexnet train --net NETWORK.toml --data FILE.h5 --out RUN_DIR [options]
// alexnet train --resume RUN_DIR
#include <cstdlib>
#include <ctime>
#include <filesystem>

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

// --time-limit, else the Slurm job's end where the job's environment says it
// (SLURM_JOB_END_TIME, Unix seconds); --requeue (or ALEXNET_REQUEUE=1).
JobControl job_control(const TrainFlags& f) {
  JobControl job;
  job.requeue = f.requeue;
  if (f.peak_gflops < 0)
    throw UserError("--peak-gflops must be positive, got " + std::to_string(f.peak_gflops));
  job.peak_gflops = f.peak_gflops;
  if (!f.trace.empty()) {
    if (f.trace_steps < 1)
      throw UserError("--trace-steps must be at least 1, got " + std::to_string(f.trace_steps));
    if (f.trace_warmup < 0)
      throw UserError("--trace-warmup must be 0 or more, got " + std::to_string(f.trace_warmup));
    job.trace_path = (std::filesystem::path(f.trace) / "trace.json").string();
    job.trace = {.warmup = f.trace_warmup, .active = f.trace_steps};
    check_trace_path(job.trace_path, "--trace");
  }
  if (!f.time_limit.empty()) {
    job.time_limit_seconds = parse_duration("--time-limit", f.time_limit, 365.0 * 24 * 3600).count() / 1000.0;
    job.time_limit_source = "--time-limit " + f.time_limit;
  } else if (const char* end = std::getenv("SLURM_JOB_END_TIME"); end && *end) {
    char* rest = nullptr;
    const double at = std::strtod(end, &rest);
    if (rest == end || *rest || !(at > 0))
      throw UserError("SLURM_JOB_END_TIME: '" + std::string(end) + "' is not a time in Unix seconds");
    job.time_limit_seconds = at - static_cast<double>(std::time(nullptr));
    job.time_limit_source = "the Slurm job's end (SLURM_JOB_END_TIME)";
    if (job.time_limit_seconds <= 0)
      throw UserError("SLURM_JOB_END_TIME " + std::string(end) + " has passed already");
  }
  return job;
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
  return run_training(c, command_line(argc, argv), !resume.empty(), resolve_processes(f.processes),
                      job_control(f));
}

}  // namespace alexnet::cli
