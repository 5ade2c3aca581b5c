#include "train/run_config.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/cuda_backend.h"
#include "core/errors.h"
#include "core/text_format.h"

namespace alexnet {

std::vector<Device> resolve_devices(const std::string& text, int towers) {
  std::vector<Device> devices;
  if (text == "auto") {
    int gpus = cuda_device_count();
    for (int t = 0; t < towers; ++t)
      devices.push_back(gpus == 0 ? Device::cpu() : Device::cuda(std::min(t, gpus - 1)));
    return devices;
  }
  std::stringstream s(text);
  for (std::string item; std::getline(s, item, ',');) {
    try {
      devices.push_back(Device::parse(item));
    } catch (const std::invalid_argument& e) {
      throw UserError(std::string("--devices: ") + e.what());
    }
  }
  if (devices.empty()) throw UserError("--devices: empty list");
  if (devices.size() == 1) devices.resize(towers, devices[0]);
  if (static_cast<int>(devices.size()) != towers) {
    throw UserError("--devices: " + std::to_string(devices.size()) + " devices given for " +
                    std::to_string(towers) + " tower(s)");
  }
  // Only a run that names a GPU asks the driver: a CPU run needs none (and a broken one is an
  // error cuda_device_count() reports).
  const bool any_gpu = std::any_of(devices.begin(), devices.end(), [](Device d) { return d.is_cuda(); });
  const int gpus = any_gpu && cuda_built() ? cuda_device_count() : 0;
  for (Device d : devices) {
    if (d.is_cuda() && !cuda_built()) throw no_cuda_backend("--devices: " + d.str());
    if (d.is_cuda() && d.index >= gpus) {
      throw UserError("--devices: " + d.str() + " does not exist (" + std::to_string(gpus) +
                      " CUDA device(s) visible)");
    }
  }
  return devices;
}

BackendOptions backend_options(const RunConfig& c) {
  if (c.comm != "auto" && c.comm != "local" && c.comm != "nccl")
    throw UserError("--comm: '" + c.comm + "' is not auto, local or nccl");
  BackendOptions b;
  b.math = parse_math_mode(c.math);
  b.deterministic = c.deterministic;
  if (c.workspace_mb < 0)
    throw UserError("--workspace-mb must be >= 0, got " + std::to_string(c.workspace_mb));
  b.workspace_limit = static_cast<size_t>(c.workspace_mb) << 20;
  return b;
}

CheckpointEvery CheckpointEvery::parse(const std::string& text) {
  const std::string expected = "--checkpoint-every: '" + text +
                               "' is neither a step count (e.g. 1000) nor a duration (e.g. 90s, 30m, 2h)";
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) throw UserError(expected);
  const int64_t n = std::stoll(text.substr(0, digits));
  const std::string suffix = text.substr(digits);
  CheckpointEvery every;
  if (suffix.empty())
    every.steps = n;
  else if (suffix == "s")
    every.seconds = static_cast<double>(n);
  else if (suffix == "m")
    every.seconds = 60.0 * n;
  else if (suffix == "h")
    every.seconds = 3600.0 * n;
  else
    throw UserError(expected);
  return every;
}

std::string to_toml(const RunConfig& c) {
  std::ostringstream o;
  auto str = [&](const char* k, const std::string& v) {
    o << k << " = \"";
    for (char ch : v) o << (ch == '"' || ch == '\\' ? "\\" : "") << ch;
    o << "\"\n";
  };
  str("net", c.net);
  str("data", c.data);
  str("placement", c.placement);
  str("parallel", c.parallel);
  o << "towers = " << c.towers << "\n";
  str("devices", c.devices);
  str("exchange", c.exchange);
  str("comm", c.comm);
  o << "nccl-multi-rank-gpu = " << (c.nccl_multi_rank_gpu ? "true" : "false") << "\n";
  str("math", c.math);
  o << "deterministic = " << (c.deterministic ? "true" : "false") << "\nworkspace-mb = " << c.workspace_mb
    << "\n";
  str("out", c.out);
  o << "batch = " << c.batch << "\nepochs = " << c.epochs << "\n";
  // Floats as written (0.9, 5e-4), each still reading back as the same double.
  o << "lr = " << toml_float(c.lr) << "\nmomentum = " << toml_float(c.momentum)
    << "\nweight-decay = " << toml_float(c.weight_decay) << "\n";
  str("schedule", c.schedule);
  o << "patience = " << c.patience << "\nstep-epochs = " << c.step_epochs
    << "\nlr-factor = " << toml_float(c.lr_factor) << "\nwarmup-epochs = " << toml_float(c.warmup_epochs)
    << "\n";
  o << "crop = " << c.crop << "\nlighting = " << toml_float(c.lighting)
    << "\nloader-threads = " << c.loader_threads
    << "\nskip-bad-images = " << (c.skip_bad_images ? "true" : "false") << "\n";
  o << "seed = " << c.seed << "\nthreads = " << c.threads << "\nlog-every = " << c.log_every << "\n";
  o << "keep-checkpoints = " << c.keep_checkpoints << "\n";
  str("checkpoint-every", c.checkpoint_every);
  o << "profile-every = " << c.profile_every << "\nnvtx = " << (c.nvtx ? "true" : "false") << "\n";
  o << "bucket-kb = " << c.bucket_kb << "\n";
  o << "max-steps = " << c.max_steps << "\n";
  return o.str();
}

}  // namespace alexnet
