// A checkpoint holds logical tensors, so one written under `split` loads under `single` and the
// other way round: the same parameters and momentum element for element, the same loss on a batch,
// and the same training state.
#include <gtest/gtest.h>

#include <cmath>

#include "data_testing.h"
#include "net/net_testing.h"
#include "train/checkpoint.h"
#include "train/sgd.h"

namespace alexnet {
namespace {

constexpr int kBatch = 4;

// A placed net with its optimizer.
struct Placed {
  testing::PlacedNet placed;
  std::unique_ptr<Sgd> sgd;
  Net* net;
};

Placed place(Placement placement, uint64_t seed) {
  Placed p{testing::place({.placement = placement, .batch = kBatch, .seed = seed}), nullptr, nullptr};
  p.net = p.placed.net.get();
  p.sgd = std::make_unique<Sgd>(*p.net, SgdConfig{.learning_rate = 0.01f});
  return p;
}

using Inputs = testing::TestBatch;

Inputs inputs(uint64_t seed) {
  return testing::mini_batch(kBatch, seed);
}

double train_step(Placed& p, const Inputs& b, uint64_t step) {
  StepContext ctx{.training = true, .seed = 5, .step = step};
  double loss = p.net->forward(b.images.view(), b.labels.data(), ctx);
  p.net->backward(ctx);
  p.sgd->step();
  return loss;
}

std::vector<float> velocity(const Placed& p, const std::string& name) {
  std::vector<ConstView> flat;
  for (int t = 0; t < p.net->towers(); ++t) flat.push_back(static_cast<const Sgd&>(*p.sgd).velocity(t));
  return p.net->gather(name, flat);
}

void expect_same_after_reload(Placement from, Placement to) {
  testing::TempDir dir;
  const std::string path = dir.file("step-2.h5");
  // Two SGD steps so that the weights have moved and the momentum is not zero.
  Placed a = place(from, 11);
  train_step(a, inputs(1), 0);
  train_step(a, inputs(2), 1);
  TrainState saved{
      .step = 2, .epoch = 1, .position = 3, .seed = 11, .lr = 0.001, .best_val_error = 0.25, .bad_epochs = 1};
  save_checkpoint(path, *a.net, a.sgd.get(), saved);

  Placed b = place(to, 999);  // other initial weights, all to be overwritten
  TrainState loaded = load_checkpoint(path, *b.net, b.sgd.get());
  EXPECT_EQ(loaded.step, 2);
  EXPECT_EQ(loaded.epoch, 1);
  EXPECT_EQ(loaded.position, 3);
  EXPECT_EQ(loaded.seed, 11u);
  EXPECT_EQ(loaded.lr, 0.001);
  EXPECT_EQ(loaded.best_val_error, 0.25);
  EXPECT_EQ(loaded.bad_epochs, 1);
  ASSERT_EQ(a.net->plan().params.size(), b.net->plan().params.size());
  for (const LogicalParam& p : a.net->plan().params) {
    EXPECT_EQ(a.net->read_param(p.name), b.net->read_param(p.name)) << p.name;
    EXPECT_EQ(velocity(a, p.name), velocity(b, p.name)) << p.name;
  }
  // The same function: the same loss on a new batch with the same dropout draws, and the same
  // next step.
  const Inputs next = inputs(3);
  const double la = train_step(a, next, 2), lb = train_step(b, next, 2);
  EXPECT_TRUE(std::isfinite(la));
  EXPECT_NEAR(la, lb, 1e-5 * std::abs(la));
  EXPECT_TRUE(
      testing::all_close(a.net->read_param("fc8.weight"), b.net->read_param("fc8.weight"), 1e-6f, 1e-4f));
}

TEST(CheckpointPlacement, SplitLoadsIntoSingle) {
  expect_same_after_reload(Placement::kSplit, Placement::kSingle);
}

TEST(CheckpointPlacement, SingleLoadsIntoSplit) {
  expect_same_after_reload(Placement::kSingle, Placement::kSplit);
}

TEST(CheckpointPlacement, WriteLeavesNoTemporaryFile) {
  testing::TempDir dir;
  Placed a = place(Placement::kSplit, 1);
  save_checkpoint(dir.file("checkpoints/step-0.h5"), *a.net, a.sgd.get(), TrainState{});
  EXPECT_TRUE(std::filesystem::exists(dir.file("checkpoints/step-0.h5")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("checkpoints/step-0.h5.partial")));
}

}  // namespace
}  // namespace alexnet
