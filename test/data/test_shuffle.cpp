// The one Philox shuffle gives the orders that the loader and `pack --shuffle` gave before it was
// shared (known answers from the two loops it replaced): a run's batches and a packed file's
// held-out split depend on them.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "data/shuffle.h"

namespace alexnet {
namespace {

TEST(PhiloxShuffle, LoaderEpochOrderIsUnchanged) {
  std::vector<int64_t> order(12);
  std::iota(order.begin(), order.end(), 0);
  philox_shuffle(order, 1, rng_subsequence(RngPurpose::kShuffle, 3, 0));  // seed 1, epoch 3
  EXPECT_EQ(order, (std::vector<int64_t>{0, 11, 2, 8, 6, 4, 9, 1, 3, 5, 7, 10}));
}

TEST(PhiloxShuffle, PackSplitOrderIsUnchanged) {
  std::vector<int> items(12);
  std::iota(items.begin(), items.end(), 0);
  philox_shuffle(items, 7, rng_subsequence(RngPurpose::kShuffle, 0xFFFF00u + 1, 0));  // seed 7, split 1
  EXPECT_EQ(items, (std::vector<int>{9, 2, 8, 0, 11, 6, 3, 7, 1, 10, 4, 5}));
}

TEST(PhiloxShuffle, APermutationThatDependsOnTheKey) {
  std::vector<int> a(1000), b;
  std::iota(a.begin(), a.end(), 0);
  b = a;
  philox_shuffle(a, 1, 5);
  philox_shuffle(b, 2, 5);
  EXPECT_NE(a, b);
  std::sort(a.begin(), a.end());
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a[i], i);
  std::vector<int> one = {42}, none;
  philox_shuffle(one, 1, 5);
  philox_shuffle(none, 1, 5);
  EXPECT_EQ(one, std::vector<int>{42});
}

}  // namespace
}  // namespace alexnet
