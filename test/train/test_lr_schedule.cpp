// The learning-rate schedules: when each drops the rate, and that its memory travels in
// TrainState (so through checkpoints) without changing when it drops.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/errors.h"
#include "train/lr_schedule.h"

namespace alexnet {
namespace {

// Runs `errors` as successive epochs' errors from `state`; returns the lr after each epoch.
std::vector<double> run(const LrSchedule& s, const std::vector<double>& errors, TrainState& state,
                        int64_t first_epoch = 1) {
  std::vector<double> lr;
  for (size_t i = 0; i < errors.size(); ++i) {
    s.end_epoch(first_epoch + static_cast<int64_t>(i), errors[i], state);
    lr.push_back(state.lr);
  }
  return lr;
}

TEST(LrSchedule, PlateauDropsAfterPatienceBadEpochsAndResets) {
  LrSchedule s("plateau", 2, 30, 0.1);
  EXPECT_EQ(s.kind(), LrSchedule::Kind::kPlateau);
  TrainState state;
  state.lr = 0.01;
  // Improves, improves, then two epochs without improvement: drop. The count then starts again:
  // one bad epoch is not enough, an improvement resets it, two more bad ones drop again.
  std::vector<double> lr = run(s, {0.5, 0.4, 0.4, 0.45, 0.41, 0.3, 0.3, 0.3}, state);
  EXPECT_DOUBLE_EQ(lr[1], 0.01);
  EXPECT_DOUBLE_EQ(lr[2], 0.01);
  EXPECT_DOUBLE_EQ(lr[3], 0.001);
  EXPECT_DOUBLE_EQ(lr[4], 0.001);
  EXPECT_DOUBLE_EQ(lr[5], 0.001);
  EXPECT_DOUBLE_EQ(lr[6], 0.001);
  EXPECT_DOUBLE_EQ(lr[7], 0.0001);
  EXPECT_DOUBLE_EQ(state.best_val_error, 0.3);
  EXPECT_EQ(state.bad_epochs, 0);
}

TEST(LrSchedule, PlateauReportsTheDrop) {
  LrSchedule s("plateau", 1, 30, 0.5);
  TrainState state;
  state.lr = 1;
  EXPECT_FALSE(s.end_epoch(1, 0.5, state));
  EXPECT_TRUE(s.end_epoch(2, 0.5, state));
  EXPECT_DOUBLE_EQ(state.lr, 0.5);
}

TEST(LrSchedule, StepDropsEveryNEpochs) {
  LrSchedule s("step", 2, 3, 0.1);
  TrainState state;
  state.lr = 1;
  std::vector<double> lr = run(s, std::vector<double>(7, 0.9), state);
  EXPECT_EQ(lr, (std::vector<double>{1, 1, 0.1, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1}));
}

TEST(LrSchedule, FixedNeverDrops) {
  LrSchedule s("fixed", 1, 1, 0.1);
  TrainState state;
  state.lr = 0.01;
  std::vector<double> lr = run(s, {0.5, 0.5, 0.5, 0.5, 0.5}, state);
  EXPECT_EQ(lr, std::vector<double>(5, 0.01));
}

TEST(LrSchedule, ResumingFromSavedStateDropsAtTheSameEpoch) {
  LrSchedule s("plateau", 3, 30, 0.1);
  const std::vector<double> errors = {0.5, 0.4, 0.41, 0.42, 0.43, 0.44, 0.39, 0.40, 0.41, 0.42};
  TrainState straight;
  straight.lr = 0.01;
  std::vector<double> expect = run(s, errors, straight);
  // Stop after epoch 4 (two bad epochs counted), keep only the state a checkpoint holds, continue.
  TrainState first;
  first.lr = 0.01;
  std::vector<double> lr = run(s, {errors.begin(), errors.begin() + 4}, first);
  TrainState saved;
  saved.lr = first.lr;
  saved.best_val_error = first.best_val_error;
  saved.bad_epochs = first.bad_epochs;
  EXPECT_EQ(saved.bad_epochs, 2);
  std::vector<double> rest = run(s, {errors.begin() + 4, errors.end()}, saved, 5);
  lr.insert(lr.end(), rest.begin(), rest.end());
  EXPECT_EQ(lr, expect);
  EXPECT_DOUBLE_EQ(expect[4], 0.001);  // the drop falls after the resume point
}

TEST(LrSchedule, BadNamesAndCountsNameTheFlag) {
  try {
    LrSchedule("linear", 2, 30, 0.1);
    ADD_FAILURE() << "an unknown schedule was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("--schedule: unknown schedule 'linear'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(LrSchedule("plateau", 0, 30, 0.1), UserError);
  EXPECT_THROW(LrSchedule("step", 2, 0, 0.1), UserError);
  EXPECT_THROW(LrSchedule("cosine", 2, 30, 0.1, -0.5), UserError);
  EXPECT_THROW(LrSchedule("cosine", 2, 30, 0.1, std::nan("")), UserError);
}

// Cosine: the full rate at the first step, half of it half-way, falling to the last step's
// (1 + cos(pi (T - 1) / T)) / 2, never rising, and nothing at epoch ends.
TEST(LrSchedule, CosineAnnealsStepByStepToZero) {
  const LrSchedule s("cosine", 2, 30, 0.1);
  TrainState state;
  state.lr = 0.1;
  const int64_t per_epoch = 10, epochs = 4, total = per_epoch * epochs;
  EXPECT_DOUBLE_EQ(s.rate(0, per_epoch, epochs, state), 0.1);
  EXPECT_NEAR(s.rate(total / 2, per_epoch, epochs, state), 0.05, 1e-12);
  EXPECT_NEAR(s.rate(total - 1, per_epoch, epochs, state), 0.05 * (1 + std::cos(M_PI * 39 / 40)), 1e-15);
  EXPECT_LT(s.rate(total - 1, per_epoch, epochs, state), 0.1 * 0.002);
  for (int64_t step = 1; step < total; ++step)
    EXPECT_LT(s.rate(step, per_epoch, epochs, state), s.rate(step - 1, per_epoch, epochs, state)) << step;
  EXPECT_FALSE(s.end_epoch(1, 0.5, state));
  EXPECT_EQ(state.lr, 0.1);
}

// Warm-up: step s of W takes (s + 1) / W of the rate, then the schedule's own rate; on top of
// cosine it multiplies the annealed rate.
TEST(LrSchedule, WarmupRampsLinearlyOverItsSteps) {
  TrainState state;
  state.lr = 0.2;
  const LrSchedule step("step", 2, 30, 0.1, 0.5);  // half of a 10-step epoch: 5 steps
  for (int64_t i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(step.rate(i, 10, 3, state), 0.2 * (i + 1) / 5) << i;
  for (int64_t i = 5; i < 30; ++i) EXPECT_DOUBLE_EQ(step.rate(i, 10, 3, state), 0.2) << i;
  const LrSchedule cosine("cosine", 2, 30, 0.1, 0.5), plain("cosine", 2, 30, 0.1);
  EXPECT_DOUBLE_EQ(cosine.rate(2, 10, 3, state), plain.rate(2, 10, 3, state) * 3 / 5);
  EXPECT_DOUBLE_EQ(cosine.rate(7, 10, 3, state), plain.rate(7, 10, 3, state));
}

}  // namespace
}  // namespace alexnet
