// Krizhevsky's 2014 hybrid computes the function of one tower on the global batch: K workers, each
// running the conv part whole on its own B items and a K-th of every fc layer on all K B items,
// against the one-device form (dense, or the two-tower net's `single`) at batch K B, from one seed,
// dropout on. All K towers live in this process, joined by the local communicator.
//
// Tolerances. The fc part computes the same dot products as the one-tower net, but a GEMM of
// another shape (a K-th of the rows) may block its sums differently, so it is not bitwise. Each
// conv gradient is a sum of K partial sums of B items each instead of one sum over K B items: the
// same terms in another order, a relative difference of a few float epsilons times log(K B)
// (~1e-6). Forward values and one step's gradients therefore agree to 1e-4 (the split-vs-single
// tests' bound, with its absolute floor of 1e-6 times the tensor's largest magnitude); five SGD
// steps (lr 0.01, momentum 0.9) feed those differences back through every layer, and 1e-3 leaves
// a wide margin over what they grow to while still failing on any wrong item, share or gradient
// (those move values by percents).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/errors.h"
#include "net/net_testing.h"
#include "train/sgd.h"

namespace alexnet {
namespace {

using testing::agree;
using testing::PlacedNet;
using Batch = testing::TestBatch;

constexpr int kPerWorker = 2;  // B: items per worker
constexpr uint64_t kSeed = testing::kNetSeed;

NetworkSpec mini() {
  return testing::preset_network("alexnet-mini");
}

// K workers of the `form` (dense or single) net, all in this process.
PlacedNet hybrid(Placement form, int workers, const NetworkSpec& spec = mini()) {
  Plan plan = make_plan(spec, {.placement = form, .towers = 2, .hybrid_workers = workers});
  std::vector<Device> devices(workers, Device::cpu());
  PlacedNet p;
  if (workers > 1) p.comm = make_communicator("local", devices, false);
  p.net = std::make_unique<Net>(std::move(plan), devices, p.comm.get(), kPerWorker);
  p.net->init_parameters(kSeed);
  return p;
}

// The same form on one device at the global batch.
PlacedNet one_tower(Placement form, int workers) {
  return testing::place(mini(), {.placement = form, .towers = 2, .batch = workers * kPerWorker});
}

struct Case {
  Placement form;
  int workers;
};

class HybridVsOneTower : public ::testing::TestWithParam<Case> {};
using HybridSteps = HybridVsOneTower;  // the slow one: K = 2 and 4 only

TEST_P(HybridVsOneTower, InitialParametersAreBitForBitTheOneTowerNets) {
  const Case c = GetParam();
  PlacedNet h = hybrid(c.form, c.workers), one = one_tower(c.form, c.workers);
  ASSERT_EQ(h.net->towers(), c.workers);
  EXPECT_EQ(h.net->batch(), kPerWorker);
  for (const LogicalParam& p : one.net->plan().params)
    EXPECT_EQ(h.net->read_param(p.name), one.net->read_param(p.name)) << p.name;
}

TEST_P(HybridVsOneTower, ForwardAndBackwardAgreeWithDropoutOn) {
  const Case c = GetParam();
  const int global = c.workers * kPerWorker;
  PlacedNet h = hybrid(c.form, c.workers), one = one_tower(c.form, c.workers);
  Batch b = testing::mini_batch(global, 1);
  StepContext ctx{.training = true, .seed = kSeed, .step = 0};
  const double loss_h = h.net->forward(b.images.view(), b.labels.data(), ctx);
  const double loss_one = one.net->forward(b.images.view(), b.labels.data(), ctx);
  EXPECT_NEAR(loss_h, loss_one, 1e-4 * std::abs(loss_one));
  // The conv part's maps, every worker's items in order; the logits and probabilities of all K B.
  EXPECT_TRUE(agree(h.net->activation("pool5"), one.net->activation("pool5"), 1e-4f));
  EXPECT_TRUE(agree(h.net->activation("fc8"), one.net->activation("fc8"), 1e-4f));
  std::vector<float> probabilities = h.net->activation("loss");
  EXPECT_EQ(probabilities.size(), static_cast<size_t>(global * 10));
  EXPECT_TRUE(agree(probabilities, one.net->activation("loss"), 1e-4f));
  // Dropout really was on, with the one-tower net's masks: keyed by logical feature and item.
  std::vector<float> dropped = one.net->activation("drop7");
  int zeros = 0;
  for (float v : dropped) zeros += v == 0.0f;
  EXPECT_GT(zeros, static_cast<int>(dropped.size() / 10));
  EXPECT_TRUE(agree(h.net->activation("drop7"), dropped, 1e-4f));

  h.net->backward(ctx);
  one.net->backward(ctx);
  for (const LogicalParam& p : one.net->plan().params) {
    EXPECT_TRUE(agree(h.net->read_param(p.name, true), one.net->read_param(p.name, true), 1e-4f)) << p.name;
  }
  // Every worker holds the whole conv gradient after backward (what its optimizer updates with).
  const std::vector<float> tower0(h.net->grads(0).data, h.net->grads(0).data + 100);
  for (int t = 1; t < c.workers; ++t)
    EXPECT_EQ(std::vector<float>(h.net->grads(t).data, h.net->grads(t).data + 100), tower0) << "tower " << t;
}

TEST_P(HybridSteps, LossLogitsAndParametersAgreeAfterFiveSgdSteps) {
  const Case c = GetParam();
  const int global = c.workers * kPerWorker;
  PlacedNet h = hybrid(c.form, c.workers), one = one_tower(c.form, c.workers);
  Sgd sgd_h(*h.net, {.learning_rate = 0.01f}), sgd_one(*one.net, {.learning_rate = 0.01f});
  for (uint64_t step = 0; step < 5; ++step) {
    Batch b = testing::mini_batch(global, 10 + step);
    // A later group of the global batch: the draws follow the item's global index.
    StepContext ctx{.training = true, .seed = kSeed, .step = step, .first_item = 3 * step};
    const double loss_h = h.net->forward(b.images.view(), b.labels.data(), ctx);
    const double loss_one = one.net->forward(b.images.view(), b.labels.data(), ctx);
    EXPECT_NEAR(loss_h, loss_one, 1e-3 * std::abs(loss_one)) << "step " << step;
    EXPECT_TRUE(agree(h.net->activation("fc8"), one.net->activation("fc8"), 1e-3f)) << "step " << step;
    h.net->backward(ctx);
    one.net->backward(ctx);
    sgd_h.step();
    sgd_one.step();
  }
  EXPECT_NE(one.net->read_param("conv1.weight"),
            one_tower(c.form, c.workers).net->read_param("conv1.weight"));
  for (const LogicalParam& p : one.net->plan().params)
    EXPECT_TRUE(agree(h.net->read_param(p.name), one.net->read_param(p.name), 1e-3f)) << p.name;
}

// Checkpoints stay logical: the one-tower net's tensors written into a hybrid net read back bit
// for bit, and the two then compute the same function.
TEST_P(HybridVsOneTower, LogicalTensorsRoundTripThroughTheHybridLayout) {
  const Case c = GetParam();
  PlacedNet h = hybrid(c.form, c.workers), one = one_tower(c.form, c.workers);
  one.net->init_parameters(kSeed + 1);  // other weights than the hybrid net's
  for (const LogicalParam& p : one.net->plan().params) {
    const std::vector<float> values = one.net->read_param(p.name);
    h.net->write_param(p.name, values);
    EXPECT_EQ(h.net->read_param(p.name), values) << p.name;
  }
  Batch b = testing::mini_batch(c.workers * kPerWorker, 4);
  StepContext ctx{.training = false};
  const double a = h.net->forward(b.images.view(), b.labels.data(), ctx);
  const double d = one.net->forward(b.images.view(), b.labels.data(), ctx);
  EXPECT_NEAR(a, d, 1e-4 * std::abs(d));
}

// K = 3 shares fc6 and fc7's 256 outputs and fc8's 10 unevenly (85 + 85 + 86, 3 + 3 + 4).
INSTANTIATE_TEST_SUITE_P(Workers, HybridVsOneTower,
                         ::testing::Values(Case{Placement::kDense, 2}, Case{Placement::kDense, 4},
                                           Case{Placement::kSingle, 2}, Case{Placement::kSingle, 4},
                                           Case{Placement::kDense, 3}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(placement_name(info.param.form)) + "K" +
                                  std::to_string(info.param.workers);
                         });

INSTANTIATE_TEST_SUITE_P(Workers, HybridSteps,
                         ::testing::Values(Case{Placement::kDense, 2}, Case{Placement::kDense, 4},
                                           Case{Placement::kSingle, 2}, Case{Placement::kSingle, 4}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(placement_name(info.param.form)) + "K" +
                                  std::to_string(info.param.workers);
                         });

// A dropout in the conv part keys worker t's items by their global index, first_item + t B (the
// fc layer's 3 outputs also share unevenly over 2 workers: 1 + 2).
TEST(Hybrid, DropoutInTheConvPartKeysTheGlobalItem) {
  const NetworkSpec spec = parse_network(R"(
[net]
name = "conv-dropout"
input = [1, 8, 8]
classes = 3
[[layers]]
name = "conv1"
type = "conv"
out = 4
kernel = 3
reads = "all"
weight_init = "he"
[[layers]]
name = "drop1"
type = "dropout"
p = 0.5
[[layers]]
name = "fc"
type = "fc"
out = "classes"
reads = "all"
weight_init = "he"
[[layers]]
name = "loss"
type = "softmax_loss"
)",
                                         "conv-dropout.toml");
  PlacedNet h = hybrid(Placement::kDense, 2, spec);
  PlacedNet one = testing::place(spec, {.placement = Placement::kDense, .batch = 2 * kPerWorker});
  Tensor images = testing::random_tensor({2 * kPerWorker, 1, 8, 8}, 3, 0.0f, 1.0f);
  std::vector<int32_t> labels = {0, 2, 1, 2};
  StepContext ctx{.training = true, .seed = kSeed, .step = 1, .first_item = 6};
  const double a = h.net->forward(images.view(), labels.data(), ctx);
  const double d = one.net->forward(images.view(), labels.data(), ctx);
  EXPECT_NEAR(a, d, 1e-5 * std::abs(d));
  EXPECT_TRUE(agree(h.net->activation("drop1"), one.net->activation("drop1"), 1e-5f));  // the same masks
  h.net->backward(ctx);
  one.net->backward(ctx);
  for (const LogicalParam& p : one.net->plan().params)
    EXPECT_TRUE(agree(h.net->read_param(p.name, true), one.net->read_param(p.name, true), 1e-4f)) << p.name;
}

// node_done (which starts a replica group's all-reduce) reports the conv part only once its
// gradients are the sum over the workers, and reports every layer node once.
TEST(Hybrid, NodeDoneSeesTheSummedConvGradients) {
  PlacedNet h = hybrid(Placement::kDense, 2);
  Batch b = testing::mini_batch(2 * kPerWorker, 6);
  StepContext ctx{.training = true, .seed = kSeed};
  h.net->forward(b.images.view(), b.labels.data(), ctx);
  const Plan& plan = h.net->plan();
  std::vector<float> conv1_at_done;
  std::vector<int> reported(plan.nodes.size(), 0);
  h.net->backward(ctx, [&](size_t node) {
    ++reported[node];
    if (plan.nodes[node].name == "conv1") conv1_at_done = h.net->read_param("conv1.weight", true);
  });
  EXPECT_EQ(conv1_at_done, h.net->read_param("conv1.weight", true));
  for (size_t i = 0; i < plan.nodes.size(); ++i)
    EXPECT_EQ(reported[i], plan.nodes[i].kind == PlanNode::Kind::kLayer ? 1 : 0) << plan.nodes[i].name;
}

// One worker: the plan's exchanges are copies, and the net is the dense one.
TEST(Hybrid, OneWorkerIsTheOneTowerNet) {
  PlacedNet h = hybrid(Placement::kDense, 1), one = one_tower(Placement::kDense, 1);
  Batch b = testing::mini_batch(kPerWorker, 7);
  StepContext ctx{.training = true, .seed = kSeed};
  const double a = h.net->forward(b.images.view(), b.labels.data(), ctx);
  const double d = one.net->forward(b.images.view(), b.labels.data(), ctx);
  EXPECT_NEAR(a, d, 1e-5 * std::abs(d));
}

TEST(Hybrid, WantsTheHeldWorkersItems) {
  PlacedNet h = hybrid(Placement::kDense, 2);
  Batch b = testing::mini_batch(kPerWorker, 1);  // one worker's items only
  StepContext ctx;
  try {
    h.net->forward(b.images.view(), b.labels.data(), ctx);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("[4, 1, 28, 28]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace alexnet
