#include <gtest/gtest.h>

#include "comm/communicator.h"
#include "core/tensor.h"

namespace alexnet {
namespace {

const Stream kCpu;

TEST(LocalCommunicator, AllGatherConcatenatesInRankOrder) {
  auto comm = make_local_communicator({Device::cpu(), Device::cpu()});
  Tensor a = Tensor::from_host({2}, {1, 2}), b = Tensor::from_host({2}, {3, 4});
  Tensor ra({4}), rb({4});
  comm->all_gather({a.view(), b.view()}, {ra.view(), rb.view()}, {&kCpu, &kCpu});
  EXPECT_EQ(ra.to_host(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(rb.to_host(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(LocalCommunicator, ReduceScatterSumsEachTowersBlock) {
  auto comm = make_local_communicator({Device::cpu(), Device::cpu()});
  Tensor a = Tensor::from_host({4}, {1, 2, 3, 4}), b = Tensor::from_host({4}, {10, 20, 30, 40});
  Tensor ra({2}), rb({2});
  comm->reduce_scatter({a.view(), b.view()}, {ra.view(), rb.view()}, {&kCpu, &kCpu});
  EXPECT_EQ(ra.to_host(), (std::vector<float>{11, 22}));
  EXPECT_EQ(rb.to_host(), (std::vector<float>{33, 44}));
}

TEST(LocalCommunicator, AllReduceAndBroadcast) {
  auto comm = make_local_communicator({Device::cpu(), Device::cpu()});
  Tensor a = Tensor::from_host({2}, {1, 2}), b = Tensor::from_host({2}, {3, 5});
  comm->all_reduce({a.view(), b.view()}, {&kCpu, &kCpu});
  EXPECT_EQ(a.to_host(), (std::vector<float>{4, 7}));
  EXPECT_EQ(b.to_host(), (std::vector<float>{4, 7}));
  Tensor c = Tensor::from_host({2}, {9, 9});
  comm->broadcast(1, {a.view(), c.view()}, {&kCpu, &kCpu});
  EXPECT_EQ(a.to_host(), (std::vector<float>{9, 9}));
}

}  // namespace
}  // namespace alexnet
