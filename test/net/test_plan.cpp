// Placement of the paper's network: parameter and MAC counts, per-tower shapes, where exchanges
// go, and shape errors in network files.
#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.h"
#include "net/plan.h"
#include "testing.h"

namespace alexnet {
namespace {

NetworkSpec preset(const char* name) {
  return load_network_file(testing::experiment_file(name));
}

Plan placed(const char* name, Placement p, std::optional<std::vector<std::string>> exchange = std::nullopt) {
  PlanOptions o;
  o.placement = p;
  o.exchange = exchange;
  return make_plan(preset(name), o);
}

std::vector<std::string> exchanges(const Plan& plan) {
  std::vector<std::string> names;
  for (const PlanNode& n : plan.nodes)
    if (n.kind == PlanNode::Kind::kExchange) names.push_back(n.name);
  return names;
}

TEST(Plan, PaperCountsUnderEveryPlacement) {
  for (Placement p : {Placement::kSplit, Placement::kSingle}) {
    Plan plan = placed("alexnet", p);
    EXPECT_EQ(plan.parameter_count(), 60965224) << placement_name(p);
    EXPECT_NEAR(plan.macs_per_item() / 1e6, 724.4, 724.4 * 0.005) << placement_name(p);
  }
  EXPECT_EQ(placed("alexnet", Placement::kDense).parameter_count(), 62378344);
  EXPECT_EQ(placed("alexnet-dense", Placement::kSplit).parameter_count(), 62378344);
  EXPECT_EQ(placed("alexnet-dense", Placement::kSingle).parameter_count(), 62378344);
}

TEST(Plan, LogicalShapesAreThePapers) {
  Plan plan = placed("alexnet", Placement::kSplit);
  auto shape = [&](const std::string& name) {
    for (const LogicalParam& p : plan.params)
      if (p.name == name) return p.shape;
    return Shape{};
  };
  EXPECT_EQ(shape("conv1.weight"), (Shape{96, 3, 11, 11}));
  EXPECT_EQ(shape("conv2.weight"), (Shape{256, 48, 5, 5}));
  EXPECT_EQ(shape("conv3.weight"), (Shape{384, 256, 3, 3}));
  EXPECT_EQ(shape("conv4.weight"), (Shape{384, 192, 3, 3}));
  EXPECT_EQ(shape("fc6.weight"), (Shape{4096, 9216}));
  EXPECT_EQ(shape("fc8.weight"), (Shape{1000, 4096}));
  EXPECT_EQ(plan.params.size(), 16u);
}

TEST(Plan, SplitInsertsExchangesWhereLayersReadAllMaps) {
  Plan plan = placed("alexnet", Placement::kSplit);
  EXPECT_EQ(exchanges(plan),
            (std::vector<std::string>{"exchange.conv3", "exchange.fc6", "exchange.fc7", "exchange.fc8"}));
  EXPECT_TRUE(exchanges(placed("alexnet", Placement::kSingle)).empty());
  // conv2 on tower 1: 48 of the 96 maps in, 128 of the 256 out; fc8 only on tower 0.
  for (const PlanNode& n : plan.nodes) {
    if (n.name == "conv2") {
      EXPECT_EQ(n.tower[1].in, (Shape{48, 27, 27}));
      EXPECT_EQ(n.tower[1].out, (Shape{128, 27, 27}));
    }
    if (n.name == "fc8") {
      EXPECT_TRUE(n.tower[0].active);
      EXPECT_FALSE(n.tower[1].active);
    }
    if (n.name == "exchange.conv3") EXPECT_EQ(n.exchange_bytes_per_item, 2 * 128 * 13 * 13 * 4);
  }
}

TEST(Plan, SingleTurnsOwnTowerReadsIntoGroups) {
  Plan plan = placed("alexnet", Placement::kSingle);
  for (const PlanNode& n : plan.nodes) {
    if (n.name == "conv2" || n.name == "conv4" || n.name == "conv5")
      EXPECT_EQ(n.tower[0].as<ConvConfig>().groups, 2) << n.name;
    if (n.name == "conv1" || n.name == "conv3") EXPECT_EQ(n.tower[0].as<ConvConfig>().groups, 1) << n.name;
    if (n.name == "norm1") EXPECT_EQ(n.tower[0].as<LrnConfig>().groups, 2);
  }
  for (const PlanNode& n : placed("alexnet", Placement::kDense).nodes) {
    if (n.name == "conv2") EXPECT_EQ(n.tower[0].as<ConvConfig>().groups, 1);
    if (n.name == "norm1") EXPECT_EQ(n.tower[0].as<LrnConfig>().groups, 1);
  }
}

TEST(Plan, ExchangePointsAreChosenPerRun) {
  Plan every = placed("alexnet", Placement::kSplit,
                      std::vector<std::string>{"conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"});
  EXPECT_EQ(exchanges(every).size(), 7u);
  Plan fewer = placed("alexnet", Placement::kSplit, std::vector<std::string>{"fc6", "fc7", "fc8"});
  EXPECT_EQ(exchanges(fewer), (std::vector<std::string>{"exchange.fc6", "exchange.fc7", "exchange.fc8"}));
  for (const LogicalParam& p : fewer.params)
    if (p.name == "conv3.weight") EXPECT_EQ(p.shape, (Shape{384, 128, 3, 3}));
  EXPECT_THROW(placed("alexnet", Placement::kSplit, std::vector<std::string>{"conv9"}), UserError);
}

TEST(Plan, ClassesAndInputComeFromTheData) {
  PlanOptions o;
  o.classes = 10;
  Plan plan = make_plan(preset("alexnet"), o);
  EXPECT_EQ(plan.parameter_count(), 60965224 - 4096 * 990 - 990);
}

TEST(Plan, AShapeMismatchNamesTheLayer) {
  PlanOptions o;
  o.height = o.width = 32;  // conv1 fits, but pool5 would have nothing left
  try {
    make_plan(preset("alexnet"), o);
    ADD_FAILURE() << "a 32x32 input was accepted by the full net";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("alexnet.toml:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("does not fit its input"), std::string::npos) << e.what();
  }
}

TEST(Plan, AShapeMismatchInTheFileNamesFileAndLine) {
  NetworkSpec net = parse_network(
      "[net]\nname = \"t\"\ninput = [1, 8, 8]\nclasses = 4\n\n"
      "[[layers]]\nname = \"conv1\"\ntype = \"conv\"\nout = 4\nkernel = 11\n\n"
      "[[layers]]\nname = \"fc\"\ntype = \"fc\"\nout = 4\nsplit = false\nreads = \"all\"\n\n"
      "[[layers]]\nname = \"loss\"\ntype = \"softmax_loss\"\n",
      "small.toml");
  try {
    make_plan(net, PlanOptions{});
    ADD_FAILURE() << "an 11x11 kernel on an 8x8 input was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "small.toml:6: layer 'conv1': kernel 11 with pad 0 does not fit its input [1, 8, 8]"),
              std::string::npos)
        << e.what();
  }
  // fc's out disagreeing with the class count is caught at the loss.
  NetworkSpec wrong = parse_network(
      "[net]\nname = \"t\"\ninput = [1, 8, 8]\nclasses = 4\n\n"
      "[[layers]]\nname = \"fc\"\ntype = \"fc\"\nout = 5\nsplit = false\nreads = \"all\"\n\n"
      "[[layers]]\nname = \"loss\"\ntype = \"softmax_loss\"\n",
      "wrong.toml");
  EXPECT_THROW(make_plan(wrong, PlanOptions{}), UserError);
}

TEST(Plan, MiniPresetKeepsTheTopology) {
  Plan plan = placed("alexnet-mini", Placement::kSplit);
  EXPECT_EQ(exchanges(plan),
            (std::vector<std::string>{"exchange.conv3", "exchange.fc6", "exchange.fc7", "exchange.fc8"}));
  PlanOptions cifar;
  cifar.channels = 3;
  cifar.height = cifar.width = 32;
  EXPECT_NO_THROW(make_plan(preset("alexnet-mini"), cifar));
}

TEST(Plan, FourTowersShareTheMiniNet) {
  PlanOptions o;
  o.towers = 4;
  Plan split = make_plan(preset("alexnet-mini"), o);
  EXPECT_EQ(split.towers, 4);
  o.placement = Placement::kSingle;
  Plan single = make_plan(preset("alexnet-mini"), o);
  EXPECT_EQ(single.towers, 1);
  EXPECT_EQ(split.parameter_count(), single.parameter_count());
  for (size_t i = 0; i < split.nodes.size(); ++i) {
    const PlanNode& n = split.nodes[i];
    if (n.name == "conv2") {
      for (int t = 0; t < 4; ++t) EXPECT_EQ(n.tower[t].in[0], 8) << t;  // conv1's 32 maps, a quarter each
      for (int t = 0; t < 4; ++t) EXPECT_EQ(n.tower[t].out[0], 16) << t;
    }
    if (n.name == "fc8") {
      EXPECT_TRUE(n.tower[0].active);
      for (int t = 1; t < 4; ++t) EXPECT_FALSE(n.tower[t].active) << t;
    }
  }
  for (const PlanNode& n : single.nodes)
    if (n.name == "conv2") EXPECT_EQ(n.tower[0].as<ConvConfig>().groups, 4);
  // conv2's logical weight reads a quarter of conv1's maps: [64, 8, 5, 5].
  for (const LogicalParam& p : split.params)
    if (p.name == "conv2.weight") EXPECT_EQ(p.shape, (Shape{64, 8, 5, 5}));
}

TEST(Plan, TowersThatDoNotDivideAnOwnTowerReadAreRefused) {
  PlanOptions o;
  o.towers = 3;
  try {
    make_plan(preset("alexnet-mini"), o);
    ADD_FAILURE() << "three towers over 32 maps were accepted for conv2";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 'conv2': it reads its own tower's maps, but its input's 32 "
                                         "channels do not divide among 3 towers"),
              std::string::npos)
        << e.what();
  }
}

