#include "comm/rank_grid.h"

#include <glog/logging.h>

#include <sstream>

#include "core/errors.h"

namespace alexnet {

namespace {

std::string join(const std::vector<int>& ranks) {
  std::string out;
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ranks[i]);
  }
  return out;
}

RankGroup group_of(std::vector<int> ranks, int rank) {
  RankGroup g{std::move(ranks), 0};
  for (int i = 0; i < g.size(); ++i) {
    if (g.ranks[i] == rank) g.index = i;
  }
  CHECK_EQ(g.ranks[g.index], rank) << "rank " << rank << " is not in its own group";
  return g;
}

}  // namespace

RankGrid make_rank_grid(int world_size, int rank, int local_rank, int towers) {
  if (world_size < 1)
    throw UserError("world size " + std::to_string(world_size) + ": need at least 1 process");
  if (towers < 1) throw UserError("towers " + std::to_string(towers) + ": need at least 1 tower");
  if (world_size % towers != 0) {
    throw UserError("world size " + std::to_string(world_size) + " does not divide into replicas of " +
                    std::to_string(towers) + " towers: start a multiple of " + std::to_string(towers) +
                    " processes, one per tower");
  }
  CHECK(rank >= 0 && rank < world_size) << "rank " << rank << " of " << world_size;
  CHECK(local_rank >= 0 && local_rank < world_size) << "local rank " << local_rank << " of " << world_size;

  RankGrid g;
  g.world_size = world_size;
  g.rank = rank;
  g.local_rank = local_rank;
  g.towers = towers;
  g.replicas = world_size / towers;
  g.replica = rank / towers;
  g.tower = rank % towers;

  std::vector<int> tower_ranks, replica_ranks, world_ranks;
  for (int t = 0; t < towers; ++t) tower_ranks.push_back(g.replica * towers + t);
  for (int r = 0; r < g.replicas; ++r) replica_ranks.push_back(r * towers + g.tower);
  for (int r = 0; r < world_size; ++r) world_ranks.push_back(r);
  g.tower_group = group_of(std::move(tower_ranks), rank);
  g.replica_group = group_of(std::move(replica_ranks), rank);
  g.world_group = group_of(std::move(world_ranks), rank);
  return g;
}

std::string RankGrid::describe() const {
  std::ostringstream s;
  s << "rank " << rank << " of " << world_size << " (local rank " << local_rank << "): replica " << replica
    << " of " << replicas << ", tower " << tower << " of " << towers << "; tower group "
    << join(tower_group.ranks) << "; replica group " << join(replica_group.ranks);
  return s.str();
}

}  // namespace alexnet
