#include "train/lr_schedule.h"

#include "core/errors.h"
#include "train/run_config.h"

namespace alexnet {

namespace {

LrSchedule::Kind parse_kind(const std::string& name) {
  if (name == "plateau") return LrSchedule::Kind::kPlateau;
  if (name == "step") return LrSchedule::Kind::kStep;
  if (name == "fixed") return LrSchedule::Kind::kFixed;
  throw UserError("--schedule: unknown schedule '" + name + "' (expected plateau, step or fixed)");
}

}  // namespace

LrSchedule::LrSchedule(const std::string& name, int patience, int step_epochs, double factor)
    : kind_(parse_kind(name)), patience_(patience), step_epochs_(step_epochs), factor_(factor) {
  if (patience < 1) throw UserError("--patience must be at least 1, got " + std::to_string(patience));
  if (step_epochs < 1)
    throw UserError("--step-epochs must be at least 1, got " + std::to_string(step_epochs));
}

LrSchedule LrSchedule::from_config(const RunConfig& c) {
  return LrSchedule(c.schedule, c.patience, c.step_epochs, c.lr_factor);
}

bool LrSchedule::end_epoch(int64_t epochs_done, double error, TrainState& s) const {
  switch (kind_) {
    case Kind::kFixed:
      return false;
    case Kind::kStep:
      if (epochs_done % step_epochs_ != 0) return false;
      s.lr *= factor_;
      return true;
    case Kind::kPlateau:
      // An improvement smaller than rounding noise is no improvement.
      if (error < s.best_val_error - 1e-9) {
        s.best_val_error = error;
        s.bad_epochs = 0;
        return false;
      }
      if (++s.bad_epochs < patience_) return false;
      s.lr *= factor_;
      s.bad_epochs = 0;
      return true;
  }
  return false;
}

}  // namespace alexnet
