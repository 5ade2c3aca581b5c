// Hybrid with one worker per process: two ranks (threads of this test, joined by Gloo through a
// file store, as comm/process_groups.h connects separate processes) each hold one tower and feed
// only their own B items and labels. What crosses processes here and nowhere in one process: the
// labels gathered for the loss on tower 0, the logical reads of replicated and sharded parameters,
// and the conv part's activations. All of it must equal one process holding both towers.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <thread>

#include "comm/process_groups.h"
#include "data/data_testing.h"
#include "net/net_testing.h"

namespace alexnet {
namespace {

using testing::agree;

constexpr int kPerWorker = 2;
constexpr int kWorkers = 2;

Plan hybrid_plan() {
  return make_plan(testing::preset_network("alexnet-mini"),
                   {.placement = Placement::kDense, .hybrid_workers = kWorkers});
}

// What one rank saw: rank 0 the loss, the probabilities and every parameter's gradient.
struct Seen {
  double loss = 0;
  std::vector<float> probabilities, conv1_activation;
  std::vector<std::vector<float>> grads;
  std::string error;
};

TEST(HybridProcesses, OneWorkerPerProcessEqualsOneProcessHoldingBoth) {
  testing::TempDir temp;
  const testing::TestBatch b = testing::mini_batch(kWorkers * kPerWorker, 3);
  const StepContext ctx{.training = true, .seed = testing::kNetSeed, .step = 2, .first_item = 8};

  // One process holding both workers: the reference.
  std::vector<Device> both(kWorkers, Device::cpu());
  std::unique_ptr<Communicator> local = make_communicator("local", both, false);
  Net whole(hybrid_plan(), both, local.get(), kPerWorker);
  whole.init_parameters(testing::kNetSeed);
  const double loss = whole.forward(b.images.view(), b.labels.data(), ctx);
  whole.backward(ctx);

  std::vector<Seen> seen(kWorkers);
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < kWorkers; ++rank) {
    ranks.emplace_back([&, rank] {
      try {
        LaunchInfo launch;
        launch.rank = launch.local_rank = rank;
        launch.world_size = kWorkers;
        launch.store_dir = temp.file("store");
        launch.source = "test";
        ProcessGroups groups = connect_cpu_groups(launch, make_rank_grid(kWorkers, rank, rank, kWorkers),
                                                  {.timeout = std::chrono::seconds(60)});
        Net net(hybrid_plan(), {Device::cpu()}, groups.tower.get(), kPerWorker);
        net.init_parameters(testing::kNetSeed);
        // This worker's B items and labels only.
        const int64_t item = b.images.numel() / (kWorkers * kPerWorker);
        ConstView mine{b.images.data() + rank * kPerWorker * item, {kPerWorker, 1, 28, 28}, Device::cpu()};
        Seen& s = seen[rank];
        s.loss = net.forward(mine, b.labels.data() + rank * kPerWorker, ctx);
        s.probabilities = net.activation("loss");
        s.conv1_activation = net.activation("conv1");  // collective: both ranks' items
        net.backward(ctx);
        for (const LogicalParam& p : net.plan().params) s.grads.push_back(net.read_param(p.name, true));
      } catch (const std::exception& e) {
        seen[rank].error = e.what();
      }
    });
  }
  for (std::thread& t : ranks) t.join();
  for (int rank = 0; rank < kWorkers; ++rank) ASSERT_EQ(seen[rank].error, "") << "rank " << rank;

  // Gloo sums in another order than the local communicator: float tolerance, as in test_hybrid.cpp.
  EXPECT_NEAR(seen[0].loss, loss, 1e-5 * std::abs(loss));
  EXPECT_EQ(seen[1].loss, 0.0);  // the loss lives on tower 0
  EXPECT_TRUE(agree(seen[0].probabilities, whole.activation("loss"), 1e-5f));
  EXPECT_TRUE(seen[1].probabilities.empty());
  for (const Seen& s : seen) EXPECT_EQ(s.conv1_activation, whole.activation("conv1"));
  const std::vector<LogicalParam>& params = whole.plan().params;
  for (const Seen& s : seen) {
    ASSERT_EQ(s.grads.size(), params.size());
    for (size_t p = 0; p < params.size(); ++p)
      EXPECT_TRUE(agree(s.grads[p], whole.read_param(params[p].name, true), 1e-5f)) << params[p].name;
  }
}

}  // namespace
}  // namespace alexnet
