#include "train/run_dir.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/blas.h"
#include "core/errors.h"
#include "core/text_format.h"
#include "core/versions.h"
#include "train/session.h"

namespace fs = std::filesystem;

namespace alexnet {

void RunDir::check_new() const {
  if (fs::exists(path_) && !fs::is_empty(path_)) {
    throw UserError(path_ + ": exists and is not empty; choose a new --out, or continue it with --resume " +
                    path_);
  }
}

std::string RunDir::create_log_folder() const {
  fs::create_directories(fs::path(path_) / "logs");
  return (fs::path(path_) / "logs" / "alexnet.").string();
}

void RunDir::write_config(const RunConfig& config) const {
  write_file_atomically((fs::path(path_) / "config.toml").string(), to_toml(config));
}

void RunDir::write_manifest(const RunConfig& config, const std::string& command_line,
                            const Session& session) const {
  write_file_atomically((fs::path(path_) / "manifest.json").string(),
                        manifest_json(config, command_line, session));
}

std::vector<std::string> RunDir::checkpoints() const {
  return list_checkpoints(path_);
}

std::string RunDir::latest_checkpoint() const {
  std::vector<std::string> all = checkpoints();
  return all.empty() ? "" : all.back();
}

std::string RunDir::checkpoint_path(int64_t step) const {
  char name[64];
  std::snprintf(name, sizeof name, "step-%010lld.h5", static_cast<long long>(step));
  return (fs::path(path_) / "checkpoints" / name).string();
}

void RunDir::save_checkpoint(const Net& net, const Sgd& sgd, const TrainState& state, int keep) const {
  alexnet::save_checkpoint(checkpoint_path(state.step), net, &sgd, state);
  std::vector<std::string> all = checkpoints();
  for (size_t i = 0; i + keep < all.size(); ++i) fs::remove(all[i]);
}

std::vector<std::string> list_checkpoints(const std::string& run_dir) {
  std::vector<std::string> out;
  fs::path dir = fs::path(run_dir) / "checkpoints";
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.rfind("step-", 0) == 0 && e.path().extension() == ".h5") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string manifest_json(const RunConfig& c, const std::string& command_line, const Session& s) {
  std::ostringstream o;
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  const Plan& plan = s.net->plan();
  o << "{\n  \"command_line\": " << json_quote(command_line) << ",\n  \"host\": " << json_quote(host)
    << ",\n  \"net\": " << json_quote(c.net) << ",\n  \"net_name\": " << json_quote(plan.net.name)
    << ",\n  \"placement\": " << json_quote(placement_name(plan.placement))
    << ",\n  \"towers\": " << plan.logical_towers << ",\n  \"parameters\": " << plan.parameter_count()
    << ",\n  \"data\": " << json_quote(c.data)
    << ",\n  \"data_source\": " << json_quote(s.data ? s.data->info().source : "") << ",\n  \"devices\": [";
  for (size_t i = 0; i < s.devices.size(); ++i) o << (i ? ", " : "") << json_quote(s.devices[i].str());
  o << "],\n  \"cpu_threads\": " << blas::cpu_threads() << ",\n  \"cuda_devices\": [";
  std::vector<std::string> gpus = describe_cuda_devices();
  for (size_t i = 0; i < gpus.size(); ++i) o << (i ? ", " : "") << json_quote(gpus[i]);
  o << "],\n  \"versions\": {";
  auto versions = library_versions();
  for (size_t i = 0; i < versions.size(); ++i) {
    o << (i ? ", " : "") << json_quote(versions[i].first) << ": " << json_quote(versions[i].second);
  }
  o << "}\n}\n";
  return o.str();
}

}  // namespace alexnet
