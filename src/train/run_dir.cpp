#include "train/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "core/atomic_file.h"
#include "core/blas.h"
#include "core/crash_point.h"
#include "core/errors.h"
#include "core/text_format.h"
#include "core/versions.h"
#include "train/session.h"

namespace fs = std::filesystem;

namespace alexnet {

// --- continuing a run ---------------------------------------------------------------------------

bool continuation_may_change(const std::string& key) {
  static const char* const kSafe[] = {"max-steps",        "epochs",    "checkpoint-every",
                                      "keep-checkpoints", "log-every", "progress",
                                      "profile-every",    "nvtx",      "out"};
  return std::find(std::begin(kSafe), std::end(kSafe), key) != std::end(kSafe);
}

namespace {
// "key = value" lines of a config.toml, in order; the key of a line, or "" for one that has none.
std::string key_of(const std::string& line) {
  const size_t eq = line.find(" = ");
  return eq == std::string::npos ? "" : line.substr(0, eq);
}
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') out.push_back(line);
  return out;
}
}  // namespace

Continuation RunDir::decide(const std::string& toml) const {
  Continuation c;
  if (!fs::exists(path_)) return c;
  if (fs::is_directory(path_)) {  // empty, or holding only our .lock (a job that died before writing)
    bool only_lock = true;
    for (const auto& e : fs::directory_iterator(path_)) only_lock &= e.path().filename() == ".lock";
    if (only_lock) return c;
  }
  const fs::path config = fs::path(path_) / "config.toml";
  if (!fs::is_directory(path_) || !fs::exists(config)) {
    throw UserError(path_ +
                    ": exists, is not empty and is not a run directory (it has no config.toml); choose a "
                    "new --out");
  }
  std::ifstream in(config, std::ios::binary);
  const std::string there((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Line by line, by key: the file's and the command's resolved configuration.
  std::vector<std::string> old_lines = lines_of(there), new_lines = lines_of(toml);
  std::map<std::string, std::string> old_by_key, new_by_key;
  for (const std::string& l : old_lines) old_by_key[key_of(l)] = l;
  for (const std::string& l : new_lines) new_by_key[key_of(l)] = l;
  std::vector<std::string> keys;
  for (const std::string& l : new_lines) keys.push_back(key_of(l));
  for (const std::string& l : old_lines)
    if (!new_by_key.count(key_of(l))) keys.push_back(key_of(l));
  for (const std::string& key : keys) {
    const auto o = old_by_key.find(key), n = new_by_key.find(key);
    const std::string was = o == old_by_key.end() ? "(nothing)" : o->second;
    const std::string now = n == new_by_key.end() ? "(nothing)" : n->second;
    if (was == now) continue;
    if (continuation_may_change(key)) {
      if (key != "out") c.changes.push_back(was + "  ->  " + now);
      continue;
    }
    throw UserError(path_ + " is a run of another configuration: its config.toml has '" + was +
                    "', this command '" + now +
                    "'; continue it with its own flags (or alexnet train --resume " + path_ +
                    ", which takes its config.toml), or choose a new --out");
  }
  c.kind = list_checkpoints(path_).empty() ? Continuation::kRestart : Continuation::kContinue;
  return c;
}

struct RunDir::Lock {
  int fd = -1;
  ~Lock() {
    if (fd >= 0) close(fd);  // releases the flock
  }
};

void RunDir::lock() {
  if (lock_) return;
  fs::create_directories(path_);
  const std::string file = (fs::path(path_) / ".lock").string();
  auto held = std::make_shared<Lock>();
  held->fd = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (held->fd < 0) throw UserError(file + ": cannot be opened (" + std::strerror(errno) + ")");
  if (flock(held->fd, LOCK_EX | LOCK_NB) != 0) {
    char who[256] = "";
    const ssize_t n = pread(held->fd, who, sizeof who - 1, 0);
    std::string holder = n > 0 ? std::string(who, static_cast<size_t>(n)) : "unknown";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    throw UserError(path_ + " is in use by another job (" + holder +
                    " holds its .lock); two jobs cannot train into one run directory at once");
  }
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  const std::string me = "pid " + std::to_string(getpid()) + " on " + host + "\n";
  if (ftruncate(held->fd, 0) != 0 || pwrite(held->fd, me.data(), me.size(), 0) < 0) {
    // The lock holds without its note; the note only names the holder to a second job.
  }
  lock_ = std::move(held);
}

std::string RunDir::create_log_folder(int rank) const {
  fs::path folder = fs::path(path_) / "logs";
  if (rank >= 0) folder /= "rank-" + std::to_string(rank);
  fs::create_directories(folder);
  return (folder / "alexnet.").string();
}

void RunDir::write_config(const RunConfig& config) const {
  write_file_atomically((fs::path(path_) / "config.toml").string(), to_toml(config));
}

void RunDir::copy_config(const RunConfig& config) const {
  const std::string path = (fs::path(path_) / "config.toml").string(), text = to_toml(config);
  std::ifstream in(path, std::ios::binary);
  const std::string there((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.is_open() || there != text) write_file_atomically(path, text);
}

void RunDir::write_manifest(const RunConfig& config, const Session& session,
                            const ManifestFacts& facts) const {
  write_file_atomically((fs::path(path_) / "manifest.json").string(), manifest_json(config, session, facts));
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

namespace {
// Renames a damaged checkpoint out of the list (and out of rotation), keeping it to look at.
std::string set_aside(const std::string& path) {
  const std::string aside = path + ".damaged";
  std::error_code ignored;
  fs::rename(path, aside, ignored);
  return aside;
}
}  // namespace

void RunDir::save_checkpoint(const Net& net, const Sgd& sgd, const TrainState& state, int keep) const {
  save_checkpoint(net, collect_checkpoint(net, &sgd), state, keep);
}

void RunDir::save_checkpoint(const Net& net, const CheckpointTensors& tensors, const TrainState& state,
                             int keep, const std::string& config_toml) const {
  const std::string path = checkpoint_path(state.step);
  alexnet::save_checkpoint(path, net, tensors, state, config_toml);
  crash_point("checkpoint-written");
  // Read it back before older checkpoints go: rotation must never leave only a bad one.
  try {
    verify_checkpoint(path, net, true);
  } catch (const UserError& e) {
    const std::string aside = set_aside(path);
    throw std::runtime_error(std::string("the checkpoint just written does not read back intact: ") +
                             e.what() + "; set aside as " + aside + ", the earlier checkpoints are kept");
  }
  std::vector<std::string> all = checkpoints();
  for (size_t i = 0; i + keep < all.size(); ++i) fs::remove(all[i]);
}

RunDir::Resumed RunDir::load_latest_intact(Net& net, Sgd& sgd,
                                           const std::function<void(const std::string&)>& warn) const {
  return load_latest_intact([&](const std::string& path) { return load_checkpoint(path, net, &sgd); }, warn);
}

RunDir::Resumed RunDir::load_latest_intact(const std::function<TrainState(const std::string&)>& load,
                                           const std::function<void(const std::string&)>& warn) const {
  const fs::path folder = fs::path(path_) / "checkpoints";
  if (fs::is_directory(folder)) {
    for (const auto& e : fs::directory_iterator(folder))
      if (e.path().extension() == ".partial") fs::remove(e.path());
  }
  const std::vector<std::string> all = checkpoints();
  if (all.empty()) throw UserError(path_ + ": holds no checkpoint to resume from");
  std::string failures;
  for (size_t i = all.size(); i-- > 0;) {
    try {
      Resumed r{all[i], load(all[i])};
      for (size_t j = i + 1; j < all.size(); ++j) warn(all[j] + " set aside as " + set_aside(all[j]));
      return r;
    } catch (const UserError& e) {
      warn(std::string(e.what()) + (i > 0 ? "; falling back to the previous checkpoint" : ""));
      failures += std::string("\n  ") + e.what();
    }
  }
  throw UserError(path_ + ": no intact checkpoint to resume from; tried, newest first:" + failures);
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

namespace {
std::string host_name() {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  return host;
}
}  // namespace

std::string rank_place(const Session& s) {
  std::string place = host_name();
  for (size_t i = 0; i < s.devices.size(); ++i) place += (i ? "," : " ") + s.devices[i].str();
  return place;
}

std::string manifest_json(const RunConfig& c, const Session& s, const ManifestFacts& facts) {
  const std::vector<std::string>& places = facts.places;
  std::ostringstream o;
  const std::string host = host_name();
  const Plan& plan = s.net->plan();
  o << "{\n  \"command_line\": " << json_quote(facts.command_line)
    << ",\n  \"started_at_step\": " << facts.started_at_step << ",\n  \"host\": " << json_quote(host)
    << ",\n  \"net\": " << json_quote(c.net) << ",\n  \"net_name\": " << json_quote(plan.net.name)
    << ",\n  \"placement\": " << json_quote(placement_name(plan.placement))
    << ",\n  \"parallel\": " << json_quote(parallel_name(s.parallel))
    << ",\n  \"towers\": " << plan.logical_towers << ",\n  \"parameters\": " << plan.parameter_count()
    << ",\n  \"data\": " << json_quote(c.data)
    << ",\n  \"data_source\": " << json_quote(s.data ? s.data->info().source : "") << ",\n  \"devices\": [";
  for (size_t i = 0; i < s.devices.size(); ++i) o << (i ? ", " : "") << json_quote(s.devices[i].str());
  o << "],\n  \"processes\": {\"world\": " << s.grid.world_size << ", \"replicas\": " << s.grid.replicas
    << ", \"towers\": " << s.grid.towers << ", \"global_batch\": " << int64_t(c.batch) * s.shards()
    << ", \"ranks\": [";
  for (size_t r = 0; r < places.size(); ++r) {
    const size_t space = places[r].find(' ');
    o << (r ? ", " : "") << "{\"rank\": " << r << ", \"host\": " << json_quote(places[r].substr(0, space))
      << ", \"devices\": " << json_quote(space == std::string::npos ? "" : places[r].substr(space + 1))
      << "}";
  }
  o << "]},\n  \"cpu_threads\": " << blas::cpu_threads() << ",\n  \"cuda_devices\": [";
  std::vector<std::string> gpus = describe_cuda_devices();
  for (size_t i = 0; i < gpus.size(); ++i) o << (i ? ", " : "") << json_quote(gpus[i]);
  o << "],\n  \"versions\": {";
  auto versions = library_versions();
  for (size_t i = 0; i < versions.size(); ++i) {
    o << (i ? ", " : "") << json_quote(versions[i].first) << ": " << json_quote(versions[i].second);
  }
  o << "},\n  \"algorithms\": [";
  bool any = false;
  for (const std::string& rank_choices : facts.algorithms) {  // a rank's objects, joined; "" for none
    if (rank_choices.empty()) continue;
    o << (any ? ",\n    " : "\n    ") << rank_choices;
    any = true;
  }
  o << (any ? "\n  ]" : "]") << "\n}\n";
  return o.str();
}

}  // namespace alexnet
