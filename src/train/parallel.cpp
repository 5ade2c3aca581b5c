#include "train/parallel.h"

#include <algorithm>
#include <cstdio>

#include "core/errors.h"
#include "net/param_layout.h"

namespace alexnet {

Parallel parse_parallel(const std::string& text) {
  if (text == "auto") return Parallel::kAuto;
  if (text == "split") return Parallel::kSplit;
  if (text == "data") return Parallel::kData;
  if (text == "split+data") return Parallel::kSplitData;
  if (text == "hybrid") return Parallel::kHybrid;
  throw UserError("--parallel: '" + text + "' is not one of auto, split, data, split+data, hybrid");
}

const char* parallel_name(Parallel p) {
  switch (p) {
    case Parallel::kAuto:
      return "auto";
    case Parallel::kSplit:
      return "split";
    case Parallel::kData:
      return "data";
    case Parallel::kSplitData:
      return "split+data";
    case Parallel::kHybrid:
      return "hybrid";
  }
  return "?";
}

Parallel resolve_parallel(Parallel requested, Placement placement, int towers, int world) {
  const bool split_net = placement == Placement::kSplit;
  const std::string p = placement_name(placement), k = std::to_string(towers), n = std::to_string(world);
  if (requested == Parallel::kAuto) {
    if (!split_net) return Parallel::kData;
    return world > towers ? Parallel::kSplitData : Parallel::kSplit;
  }
  const std::string scheme = std::string("--parallel ") + parallel_name(requested);
  switch (requested) {
    case Parallel::kSplit:
      if (!split_net) {
        throw UserError(
            scheme + " spreads the towers of the split net, but --placement " + p +
            " runs the net on one device: use --placement split, or --parallel data for replicas");
      }
      if (world != 1 && world != towers) {
        throw UserError(scheme + " runs the " + k +
                        " towers in one process or one process each, but the job has " + n + " processes: " +
                        (world % towers == 0 ? "replicas of the split are --parallel split+data"
                                             : "start 1 or " + k + " processes"));
      }
      return requested;
    case Parallel::kData:
      if (split_net) {
        throw UserError(scheme + " replicates a one-device net, but --placement split spreads its " + k +
                        " towers over devices: use --placement single (the same net, grouped) or dense, or "
                        "--parallel split+data for replicas of the split");
      }
      return requested;
    case Parallel::kSplitData:
      if (!split_net) {
        throw UserError(scheme + " replicates the split net, but --placement " + p +
                        " has no towers to split: use --placement split, or --parallel data");
      }
      if (world != 1 && world % towers != 0) {
        throw UserError(scheme + ": the job's " + n + " processes do not divide into replicas of " + k +
                        " towers: start a multiple of " + k);
      }
      return requested;
    case Parallel::kHybrid:
      if (split_net) {
        throw UserError(
            scheme + " runs each worker's convolutional layers whole, but --placement split " +
            "spreads them over towers: use --placement dense (the 2014 paper's one-column net) or " +
            "single (the two-tower net, grouped)");
      }
      return requested;
    case Parallel::kAuto:
      break;
  }
  return requested;
}

StepTraffic step_traffic(const Plan& plan, Parallel scheme, int world, int batch) {
  StepTraffic t;
  t.scheme = scheme;
  t.world = world;
  t.towers = plan.towers;
  t.replicas = world > plan.towers ? world / plan.towers : 1;
  const bool hybrid = scheme == Parallel::kHybrid;
  t.global_batch = int64_t(batch) * t.replicas;
  int64_t exchanged_per_item = 0;  // received over all towers, forward
  for (const PlanNode& node : plan.nodes) exchanged_per_item += node.exchange_bytes_per_item;
  t.exchange_bytes = 2 * exchanged_per_item * batch / plan.towers;
  const ParamLayout layout(plan);
  for (int tower = 0; tower < layout.towers(); ++tower)
    t.largest_tower_floats = std::max(t.largest_tower_floats, layout.flat_size(tower));
  if (hybrid) {  // the workers' batches make the global one; the conv gradients are summed over them
    t.global_batch = int64_t(batch) * plan.towers;
    t.largest_tower_floats = 0;
    for (const LogicalParam& p : plan.params)
      if (p.replicated) t.largest_tower_floats += p.shape.numel();
  }
  const int ring = hybrid ? plan.towers : t.replicas;
  if (ring > 1) t.all_reduce_bytes = 2 * (ring - 1) * t.largest_tower_floats * int64_t(sizeof(float)) / ring;
  return t;
}

std::string describe(const StepTraffic& t) {
  char line[512];
  std::string out;
  std::snprintf(line, sizeof line, "--parallel %s on %d process%s: %d replica%s x %d %s, global batch %lld\n",
                parallel_name(t.scheme), t.world, t.world == 1 ? "" : "es", t.replicas,
                t.replicas == 1 ? "" : "s", t.towers,
                t.scheme == Parallel::kHybrid ? (t.towers == 1 ? "worker" : "workers")
                                              : (t.towers == 1 ? "tower" : "towers"),
                static_cast<long long>(t.global_batch));
  out += line;
  std::snprintf(
      line, sizeof line,
      "  exchanges: %.1f MB sent per tower per step (all-gathers forward, reduce-scatters backward)\n",
      static_cast<double>(t.exchange_bytes) / 1e6);
  out += line;
  std::snprintf(line, sizeof line,
                "  gradient all-reduce: %.1f MB sent per rank per step (ring, 2(N-1)/N of %s%.2f M floats)\n",
                static_cast<double>(t.all_reduce_bytes) / 1e6,
                t.scheme == Parallel::kHybrid ? "the conv layers' " : "the largest tower's ",
                static_cast<double>(t.largest_tower_floats) / 1e6);
  out += line;
  return out;
}

}  // namespace alexnet
