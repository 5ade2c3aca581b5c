#include <gtest/gtest.h>

#include "comm/rank_grid.h"
#include "core/errors.h"

namespace alexnet {
namespace {

using Ranks = std::vector<int>;

// The layout issue 15 fixes: rank = replica * towers + tower, a replica's towers neighbours.
TEST(RankGrid, TwoReplicasOfTwoTowers) {
  const int towers = 2, world = 4;
  const int replica_of[] = {0, 0, 1, 1}, tower_of[] = {0, 1, 0, 1};
  const Ranks tower_groups[] = {{0, 1}, {0, 1}, {2, 3}, {2, 3}};
  const Ranks replica_groups[] = {{0, 2}, {1, 3}, {0, 2}, {1, 3}};
  for (int rank = 0; rank < world; ++rank) {
    SCOPED_TRACE("rank " + std::to_string(rank));
    RankGrid g = make_rank_grid(world, rank, rank, towers);
    EXPECT_EQ(g.replicas, 2);
    EXPECT_EQ(g.replica, replica_of[rank]);
    EXPECT_EQ(g.tower, tower_of[rank]);
    EXPECT_EQ(g.tower_group.ranks, tower_groups[rank]);
    EXPECT_EQ(g.replica_group.ranks, replica_groups[rank]);
    EXPECT_EQ(g.world_group.ranks, (Ranks{0, 1, 2, 3}));
    // Within its tower group a rank's index is its tower; within its replica group, its replica.
    EXPECT_EQ(g.tower_group.index, g.tower);
    EXPECT_EQ(g.replica_group.index, g.replica);
    EXPECT_EQ(g.world_group.index, rank);
  }
  EXPECT_EQ(make_rank_grid(4, 3, 1, 2).describe(),
            "rank 3 of 4 (local rank 1): replica 1 of 2, tower 1 of 2; tower group 2,3; replica group 1,3");
}

// `single` and `dense`: one tower, so every rank is a replica and the tower group is itself.
TEST(RankGrid, OneTowerIsPureDataParallel) {
  RankGrid g = make_rank_grid(3, 2, 0, 1);
  EXPECT_EQ(g.replicas, 3);
  EXPECT_EQ(g.replica, 2);
  EXPECT_EQ(g.tower, 0);
  EXPECT_EQ(g.tower_group.ranks, (Ranks{2}));
  EXPECT_EQ(g.replica_group.ranks, (Ranks{0, 1, 2}));
  EXPECT_EQ(g.replica_group.index, 2);
}

TEST(RankGrid, OneProcessHoldsTheWholeGrid) {
  RankGrid g = make_rank_grid(1, 0, 0, 1);
  EXPECT_EQ(g.replicas, 1);
  EXPECT_EQ(g.tower_group.ranks, (Ranks{0}));
  EXPECT_EQ(g.replica_group.ranks, (Ranks{0}));
  EXPECT_EQ(g.world_group.ranks, (Ranks{0}));
}

// Four towers in two replicas: the groups are the rows and columns of a 2 x 4 grid.
TEST(RankGrid, FourTowersTwoReplicas) {
  RankGrid g = make_rank_grid(8, 6, 2, 4);
  EXPECT_EQ(g.replica, 1);
  EXPECT_EQ(g.tower, 2);
  EXPECT_EQ(g.tower_group.ranks, (Ranks{4, 5, 6, 7}));
  EXPECT_EQ(g.replica_group.ranks, (Ranks{2, 6}));
}

std::string error_of(int world, int towers) {
  try {
    make_rank_grid(world, 0, 0, towers);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(RankGrid, RefusesSizesThatDoNotFit) {
  EXPECT_EQ(error_of(3, 2),
            "world size 3 does not divide into replicas of 2 towers: start a multiple of 2 processes, one "
            "per tower");
  EXPECT_NE(error_of(2, 4).find("world size 2 does not divide into replicas of 4 towers"), std::string::npos);
  EXPECT_NE(error_of(0, 1).find("world size 0"), std::string::npos);
  EXPECT_NE(error_of(2, 0).find("towers 0"), std::string::npos);
}

}  // namespace
}  // namespace alexnet