TEST(Plan, HeInitialisationFollowsThePlacedFanIn) {
  const std::string text = R"(
[net]
name = "he"
input = [4, 8, 8]
classes = 2
[[layers]]
name = "conv1"
type = "conv"
out = 4
kernel = 3
reads = "all"
weight_init = "he"
[[layers]]
name = "conv2"
type = "conv"
out = 4
kernel = 3
weight_init = "he"
[[layers]]
name = "fc"
type = "fc"
out = "classes"
reads = "all"
split = false
[[layers]]
name = "loss"
type = "softmax_loss"
)";
  const NetworkSpec spec = parse_network(text, "he.toml");
  auto std_of = [](const Plan& plan, const std::string& name) {
    for (const LogicalParam& p : plan.params)
      if (p.name == name) return p.init_std;
    return -1.0f;
  };
  Plan split = make_plan(spec, {.placement = Placement::kSplit});
  Plan dense = make_plan(spec, {.placement = Placement::kDense});
  EXPECT_FLOAT_EQ(std_of(split, "conv1.weight"), std::sqrt(2.0f / (4 * 9)));
  EXPECT_FLOAT_EQ(std_of(split, "conv2.weight"), std::sqrt(2.0f / (2 * 9)));  // reads its tower's 2 maps
  EXPECT_FLOAT_EQ(std_of(dense, "conv2.weight"), std::sqrt(2.0f / (4 * 9)));  // dense reads all 4
  EXPECT_FLOAT_EQ(std_of(split, "fc.weight"), 0.01f);                         // the default: normal, 0.01
}

