#include "train/session.h"

#include <glog/logging.h>

#include <algorithm>
#include <sstream>

#include "core/blas.h"
#include "core/cuda_backend.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/gpu_wait.h"
#include "core/nvtx.h"
#include "core/versions.h"

namespace alexnet {

namespace {

Plan make_session_plan(const RunConfig& c, Session& s, int classes, int channels) {
  NetworkSpec spec = c.embedded_net.empty() ? load_network_file(c.net)
                                            : parse_network(c.embedded_net, c.embedded_net_origin);
  PlanOptions o;
  o.placement = parse_placement(c.placement);
  o.towers = c.towers;
  // Hybrid's workers are the job's processes (one in one process: the one-device net itself).
  if (s.parallel == Parallel::kHybrid) o.hybrid_workers = s.grid.world_size;
  if (!c.exchange.empty()) o.exchange = split_commas(c.exchange);
  s.crop = c.crop ? c.crop : spec.height;
  o.classes = classes;
  o.channels = channels;
  if (s.data) {
    const DatasetInfo& info = s.data->info();
    if (s.crop > info.height || s.crop > info.width) {
      throw UserError("crop " + std::to_string(s.crop) + " (" + (c.crop ? "--crop" : c.net + "'s input") +
                      ") is larger than the " + std::to_string(info.height) + "x" +
                      std::to_string(info.width) + " images of " + s.data->path() +
                      "; pass a smaller --crop");
    }
    o.channels = info.channels;
    o.classes = static_cast<int>(info.classes.size());
  }
  o.height = o.width = s.crop;
  return make_plan(spec, o);
}

// One process: every tower here; the replica and world groups are this process alone.
void join_alone(const RunConfig& c, const Plan& plan, Session& s) {
  s.devices = resolve_devices(c.devices, plan.towers);
  // Before anything touches CUDA (communicators, the net, the loader's pinned buffers): the
  // contexts this process creates are its own devices', and guards restore to one of them.
  use_device(s.devices[0]);
  if (plan.towers > 1) s.comm = make_communicator(c.comm, s.devices, c.nccl_multi_rank_gpu);
  s.replica = make_local_communicator({Device::cpu()});
  s.world = make_local_communicator({Device::cpu()});
}

// Many processes: this rank's tower of its replica, on its device, joined to the others.
void join_many(const RunConfig& c, const Plan& plan, const Processes& p, Session& s) {
  s.grid = make_rank_grid(p.launch.world_size, p.launch.rank, p.launch.local_rank, plan.towers);
  const Device device = rank_device(c.devices, p.launch.local_rank);
  s.devices = {device};
  use_device(device);  // as in join_alone: no context on a device this rank does not use
  // GPUs: NCCL for the towers' and replicas' tensors; CPUs: Gloo. The world group is Gloo's.
  ProcessGroups groups = device.is_cuda()
                             ? connect_gpu_groups(p.launch, s.grid, p.options, device, c.nccl_multi_rank_gpu)
                             : connect_cpu_groups(p.launch, s.grid, p.options);
  s.store = std::move(groups.store);
  if (plan.towers > 1) s.comm = std::move(groups.tower);
  s.replica = std::move(groups.replica);
  s.world = std::move(groups.world);
}

Session build(const RunConfig& c, std::shared_ptr<const DatasetReader> data, int classes, int channels,
              const Processes& p) {
  blas::set_cpu_threads(c.threads);
  set_nvtx(c.nvtx);
  set_gpu_wait_timeout(p.options.timeout);  // every host wait on the GPU ends by then
  Session s;
  s.data = std::move(data);
  s.grid.world_size = p.launch.world_size;  // the rest of the grid comes with joining; the plan needs this
  s.parallel = resolve_parallel(parse_parallel(c.parallel), parse_placement(c.placement), c.towers,
                                p.launch.world_size);
  Plan plan = make_session_plan(c, s, classes, channels);
  if (p.launch.world_size > 1) {
    join_many(c, plan, p, s);
  } else {
    join_alone(c, plan, s);
  }
  s.backend = backend_options(c);
  if (std::any_of(s.devices.begin(), s.devices.end(), [](Device d) { return d.is_cuda(); })) {
    // What ran, in the log's first lines: the libraries loaded beside those built with, the GPUs.
    for (const auto& [name, version] : library_versions())
      if (name.rfind("cu", 0) == 0 || name == "nccl") LOG(INFO) << name << ": " << version;
    for (const std::string& d : describe_cuda_devices()) LOG(INFO) << d;
  }
  s.net = std::make_unique<Net>(std::move(plan), s.devices, s.comm.get(), c.batch, s.backend);
  return s;
}

}  // namespace

Session make_session(const RunConfig& config, std::shared_ptr<const DatasetReader> data,
                     const Processes& processes) {
  return build(config, std::move(data), 0, 0, processes);
}

Session make_session(const RunConfig& config, int classes, int channels, const Processes& processes) {
  return build(config, nullptr, classes, channels, processes);
}

void on_leader(const Session& s, const std::function<void()>& work) {
  if (!s.many()) {
    work();
    return;
  }
  std::string outcome;  // empty: done; else 'U' (a UserError) or 'E', and the message
  if (s.leader()) {
    try {
      work();
    } catch (const UserError& e) {
      outcome = std::string("U") + e.what();
    } catch (const std::exception& e) {
      outcome = std::string("E") + e.what();
    }
  }
  s.world->broadcast_host(0, outcome);
  if (outcome.empty()) return;
  if (outcome[0] == 'U') throw UserError(outcome.substr(1));
  throw std::runtime_error(outcome.substr(1));
}

void from_leader(const Session& s, std::string& bytes) {
  if (s.many()) s.world->broadcast_host(0, bytes);
}

namespace {

// "" when `mine` is `leaders`, else their first differing line, as each has it.
std::string first_difference(const std::string& leaders, const std::string& mine) {
  std::istringstream a(leaders), b(mine);
  for (std::string x, y;;) {
    const bool more_a = static_cast<bool>(std::getline(a, x)), more_b = static_cast<bool>(std::getline(b, y));
    if (!more_a && !more_b) return "";
    if (more_a && more_b && x == y) continue;
    return "rank 0 has '" + (more_a ? x : std::string("(nothing)")) + "', it has '" +
           (more_b ? y : std::string("(nothing)")) + "'";
  }
}

}  // namespace

void agree_on_configuration(const Session& s, const std::string& toml) {
  if (!s.many()) return;
  std::string leaders = toml;
  s.world->broadcast_host(0, leaders);
  const std::vector<std::string> differences = s.world->all_gather_host(first_difference(leaders, toml));
  for (size_t rank = 0; rank < differences.size(); ++rank) {
    if (differences[rank].empty()) continue;
    throw UserError("rank " + std::to_string(rank) +
                    "'s configuration differs from rank 0's: " + differences[rank] +
                    " (every rank needs the same flags and, with --resume or a run directory, the same "
                    "RUN/config.toml)");
  }
}

Device rank_device(const std::string& text, int local_rank) {
  if (text == "cpu") return Device::cpu();
  const int gpus = cuda_device_count();
  if (text == "auto") return gpus == 0 ? Device::cpu() : Device::cuda(local_rank % gpus);
  if (text == "cuda") {
    if (!cuda_built()) throw no_cuda_backend("--devices cuda");
    if (local_rank >= gpus) {
      throw UserError("--devices cuda: local rank " + std::to_string(local_rank) +
                      " has no GPU of its own (" + std::to_string(gpus) +
                      " visible; CUDA_VISIBLE_DEVICES chooses which)");
    }
    return Device::cuda(local_rank);
  }
  std::vector<std::string> items;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) items.push_back(item);
  if (local_rank >= static_cast<int>(items.size())) {
    throw UserError("--devices " + text + ": " + std::to_string(items.size()) +
                    " device(s) listed, none for local rank " + std::to_string(local_rank) +
                    " (the list is indexed by local rank)");
  }
  return resolve_devices(items[local_rank], 1)[0];
}

}  // namespace alexnet
