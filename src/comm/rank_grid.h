// The rank grid: how the processes of a job divide into data-parallel replicas of a K-tower net.
//
// world = replicas x towers, rank = replica * towers + tower. A replica's towers are neighbouring
// ranks, so under block placement (ranks 0..n-1 on the first node, and so on) they share a node and
// its fast links, where the exchanges at conv3/fc6/fc7/fc8 run. Three groups, each a list of member
// ranks in group-rank order:
//   tower    the K ranks of this replica: the exchanges
//   replica  the ranks holding this rank's tower in every replica: that tower's gradient all-reduce
//   world    every rank: loss, metrics, barriers, stop decisions
// For towers = 2 and world = 4:
//   rank     0  1  2  3
//   replica  0  0  1  1      tower groups   {0, 1} {2, 3}
//   tower    0  1  0  1      replica groups {0, 2} {1, 3}
// Every rank builds the same grid from the same (world size, towers), so the groups come out in
// the same order everywhere, which the communicators built on them rely on.
#pragma once

#include <string>
#include <vector>

namespace alexnet {

struct RankGroup {
  std::vector<int> ranks;  // member ranks, in group-rank order
  int index = 0;           // this rank's position in `ranks`
  int size() const { return static_cast<int>(ranks.size()); }
};

struct RankGrid {
  int world_size = 1, rank = 0, local_rank = 0;
  int towers = 1, replicas = 1;
  int tower = 0, replica = 0;  // this rank's place: rank = replica * towers + tower
  RankGroup tower_group, replica_group, world_group;

  // One line for logs and the manifest, e.g.
  // "rank 3 of 4 (local rank 1): replica 1 of 2, tower 1 of 2; tower group 2,3; replica group 1,3".
  std::string describe() const;
};

// Throws UserError when `world_size` does not divide into replicas of `towers` (naming both), or
// when either is below 1. `rank` and `local_rank` must lie in [0, world_size), as LaunchInfo
// guarantees (CHECK).
RankGrid make_rank_grid(int world_size, int rank, int local_rank, int towers);

}  // namespace alexnet