// --- hybrid ---------------------------------------------------------------------------------------

Plan hybrid(Placement form, int workers) {
  return make_plan(preset("alexnet"), {.placement = form, .towers = 2, .hybrid_workers = workers});
}

const PlanNode& node_named(const Plan& plan, const std::string& name) {
  for (const PlanNode& n : plan.nodes)
    if (n.name == name) return n;
  ADD_FAILURE() << "no node " << name;
  return plan.nodes.front();
}

const LogicalParam& param_named(const Plan& plan, const std::string& name) {
  for (const LogicalParam& p : plan.params)
    if (p.name == name) return p;
  ADD_FAILURE() << "no parameter " << name;
  return plan.params.front();
}

TEST(HybridPlan, ConvPartWholeOnEveryWorkerFcPartShardedByOutputs) {
  Plan plan = hybrid(Placement::kDense, 4);
  EXPECT_EQ(plan.towers, 4);
  EXPECT_TRUE(plan.hybrid());
  // The function is the dense net's: same parameters, same MACs per image (each image's conv part
  // runs on one worker).
  Plan dense = placed("alexnet", Placement::kDense);
  EXPECT_EQ(plan.parameter_count(), dense.parameter_count());
  EXPECT_EQ(plan.macs_per_item(), dense.macs_per_item());
  EXPECT_EQ(exchanges(plan),
            (std::vector<std::string>{"exchange.fc6", "exchange.fc7", "exchange.fc8", "exchange.loss"}));
  const PlanNode& conv2 = node_named(plan, "conv2");
  EXPECT_EQ(conv2.in_spread, Spread::kBatch);
  EXPECT_EQ(conv2.out_batch_factor, 1);
  for (const TowerWork& w : conv2.tower) EXPECT_EQ(w.out, (Shape{256, 27, 27}));
  const PlanNode& gather = node_named(plan, "exchange.fc6");
  EXPECT_EQ(gather.in_spread, Spread::kBatch);
  EXPECT_EQ(gather.out_spread, Spread::kReplicated);
  EXPECT_EQ(gather.in_batch_factor, 1);
  EXPECT_EQ(gather.out_batch_factor, 4);
  const PlanNode& fc6 = node_named(plan, "fc6");
  EXPECT_EQ(fc6.out_spread, Spread::kSplit);
  EXPECT_EQ(fc6.out_batch_factor, 4);
  EXPECT_EQ(fc6.tower[3].in, (Shape{256, 6, 6}));  // all of pool5
  EXPECT_EQ(fc6.tower[3].out, (Shape{1024}));
  // fc8 says split = false, tower 0 (the 2012 code's); hybrid shards it too.
  EXPECT_EQ(node_named(plan, "fc8").tower[1].out, (Shape{250}));
  EXPECT_EQ(node_named(plan, "loss").out_spread, Spread::kOneTower);
  EXPECT_EQ(spread_name(Spread::kBatch), std::string("batch"));

  const LogicalParam& conv1 = param_named(plan, "conv1.weight");
  EXPECT_TRUE(conv1.replicated);
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(conv1.offset[t], 0);
    EXPECT_EQ(conv1.count[t], 96 * 3 * 11 * 11);
  }
  const LogicalParam& fc6w = param_named(plan, "fc6.weight");
  EXPECT_FALSE(fc6w.replicated);
  EXPECT_EQ(fc6w.offset[1], 1024 * 9216);
  EXPECT_EQ(fc6w.count[1], 1024 * 9216);
}

