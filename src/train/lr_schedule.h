// The learning-rate schedule, applied at the end of each epoch. The paper's is `plateau`: divide
// the rate by ten when the validation error stops improving. `step` divides it every N epochs,
// `fixed` never. The name is parsed once, when the run starts; what the schedule remembers between
// epochs (the best error so far, the epochs since) lives in TrainState, so a checkpoint carries it
// and a resumed run drops the rate at the same epoch as one that ran straight through.
#pragma once

#include <cstdint>
#include <string>

#include "train/checkpoint.h"

namespace alexnet {

struct RunConfig;

class LrSchedule {
 public:
  enum class Kind { kPlateau, kStep, kFixed };

  // Throws UserError naming --schedule, --patience or --step-epochs when one is bad.
  LrSchedule(const std::string& name, int patience, int step_epochs, double factor);
  static LrSchedule from_config(const RunConfig& config);

  Kind kind() const { return kind_; }

  // At the end of epoch `epochs_done` (1-based), with that epoch's error (validation top-1, or
  // training loss when there is no val split): updates state.lr and the plateau bookkeeping in
  // `state`. Returns true when the rate dropped.
  bool end_epoch(int64_t epochs_done, double error, TrainState& state) const;

 private:
  Kind kind_;
  int patience_, step_epochs_;
  double factor_;
};

}  // namespace alexnet
