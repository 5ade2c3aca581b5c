#include <gtest/gtest.h>

#include "core/errors.h"
#include "net/network_file.h"
#include "net/param_layout.h"
#include "testing.h"
#include "train/parallel.h"

namespace alexnet {
namespace {

std::string refusal(Parallel p, Placement placement, int towers, int world) {
  try {
    resolve_parallel(p, placement, towers, world);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(Parallel, AutoTakesTheSchemeThePlacementAndWorldImply) {
  EXPECT_EQ(resolve_parallel(Parallel::kAuto, Placement::kSplit, 2, 1), Parallel::kSplit);
  EXPECT_EQ(resolve_parallel(Parallel::kAuto, Placement::kSplit, 2, 2), Parallel::kSplit);
  EXPECT_EQ(resolve_parallel(Parallel::kAuto, Placement::kSplit, 2, 4), Parallel::kSplitData);
  EXPECT_EQ(resolve_parallel(Parallel::kAuto, Placement::kSingle, 2, 1), Parallel::kData);
  EXPECT_EQ(resolve_parallel(Parallel::kAuto, Placement::kDense, 1, 3), Parallel::kData);
}

TEST(Parallel, ASchemeThatContradictsTheNetOrTheJobIsRefusedWithItsReason) {
  EXPECT_EQ(resolve_parallel(Parallel::kSplit, Placement::kSplit, 2, 2), Parallel::kSplit);
  EXPECT_EQ(resolve_parallel(Parallel::kSplitData, Placement::kSplit, 2, 1), Parallel::kSplitData);
  EXPECT_EQ(resolve_parallel(Parallel::kSplitData, Placement::kSplit, 2, 6), Parallel::kSplitData);
  EXPECT_EQ(resolve_parallel(Parallel::kData, Placement::kSingle, 2, 4), Parallel::kData);
  EXPECT_NE(
      refusal(Parallel::kSplit, Placement::kDense, 2, 2).find("--placement dense runs the net on one device"),
      std::string::npos);
  EXPECT_NE(refusal(Parallel::kSplit, Placement::kSplit, 2, 4)
                .find("replicas of the split are --parallel split+data"),
            std::string::npos);
  EXPECT_NE(refusal(Parallel::kSplit, Placement::kSplit, 2, 3).find("start 1 or 2 processes"),
            std::string::npos);
  EXPECT_NE(refusal(Parallel::kData, Placement::kSplit, 2, 2).find("use --placement single"),
            std::string::npos);
  EXPECT_NE(refusal(Parallel::kSplitData, Placement::kSingle, 2, 4).find("has no towers to split"),
            std::string::npos);
  EXPECT_NE(refusal(Parallel::kSplitData, Placement::kSplit, 2, 3).find("start a multiple of 2"),
            std::string::npos);
  try {
    parse_parallel("model");
    FAIL() << "no scheme 'model'";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("'model' is not one of auto, split, data, split+data"),
              std::string::npos);
  }
}

// The bytes per step of docs/design.md's "Bytes per step on paper", from the plan: the paper's
// net on 2 towers, batch 128 per replica.
TEST(Parallel, StepTrafficOfThePaperNet) {
  PlanOptions o;
  const Plan plan = make_plan(load_network_file(testing::experiment_file("alexnet")), o);
  const StepTraffic one = step_traffic(plan, Parallel::kSplit, 2, 128);
  EXPECT_EQ(one.replicas, 1);
  EXPECT_EQ(one.exchange_bytes, 2 * 242688 * 128 / 2);  // 31.1 MB: 242,688 B per image, both ways
  EXPECT_EQ(one.all_reduce_bytes, 0);
  const ParamLayout layout(plan);
  EXPECT_EQ(one.largest_tower_floats, std::max(layout.flat_size(0), layout.flat_size(1)));
  EXPECT_NEAR(static_cast<double>(one.largest_tower_floats) / 1e6, 32.53, 0.005);  // tower 0 holds fc8
  const StepTraffic four = step_traffic(plan, Parallel::kSplitData, 8, 128);
  EXPECT_EQ(four.replicas, 4);
  EXPECT_EQ(four.global_batch, 512);
  EXPECT_EQ(four.exchange_bytes, one.exchange_bytes);                          // whatever the replicas
  EXPECT_NEAR(static_cast<double>(four.all_reduce_bytes) / 1e6, 195.2, 0.05);  // 2 (4 - 1) / 4 of it
  EXPECT_NE(
      describe(four).find("--parallel split+data on 8 processes: 4 replicas x 2 towers, global batch 512"),
      std::string::npos)
      << describe(four);
}

}  // namespace
}  // namespace alexnet
