// The learning-rate schedule. The paper's is `plateau`: divide the rate by ten when the
// validation error stops improving. `step` divides it every N epochs, `fixed` never; these three
// act at the end of an epoch. `cosine` anneals it step by step from --lr to 0 at the last step of
// the run, lr * (1 + cos(pi * step / steps)) / 2, for runs too short for a plateau to show
// (Loshchilov & Hutter, 2017). Any of them may start with a linear warm-up over the first
// --warmup-epochs (Goyal et al., 2017): step s of W steps takes (s + 1) / W of the rate.
// The name is parsed once, when the run starts; what the schedule remembers between epochs (the
// best error so far, the epochs since) lives in TrainState, so a checkpoint carries it and a
// resumed run drops the rate at the same epoch as one that ran straight through; the per-step
// factors are functions of the step alone.
#pragma once

#include <cstdint>
#include <string>

#include "train/checkpoint.h"

namespace alexnet {

struct RunConfig;

class LrSchedule {
 public:
  enum class Kind { kPlateau, kStep, kFixed, kCosine };

  // Throws UserError naming --schedule, --patience, --step-epochs or --warmup-epochs when one is
  // bad.
  LrSchedule(const std::string& name, int patience, int step_epochs, double factor, double warmup_epochs = 0);
  static LrSchedule from_config(const RunConfig& config);

  Kind kind() const { return kind_; }

  // At the end of epoch `epochs_done` (1-based), with that epoch's error (validation top-1, or
  // training loss when there is no val split): updates state.lr and the plateau bookkeeping in
  // `state`. Returns true when the rate dropped.
  bool end_epoch(int64_t epochs_done, double error, TrainState& state) const;

  // The rate for step `step` (0-based) of a run of `epochs` epochs of `steps_per_epoch` steps:
  // state.lr with the warm-up and the cosine factors applied.
  double rate(int64_t step, int64_t steps_per_epoch, int64_t epochs, const TrainState& state) const;

 private:
  Kind kind_;
  int patience_, step_epochs_;
  double factor_, warmup_epochs_;
};

}  // namespace alexnet
