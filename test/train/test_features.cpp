// Node outputs for `alexnet show` and `alexnet eval --features` (train/features.h): the logical
// shape of any node under every placement, the same outputs from split and single, and the .npy
// header numpy reads.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "data_testing.h"
#include "net/net_testing.h"
#include "train/checkpoint.h"
#include "train/features.h"

namespace alexnet {
namespace {

using Dims = std::vector<int64_t>;

TEST(Features, NodeShapesAreLogicalUnderEveryPlacement) {
  for (Placement p : {Placement::kSplit, Placement::kSingle, Placement::kDense}) {
    testing::PlacedNet placed = testing::place({.placement = p});
    const Net& net = *placed.net;
    EXPECT_EQ(node_item_shape(net, "conv1"), (Dims{32, 28, 28})) << placement_name(p);
    EXPECT_EQ(node_item_shape(net, "pool5"), (Dims{64, 2, 2})) << placement_name(p);
    EXPECT_EQ(node_item_shape(net, "relu7"), (Dims{256})) << placement_name(p);
    EXPECT_EQ(node_item_shape(net, "fc8"), (Dims{10})) << placement_name(p);
    EXPECT_EQ(node_item_shape(net, "loss"), (Dims{10})) << placement_name(p);
  }
}

TEST(Features, AnUnknownNodeIsAUserErrorListingTheNodes) {
  testing::PlacedNet placed = testing::place({.placement = Placement::kSplit});
  try {
    node_item_shape(*placed.net, "fc9");
    FAIL() << "no error";
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("no node named 'fc9'"), std::string::npos) << m;
    EXPECT_NE(m.find("conv1, relu1"), std::string::npos) << m;
    EXPECT_NE(m.find("relu7"), std::string::npos) << m;
  }
}

TEST(Features, SplitAndSingleGiveTheSameOutputs) {
  testing::TempDir dir;
  const std::string data_path = dir.file("d.h5");
  testing::write_test_dataset(data_path, 28, 1, 10, {{"train", 7}});
  DatasetReader data(data_path);
  testing::PlacedNet split = testing::place({.placement = Placement::kSplit, .batch = 4});
  testing::PlacedNet single = testing::place({.placement = Placement::kSingle, .batch = 4});
  const std::vector<int64_t> indices = {6, 0, 3, 5, 1};  // two batches, the second short
  std::vector<float> probs_split, probs_single;
  const auto a = node_outputs(*split.net, data, "train", indices, 28, "pool5", &probs_split);
  const auto b = node_outputs(*single.net, data, "train", indices, 28, "pool5", &probs_single);
  ASSERT_EQ(a.size(), 5u * 64 * 2 * 2);
  EXPECT_TRUE(testing::agree(a, b, 1e-4f));
  ASSERT_EQ(probs_split.size(), 50u);
  EXPECT_TRUE(testing::agree(probs_split, probs_single, 1e-4f));
  // Row i is image indices[i]'s, whatever batch it fell in: image 5 alone gives row 3.
  const auto alone = node_outputs(*split.net, data, "train", {5}, 28, "pool5");
  EXPECT_TRUE(testing::agree(std::vector<float>(a.begin() + 3 * 256, a.begin() + 4 * 256), alone, 1e-5f));
  double sum = 0;
  for (int k = 0; k < 10; ++k) sum += probs_split[k];
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

TEST(Features, NpyHeaderGivesTheShapeAndPadsTo64Bytes) {
  testing::TempDir dir;
  const std::vector<float> values(3 * 2 * 4, 1.5f);
  write_npy(dir.file("a.npy"), values, {3, 2, 4});
  std::ifstream in(dir.file("a.npy"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header = static_cast<uint8_t>(bytes[8]) | static_cast<uint8_t>(bytes[9]) << 8;
  EXPECT_EQ((10 + header) % 64, 0u);
  EXPECT_NE(bytes.find("'shape': (3, 2, 4)"), std::string::npos);
  EXPECT_EQ(bytes.size(), 10 + header + values.size() * 4);
  write_npy(dir.file("b.npy"), {1.0f, 2.0f}, {2});
  std::ifstream in1(dir.file("b.npy"), std::ios::binary);
  const std::string one((std::istreambuf_iterator<char>(in1)), {});
  EXPECT_NE(one.find("'shape': (2,)"), std::string::npos);  // a tuple of one
}

}  // namespace
}  // namespace alexnet
