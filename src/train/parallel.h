// The parallel scheme: how one placed net is spread over the processes of a job.
//
// `--placement` chooses the net's form (the two-tower net on K devices, the same net grouped on
// one, or the dense one-column net); `--parallel` chooses how that form is spread:
//
//   split        the 2012 scheme: the K towers of the split net, in one process (one device per
//                tower) or one process per tower; they meet at the exchanges.
//   data         replicas of a one-device net (single or dense), each on its share of the global
//                batch; gradients all-reduced and averaged.
//   split+data   replicas of the split: world = replicas x K, the towers of a replica exchanging,
//                each tower's gradients all-reduced over the replicas (in one process: one
//                replica, as split).
//   hybrid       Krizhevsky's 2014 scheme over the world's K processes (workers), of the single or
//                dense form (net/plan.h): each worker runs the conv layers whole on its B items,
//                the fc layers sharded K ways on all K B items; conv gradients summed over the
//                workers. In one process: one worker (the one-device net itself).
//
// `auto` (the default) takes the scheme the placement and the world size imply: split for the
// split placement with at most K processes, split+data with more, data otherwise. A scheme that
// contradicts the placement or the world size is refused with the reason (UserError).
#pragma once

#include <string>

#include "net/plan.h"

namespace alexnet {

enum class Parallel { kAuto, kSplit, kData, kSplitData, kHybrid };

Parallel parse_parallel(const std::string& text);  // throws UserError naming the choices
const char* parallel_name(Parallel p);

// The scheme a run takes: `requested` checked against the net's form and the job, or for kAuto
// the one they imply. `towers` is K, the split net's towers; `world` the processes in the job.
Parallel resolve_parallel(Parallel requested, Placement placement, int towers, int world);

// What one step moves between processes under a scheme, on paper, per rank (or per tower when the
// towers share a process): each rank sends as many bytes as it receives in the all-gathers,
// reduce-scatters and ring all-reduces used.
struct StepTraffic {
  Parallel scheme = Parallel::kSplit;
  int world = 1, replicas = 1, towers = 1;  // the rank grid: world = replicas x towers
  int64_t global_batch = 0;
  // The exchanges' all-gathers forward and reduce-scatters backward, sent per tower.
  int64_t exchange_bytes = 0;
  // The gradient all-reduce (a ring over N ranks sends 2 (N - 1) / N of the buffer): over the
  // replicas, of the largest tower's gradients (that rank sets the pace); under hybrid over the K
  // workers, of the replicated conv parameters' gradients only. `largest_tower_floats`: that buffer.
  int64_t all_reduce_bytes = 0, largest_tower_floats = 0;
};
StepTraffic step_traffic(const Plan& plan, Parallel scheme, int world, int batch);
// Three lines for `alexnet info`: the grid, the exchanges, the all-reduce.
std::string describe(const StepTraffic& t);

}  // namespace alexnet