// Bytes per step are exchange_bytes_per_item times the per-worker batch B. The batch gather: each
// of K workers receives (K - 1) B pool5 maps (9216 floats); an fc gather: each receives the other
// workers' shares of K B items; the gather to the loss likewise (the others ignore theirs).
TEST(HybridPlan, ExchangeBytesForKWorkers) {
  for (int k : {2, 4, 8}) {
    Plan plan = hybrid(Placement::kDense, k);
    EXPECT_EQ(node_named(plan, "exchange.fc6").exchange_bytes_per_item, int64_t{k} * (k - 1) * 9216 * 4) << k;
    EXPECT_EQ(node_named(plan, "exchange.fc7").exchange_bytes_per_item, int64_t{k} * (k - 1) * 4096 * 4) << k;
    EXPECT_EQ(node_named(plan, "exchange.loss").exchange_bytes_per_item, int64_t{k} * (k - 1) * 1000 * 4)
        << k;
  }
  EXPECT_EQ(node_named(hybrid(Placement::kDense, 2), "exchange.fc6").exchange_bytes_per_item, 73728);
}

TEST(HybridPlan, SingleFormKeepsTheGroupsAndUnevenWidthsShareUnevenly) {
  Plan plan = hybrid(Placement::kSingle, 3);
  EXPECT_EQ(plan.parameter_count(), 60965224);
  EXPECT_EQ(plan.logical_towers, 2);
  const PlanNode& conv2 = node_named(plan, "conv2");
  for (const TowerWork& w : conv2.tower) {
    EXPECT_EQ(w.as<ConvConfig>().groups, 2);
    EXPECT_EQ(w.in, (Shape{96, 27, 27}));
  }
  const PlanNode& fc8 = node_named(plan, "fc8");
  EXPECT_EQ(fc8.tower[0].out, (Shape{333}));
  EXPECT_EQ(fc8.tower[2].out, (Shape{334}));
  EXPECT_EQ(param_named(plan, "fc8.bias").offset[2], 666);
}

TEST(HybridPlan, RefusesSplitAndExchange) {
  try {
    hybrid(Placement::kSplit, 2);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("runs the convolutional layers whole"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--placement single"), std::string::npos) << e.what();
  }
  PlanOptions o{.placement = Placement::kSingle, .hybrid_workers = 2};
  o.exchange = std::vector<std::string>{"fc6"};
  EXPECT_THROW(make_plan(preset("alexnet"), o), UserError);
  EXPECT_THROW(hybrid(Placement::kDense, 65), UserError);
}

}  // namespace
}  // namespace alexnet
